"""Test-wide set-up: Qt headless, and a failure for any test that leaves a thread running."""

import os
import threading

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


@pytest.fixture(autouse=True)
def _no_thread_left_behind():
    before = {t.ident for t in threading.enumerate()}
    yield
    leaked = [t for t in threading.enumerate() if t.ident not in before and t.is_alive()
              and not t.daemon]
    assert not leaked, f"test left threads running: {[t.name for t in leaked]}"
