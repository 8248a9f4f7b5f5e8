"""Log axes are labelled at powers of ten (and 2, 5 times them when less than two decades show)."""

from math import log10

import pytest

from gui.widgets.log_axis import DecadeLogAxis


@pytest.mark.parametrize(("low", "high", "labelled"), [
    (0.0009, 0.05, [0.001, 0.01]),
    (0.0015, 0.012, [0.002, 0.005, 0.01]),
    (2e-5, 20.0, [1e-4, 1e-3, 1e-2, 0.1, 1.0, 10.0]),
])
def test_labelled_ticks(qtbot, low, high, labelled):
    axis = DecadeLogAxis("left")
    levels = axis.logTickValues(log10(low), log10(high), 300, [])
    assert [round(10 ** v, 12) for v in levels[0][1]] == pytest.approx(labelled)
    assert all(round(10 ** v, 12) not in labelled for v in levels[1][1])  # the rest: unlabelled ticks
    assert axis.style["maxTextLevel"] == 0
