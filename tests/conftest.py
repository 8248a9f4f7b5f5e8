"""Test-wide set-up: Qt headless, and a failure for any test that leaves a thread running.

A thread a test leaves behind runs on into later tests (a QThread still emitting into deleted
widgets is how GUI suites crash at random), so each test must stop what it started. Python threads
are seen by ``threading``; a running ``QThread`` is not reliably (it shows up only while it runs
Python code, as a daemon "Dummy" thread), so ``QThread.start`` is watched as napari's
``_dangling_qthreads`` fixture does, and the global thread pool must be idle.
"""

import os
import threading
import traceback
import weakref

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

try:
    from PySide6.QtCore import QThread, QThreadPool
except ImportError:  # the headless packages' tests still run without Qt
    QThread = QThreadPool = None

_QTHREAD_GRACE_MS = 5_000  # a stray QThread gets this long to stop before the next test starts


@pytest.fixture(autouse=True)
def _no_thread_left_behind(monkeypatch):
    before = {t.ident for t in threading.enumerate()}
    started_qthreads = _watch_qthread_starts(monkeypatch)
    yield
    leaked = [t.name for t in threading.enumerate() if t.ident not in before and t.is_alive()
              and not isinstance(t, threading._DummyThread)]  # foreign threads: the QThread check's
    running = []
    for qthread, where in list(started_qthreads.items()):
        try:
            if qthread.isRunning():
                running.append((qthread, where))
        except RuntimeError:  # its C++ object is gone, so it is not running
            continue
    for qthread, _ in running:  # stop it, so that it cannot crash the tests that follow
        qthread.quit()
        qthread.wait(_QTHREAD_GRACE_MS)
    busy_pool = QThreadPool is not None and QThreadPool.globalInstance().activeThreadCount() > 0
    problems = []
    if leaked:
        problems.append(f"threads still running: {leaked}")
    for qthread, where in running:
        problems.append(f"a {type(qthread).__name__} still running, started at:\n{where}")
    if busy_pool:
        problems.append("QThreadPool.globalInstance() still has active threads")
    assert not problems, "test left threads running:\n" + "\n".join(problems)


def _watch_qthread_starts(monkeypatch) -> "weakref.WeakKeyDictionary":
    """Every QThread started during the test (weakly held), with where it was started."""
    started = weakref.WeakKeyDictionary()
    if QThread is None:
        return started
    original_start = QThread.start

    def start_and_remember(self, *args, **kwargs):
        started[self] = "".join(traceback.format_stack(limit=6)[:-1])
        return original_start(self, *args, **kwargs)

    monkeypatch.setattr(QThread, "start", start_and_remember)
    return started


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """A test during which a traceback reached stderr fails, even if its assertions held: an
    exception nobody caught (a worker thread's, a slot's that Qt printed, a warning turned loud)."""
    report = yield
    if report.when == "call" and report.passed and TRACEBACK in report.capstderr:
        report.outcome = "failed"
        report.longrepr = "a traceback reached stderr during this test:\n" + report.capstderr[-4000:]
    return report


TRACEBACK = "Traceback (most recent call last)"
