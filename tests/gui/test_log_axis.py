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


def labels(axis, low: float, high: float, size: int) -> list[str]:
    values = axis.logTickValues(log10(low), log10(high), size, [])[0][1]
    return axis.logTickStrings(values, 1.0, 1.0)


def test_thirty_decades_on_a_short_axis_label_every_kth_decade(qtbot):
    axis = DecadeLogAxis("left")
    shown = labels(axis, 1e-17, 1e14, 220)  # the Simulator's loss axis on preset 9
    assert 2 <= len(shown) <= 220 // 22  # as many as fit, one line of text apart
    assert "10⁻¹⁶" in shown or "10⁻¹⁵" in shown or "10⁻¹²" in shown
    levels = axis.logTickValues(log10(1e-17), log10(1e14), 220, [])
    assert len(levels[0][1]) + len(levels[1][1]) == 32  # every decade still has its tick


@pytest.mark.parametrize(("low", "high"), [(0.31, 0.68), (2.05, 2.4), (0.6931, 0.6935)])
def test_a_narrow_range_gets_several_distinct_round_labels(qtbot, low, high):
    shown = labels(DecadeLogAxis("left"), low, high, 300)
    assert len(shown) >= 2 and len(set(shown)) == len(shown)
    assert all(low <= float(text) <= high for text in shown)
