"""An axis whose log scale is labelled so that the labels never crowd and never run out.

pyqtgraph labels the minor ticks of a log axis too when less than a few decades show, and on a
short plot those labels run into each other ("0.01 0.009 0.008 ..."); over 30 decades it labels
every one of them, one on top of the other; and within less than a factor of ten it may label one
tick or none. This axis labels:

- the decades, every k-th one when more are in view than the axis has room for (the others stay
  unlabelled ticks);
- with fewer than two decades in view, 2 and 5 times them as well;
- with fewer than two such values in view (a narrow range, a factor of 2 or so), evenly spaced
  round numbers of the range itself, written with as many digits as they need.
"""

from math import ceil, floor, log10

import numpy as np
import pyqtgraph as pg

# Room a label needs along the axis, in pixels: a line of text (left/right) or a short number
# (bottom/top), with a gap.
LABEL_ROOM_PX = {"left": 22, "right": 22, "bottom": 56, "top": 56}
NICE_STEPS = (1.0, 2.0, 2.5, 5.0)


class DecadeLogAxis(pg.AxisItem):
    def __init__(self, orientation: str, **kwargs):
        super().__init__(orientation, **kwargs)
        self.enableAutoSIPrefix(False)
        self.setStyle(maxTextLevel=0)  # text for the labelled level only
        self._room = LABEL_ROOM_PX.get(orientation, 40)

    def logTickValues(self, minVal, maxVal, size, stdTicks):
        fits = max(2, int(size // self._room)) if size else 8
        first, last = floor(minVal), ceil(maxVal)
        decades = [v for v in range(first, last + 1) if minVal <= v <= maxVal]
        if len(decades) > fits:
            every = ceil(len(decades) / fits)
            labelled = [float(v) for v in decades if v % every == 0]
            return [(None, labelled), (None, [float(v) for v in decades if v % every])]
        multiples = (2, 5) if len(decades) < 2 else ()
        between = [v + log10(m) for v in range(first, last) for m in multiples]
        labelled = sorted([float(v) for v in decades] + [v for v in between if minVal <= v <= maxVal])
        minor = [v + log10(m) for v in range(first, last) for m in range(2, 10)
                 if minVal < v + log10(m) < maxVal and m not in multiples]
        if len(labelled) < 2:
            return [(None, [log10(v) for v in round_numbers(10.0 ** minVal, 10.0 ** maxVal, min(fits, 5))])]
        return [(None, labelled), (None, minor)]

    def logTickStrings(self, values, scale, spacing):
        numbers = 10.0 ** np.asarray(values, dtype=float) * scale
        for digits in range(1, 7):  # the fewest significant digits that tell every label apart
            texts = [f"{v:.{digits}g}" for v in numbers]
            if len(set(texts)) == len(texts):
                break
        return [_superscript_exponent(text) for text in texts]


def round_numbers(low: float, high: float, count: int) -> list[float]:
    """About ``count`` evenly spaced round numbers (1, 2, 2.5 or 5 times a power of ten apart) in
    [low, high], both positive."""
    if not 0.0 < low < high:
        return []
    rough = (high - low) / max(1, count)
    power = 10.0 ** floor(log10(rough))
    step = next((m * power for m in NICE_STEPS if m * power >= rough), 10.0 * power)
    start = ceil(low / step) * step
    values = [start + i * step for i in range(int((high - start) / step) + 1)]
    return [v for v in values if low <= v <= high and v > 0.0]


def _superscript_exponent(text: str) -> str:
    if "e" not in text:
        return text
    mantissa, exponent = text.split("e")
    digits = str(int(exponent))
    sign, digits = ("⁻", digits[1:]) if digits.startswith("-") else ("", digits)
    power = "10" + sign + digits.translate(str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹"))
    return power if mantissa == "1" else f"{mantissa}·{power}"


def decade_axes(*sides: str) -> dict:
    """``axisItems`` for a PlotWidget/PlotItem: these sides get a DecadeLogAxis."""
    return {side: DecadeLogAxis(side) for side in sides}
