"""Playback: a frame index moving through precomputed trajectories, and its control bar.

Nothing is recomputed while playing or scrubbing: a frame is an index into arrays, so stepping
back is as exact as stepping forward.
"""

from PySide6.QtCore import QElapsedTimer, QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QHBoxLayout,
    QLabel,
    QSlider,
    QSpinBox,
    QStyle,
    QToolButton,
    QWidget,
)

TICK_MS = 16
SPEEDS = (1, 1000)  # steps per second


class Playback(QObject):
    """``frame`` in 0..``last``; plays at ``speed`` steps per second, optionally looping."""

    frame_changed = Signal(int)
    playing_changed = Signal(bool)
    last_changed = Signal(int)  # the runs' length: the timeline's range and the step counter follow

    def __init__(self, parent=None):
        super().__init__(parent)
        self.frame = 0
        self.last = 0
        self.speed = 60.0
        self.loop = False
        self._carry = 0.0
        self._timer = QTimer(self, interval=TICK_MS)
        self._timer.timeout.connect(self._tick)
        self._clock = QElapsedTimer()

    @property
    def playing(self) -> bool:
        return self._timer.isActive()

    def set_last(self, last: int) -> None:
        last = max(0, int(last))
        if last == self.last:
            return
        self.last = last
        if self.frame > self.last:
            self.seek(self.last)
        self.last_changed.emit(self.last)

    def seek(self, frame: int) -> None:
        frame = max(0, min(int(frame), self.last))
        if frame != self.frame:
            self.frame = frame
        self.frame_changed.emit(self.frame)

    def go_to(self, frame: int) -> None:
        """Pause and show ``frame``: the user picked a step (timeline, a side plot)."""
        self.pause()
        self.seek(frame)

    def step(self, delta: int) -> None:
        self.pause()
        self.seek(self.frame + delta)

    def first(self) -> None:
        self.step(-self.frame)

    def end(self) -> None:
        self.step(self.last - self.frame)

    def play(self) -> None:
        if self.playing:
            return
        if self.frame >= self.last:
            self.seek(0)
        self._carry = 0.0
        self._clock.start()
        self._timer.start()
        self.playing_changed.emit(True)

    def pause(self) -> None:
        if self.playing:
            self._timer.stop()
            self.playing_changed.emit(False)

    def toggle(self) -> None:
        self.pause() if self.playing else self.play()

    def _tick(self) -> None:
        elapsed = self._clock.restart() / 1000.0
        self._carry += elapsed * self.speed
        advance = int(self._carry)
        if advance == 0:
            return
        self._carry -= advance
        target = self.frame + advance
        if target >= self.last:
            if self.loop and self.last > 0:
                target = target % (self.last + 1)
            else:
                self.seek(self.last)
                self.pause()
                return
        self.seek(target)


TIMELINE_MIN_WIDTH = 240  # pixels: room to aim at a step of a 5,000-step run


class PlaybackBar(QWidget):
    """Play/pause, step, first/last, a timeline slider, speed, loop and "step k / N"."""

    def __init__(self, playback: Playback, parent=None):
        super().__init__(parent)
        self.playback = playback
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 2, 4, 2)
        style = self.style()

        def button(icon, tip, slot):
            b = QToolButton(self)
            b.setIcon(style.standardIcon(icon))
            b.setToolTip(tip)
            b.setAutoRaise(True)
            b.clicked.connect(slot)
            layout.addWidget(b)
            return b

        button(QStyle.StandardPixmap.SP_MediaSkipBackward, "First frame (Home)", playback.first)
        button(QStyle.StandardPixmap.SP_MediaSeekBackward, "Step back (←)", lambda: playback.step(-1))
        self.play_button = button(QStyle.StandardPixmap.SP_MediaPlay, "Play / pause (Space)", playback.toggle)
        button(QStyle.StandardPixmap.SP_MediaSeekForward, "Step forward (→)", lambda: playback.step(1))
        button(QStyle.StandardPixmap.SP_MediaSkipForward, "Last frame (End)", playback.end)
        self.slider = QSlider(Qt.Orientation.Horizontal, self)
        self.slider.setMinimumWidth(TIMELINE_MIN_WIDTH)
        self.slider.setToolTip("Timeline: drag to any step")
        self.slider.valueChanged.connect(self._scrubbed)
        layout.addWidget(self.slider, 1)
        self.counter = QLabel(self)
        self.counter.setMinimumWidth(120)
        self.counter.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        layout.addWidget(self.counter)
        layout.addWidget(QLabel("speed", self))
        self.speed = QSpinBox(self)
        self.speed.setRange(*SPEEDS)
        self.speed.setSuffix(" steps/s")
        self.speed.setValue(int(playback.speed))
        self.speed.setToolTip("Playback speed in optimizer steps per second")
        self.speed.valueChanged.connect(lambda v: setattr(playback, "speed", float(v)))
        layout.addWidget(self.speed)
        self.loop = QCheckBox("loop", self)
        self.loop.setToolTip("Start again from step 0 at the end")
        self.loop.toggled.connect(lambda on: setattr(playback, "loop", on))
        layout.addWidget(self.loop)
        playback.frame_changed.connect(self._show_frame)
        playback.last_changed.connect(lambda _last: self._show_frame(playback.frame))
        playback.playing_changed.connect(self._show_playing)
        self._show_frame(playback.frame)

    def _scrubbed(self, value: int) -> None:
        if value != self.playback.frame:
            self.playback.go_to(value)

    def _show_frame(self, frame: int) -> None:
        self.slider.blockSignals(True)
        self.slider.setRange(0, self.playback.last)
        self.slider.setValue(frame)
        self.slider.blockSignals(False)
        self.counter.setText(f"step {frame} / {self.playback.last}")

    def _show_playing(self, playing: bool) -> None:
        icon = QStyle.StandardPixmap.SP_MediaPause if playing else QStyle.StandardPixmap.SP_MediaPlay
        self.play_button.setIcon(self.style().standardIcon(icon))
