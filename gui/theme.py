"""pyqtgraph's look for every OptiScope view: the app's windows and the headless renders alike."""

import pyqtgraph as pg


def configure_pyqtgraph() -> None:
    pg.setConfigOptions(antialias=True, imageAxisOrder="row-major", foreground="#d8d8d8")
