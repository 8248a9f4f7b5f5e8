"""An axis whose log scale is labelled at powers of ten, not at every 2…9 in between.

pyqtgraph labels the minor ticks of a log axis too when less than a few decades show, and on a
short plot those labels run into each other ("0.01 0.009 0.008 ..."). This axis labels the
decades (and, when fewer than two are in view, 2 and 5 times them) and draws the rest as
unlabelled ticks.
"""

from math import ceil, floor, log10

import pyqtgraph as pg


class DecadeLogAxis(pg.AxisItem):
    def __init__(self, orientation: str, **kwargs):
        super().__init__(orientation, **kwargs)
        self.enableAutoSIPrefix(False)
        self.setStyle(maxTextLevel=0)  # text for the labelled level only

    def logTickValues(self, minVal, maxVal, size, stdTicks):
        first, last = floor(minVal), ceil(maxVal)
        decades = [float(v) for v in range(first, last + 1) if minVal <= v <= maxVal]
        multiples = (2, 5) if len(decades) < 2 else ()
        labelled = sorted(decades + [v + log10(m) for v in range(first, last) for m in multiples
                                     if minVal <= v + log10(m) <= maxVal])
        minor = [v + log10(m) for v in range(first, last) for m in range(2, 10)
                 if minVal < v + log10(m) < maxVal and m not in multiples]
        return [(None, labelled), (None, minor)]


def decade_axes(*sides: str) -> dict:
    """``axisItems`` for a PlotWidget/PlotItem: these sides get a DecadeLogAxis."""
    return {side: DecadeLogAxis(side) for side in sides}
