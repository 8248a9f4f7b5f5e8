"""The collector pause: no automatic cyclic collection while a worker allocates in bulk (a full
collection holds the GIL for 100-300 ms, so it froze the window), and the collector back on after."""

import gc
import threading

import pytest

from trainers import datasets
from trainers.collector import collector_paused


@pytest.fixture
def collector_on():
    was = gc.isenabled()
    gc.enable()
    yield
    if not was:
        gc.disable()


def test_a_pause_turns_the_collector_off_and_back_on(collector_on):
    with collector_paused():
        assert not gc.isenabled()
        with collector_paused():  # nested
            assert not gc.isenabled()
        assert not gc.isenabled()  # the outer pause still holds
    assert gc.isenabled()


def test_the_collector_runs_again_only_when_the_last_of_several_threads_ends_its_pause(collector_on):
    inside, leave = threading.Event(), threading.Event()

    def pausing():
        with collector_paused():
            inside.set()
            leave.wait(30)

    other = threading.Thread(target=pausing)
    other.start()
    try:
        assert inside.wait(30)
        with collector_paused():
            pass
        assert not gc.isenabled()  # the other thread's pause is still under way
    finally:
        leave.set()
        other.join(30)
    assert not other.is_alive() and gc.isenabled()


def test_a_pause_leaves_a_collector_that_was_off_off():
    was = gc.isenabled()
    gc.disable()
    try:
        with collector_paused():
            pass
        assert not gc.isenabled()
    finally:
        if was:
            gc.enable()


def test_a_csv_is_parsed_with_the_collector_paused_even_when_it_is_refused(tmp_path, monkeypatch, collector_on):
    seen = []
    parse_rows = datasets._csv_rows

    def recording(text, file):
        seen.append(gc.isenabled())
        return parse_rows(text, file)

    monkeypatch.setattr(datasets, "_csv_rows", recording)
    good = tmp_path / "good.csv"  # text labels: read row by row (plain numbers go to numpy)
    good.write_text("a,b,y\n" + "".join(f"{i},{i % 3},{('cat', 'dog')[i % 2]}\n" for i in range(50)))
    assert datasets.load_dataset("csv", path=str(good), val_fraction=0).x_train.shape == (50, 2)
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b,y\n1,2\n")
    with pytest.raises(datasets.ConfigError, match="2 fields"):
        datasets.load_dataset("csv", path=str(bad), val_fraction=0)
    assert seen == [False, False] and gc.isenabled()
