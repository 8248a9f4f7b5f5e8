"""The suite's own guard: a test that leaves a thread running fails, a QThread included."""

from pathlib import Path

pytest_plugins = ["pytester"]

CONFTEST = Path(__file__).with_name("conftest.py")

INNER_TESTS = '''
import threading

from PySide6.QtCore import QThread

kept = []


def test_stops_what_it_starts():
    thread = QThread()
    thread.start()
    thread.quit()
    assert thread.wait(5000)


def test_leaves_a_qthread_running():
    thread = QThread()  # runs an event loop until told to quit
    thread.start()
    kept.append(thread)


def test_leaves_a_daemon_thread_running():
    stop = threading.Event()
    kept.append(stop)
    threading.Thread(target=stop.wait, name="forgotten", daemon=True).start()


def test_after_them_all_is_clean_again():
    assert not kept[0].isRunning()  # the guard stopped the QThread it found
    kept[1].set()
'''


def test_the_guard_fails_tests_that_leave_threads_running(pytester):
    pytester.makeconftest(CONFTEST.read_text(encoding="utf-8"))
    pytester.makepyfile(test_inner=INNER_TESTS)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q")
    outcomes = result.parseoutcomes()
    assert outcomes.get("passed") == 4 and outcomes.get("errors") == 2, result.stdout.str()
    report = result.stdout.str()
    first, second = report.split("ERROR at teardown of test_leaves_a_daemon_thread_running")
    assert "ERROR at teardown of test_leaves_a_qthread_running" in first
    assert "a QThread still running, started at:" in first and "in test_leaves_a_qthread_running" in first
    assert "threads still running: ['forgotten']" in second
