"""The suite's guard against silent errors: an exception in a Qt slot (pytest-qt's capture, on by
default and not turned off here) and a traceback printed to stderr each fail the test."""

from pathlib import Path

pytest_plugins = ["pytester"]

CONFTEST = Path(__file__).with_name("conftest.py")

INNER_TESTS = '''
import sys
import traceback

from PySide6.QtCore import QObject, Signal


class Emitter(QObject):
    fired = Signal()


def test_a_slot_that_raises(qtbot):
    emitter = Emitter()
    emitter.fired.connect(lambda: 1 / 0)
    emitter.fired.emit()


def test_a_traceback_printed_to_stderr():
    try:
        1 / 0
    except ZeroDivisionError:
        traceback.print_exc()


def test_quiet_and_sound():
    print("a line on stderr that is no traceback", file=sys.stderr)
'''


def test_silent_errors_fail_their_test(pytester):
    pytester.makeconftest(CONFTEST.read_text(encoding="utf-8"))
    pytester.makepyfile(test_inner=INNER_TESTS)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q")
    outcomes = result.parseoutcomes()
    assert outcomes.get("passed") == 1 and outcomes.get("failed") == 2, result.stdout.str()
    report = result.stdout.str()
    assert "FAILED test_inner.py::test_a_slot_that_raises" in report
    assert "FAILED test_inner.py::test_a_traceback_printed_to_stderr" in report
    assert "a traceback reached stderr during this test" in report
