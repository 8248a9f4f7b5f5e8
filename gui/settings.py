"""The app's own settings: one small JSON file of plain values, read back only as those values.

Why not QSettings: PySide6 turns a stored ``@Variant(... PyObjectWrapper ...)`` value into a
Python object by unpickling it, so whoever could write the settings file could run code at the next
start. JSON can only make dicts, lists, text, numbers, booleans and None, and each getter here
accepts exactly one shape. The old QSettings file (``OptiScope/OptiScope.conf``) is never read, and
:func:`keep_qt_settings_private` keeps Qt's own dialogs from reading theirs (``QtProject.conf``).

A value that is missing gives the default quietly (a first start); one that is unreadable (wrong
type, garbage, a file that is not JSON, too big, nested too deeply) gives the default with one line
on stderr saying what was ignored and why, so a damaged file can never stop the app from starting.
The next :meth:`AppSettings.save` (on closing) writes the file whole again.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import stat
import sys
from pathlib import Path

from PySide6.QtCore import QSettings, QStandardPaths

from simulator.atomic import write_atomically
from simulator.errors import SimulatorError

APP_FOLDER = "OptiScope"
FILE_NAME = "settings.json"
MAX_BYTES = 1 << 20  # a scenario of 32 runs is a few kilobytes; anything near this is not ours
MAX_PIXELS = 100_000  # a splitter size beyond any screen is damage, not a layout


def default_settings_path() -> Path:
    """``settings.json`` in OptiScope's folder of the user's configuration directory
    (``$XDG_CONFIG_HOME`` or ``~/.config`` on Linux)."""
    base = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.GenericConfigLocation)
    return Path(base or Path.home() / ".config") / APP_FOLDER / FILE_NAME


def keep_qt_settings_private(folder) -> None:
    """Point every per-user QSettings file at ``folder`` (private, empty, the app's own for this
    run). The unpickling is in the value's decoding, whoever reads it, and Qt's own file and colour
    dialogs read ``QtProject.conf`` from the user's configuration folder: a planted one would run
    code as soon as File > Open is used. The price: those dialogs forget their history between runs
    (the folder they open in is kept, in :class:`AppSettings`)."""
    for file_format in (QSettings.Format.NativeFormat, QSettings.Format.IniFormat):
        QSettings.setPath(file_format, QSettings.Scope.UserScope, os.fspath(folder))


KEYS = ("geometry", "scenario", "folder", "speed", "loop", "arrows", "splitters")


class AppSettings:
    """The window geometry, the last scenario, the last folder of a file dialog, and how the
    Simulator was viewed: playback speed and loop, the arrows shown, the splitters' sizes."""

    def __init__(self, path: str | os.PathLike | None = None, report=None):
        self.path = Path(path) if path is not None else default_settings_path()
        self._report = report if report is not None else _print_to_stderr
        self._noted: set[str] = set()
        self.notes: list[str] = []  # what was ignored, in the words printed
        self.ignored: dict[str, str] = {}  # why, by key ("file" for the whole file)
        self._values = self._read()

    # -- reading ------------------------------------------------------------------------------------
    def note(self, what: str, why: str, key: str | None = None) -> None:
        """Say once that ``what`` ("the saved scenario") is ignored, and why."""
        if key is not None:
            self.ignored.setdefault(key, why)
        line = f"ignoring {what} ({why})"
        if line not in self._noted:
            self._noted.add(line)
            self.notes.append(line)
            self._report(line)

    def _read(self) -> dict:
        path = self.path
        try:
            info = os.stat(path)
        except FileNotFoundError:
            return {}  # a first start
        except OSError as error:
            self._file_unreadable(f"cannot be read: {error.strerror or error}")
            return {}
        if not stat.S_ISREG(info.st_mode):  # a FIFO would block the start for ever
            self._file_unreadable("not a regular file")
            return {}
        try:
            with open(path, "rb") as handle:
                raw = handle.read(MAX_BYTES + 1)
        except OSError as error:
            self._file_unreadable(f"cannot be read: {error.strerror or error}")
            return {}
        if len(raw) > MAX_BYTES:
            self._file_unreadable(f"larger than {MAX_BYTES // 1024} KiB")
            return {}
        try:
            values = json.loads(raw.decode("utf-8"))
        except UnicodeDecodeError:
            self._file_unreadable("not UTF-8 text")
            return {}
        except RecursionError:
            self._file_unreadable("nested too deeply")
            return {}
        except ValueError as error:  # not JSON, or an integer of more than 4300 digits
            self._file_unreadable(f"not valid JSON: {_first_line(error)}")
            return {}
        if not isinstance(values, dict):
            self._file_unreadable(f"the top level is {_json_kind(values)}, not an object")
            return {}
        return values

    def _file_unreadable(self, why: str) -> None:
        self.note(f"the settings file {self.path}", why, key="file")

    def geometry(self) -> bytes | None:
        """The bytes of ``QWidget.saveGeometry()`` last saved, or None."""
        text = self._typed("geometry", str, "the saved window geometry", "base64 text")
        if text is None:
            return None
        try:
            return base64.b64decode(text.encode("ascii"), validate=True)
        except (UnicodeEncodeError, binascii.Error):
            self.note("the saved window geometry", "not valid base64", key="geometry")
            return None

    def scenario(self) -> dict | None:
        """The last scenario as its JSON object (for ``Scenario.from_json``), or None."""
        return self._typed("scenario", dict, "the saved scenario", "a JSON object")

    def folder(self, default: str) -> str:
        """The folder of the last file chosen in a dialog, or ``default`` (also when it is gone)."""
        folder = self._typed("folder", str, "the saved folder", "a folder path")
        if folder is None:
            return default
        if "\0" in folder:
            self.note("the saved folder", "a path with a NUL character", key="folder")
            return default
        return folder if os.path.isdir(folder) else default

    def speed(self, low: int, high: int) -> int | None:
        """The saved playback speed (steps per second) if it is a whole number in low..high."""
        value = self._values.get("speed")
        if value is None:
            return None
        if isinstance(value, int) and not isinstance(value, bool) and low <= value <= high:
            return value
        shown = value if isinstance(value, int | float) and not isinstance(value, bool) else _json_kind(value)
        self.note("the saved playback speed", f"{shown}, not a whole number from {low} to {high}",
                  key="speed")
        return None

    def loop(self) -> bool | None:
        """Whether playback looped, or None."""
        return self._typed("loop", bool, "the saved loop setting", "true or false")

    def arrows(self, kinds) -> dict[str, bool]:
        """The saved arrow switches (kind -> shown); empty when missing or unreadable."""
        value = self._typed("arrows", dict, "the saved arrows", "an object of true/false by kind")
        if not value:
            return {}
        wrong = [key for key, shown in value.items() if key not in kinds or not isinstance(shown, bool)]
        if wrong:
            self.note("the saved arrows",
                      f"'{wrong[0]}' is not one of {', '.join(kinds)} set to true or false", key="arrows")
            return {}
        return dict(value)

    def splitter(self, name: str, count: int) -> list[int] | None:
        """The saved sizes of splitter ``name``: ``count`` whole numbers of pixels, not all zero."""
        every = self._typed("splitters", dict, "the saved splitter sizes", "an object of lists by name")
        if every is None or name not in every:
            return None
        sizes = every[name]
        if (isinstance(sizes, list) and len(sizes) == count and any(sizes)
                and all(isinstance(size, int) and not isinstance(size, bool) and 0 <= size <= MAX_PIXELS
                        for size in sizes)):
            return list(sizes)
        self.note(f"the saved sizes of the {name} splitter",
                  f"not {count} whole numbers of pixels from 0 to {MAX_PIXELS}", key=f"splitters.{name}")
        return None

    def _typed(self, key: str, kind: type, what: str, wanted: str):
        """The saved ``key`` if it is a ``kind``; None when missing, or (with a note) of another kind."""
        value = self._values.get(key)
        if value is None or isinstance(value, kind):
            return value
        self.note(what, f"{_json_kind(value)}, not {wanted}", key=key)
        return None

    # -- writing ------------------------------------------------------------------------------------
    def set_geometry(self, data: bytes) -> None:
        self._values["geometry"] = base64.b64encode(bytes(data)).decode("ascii")

    def set_scenario(self, data: dict) -> None:
        self._values["scenario"] = data

    def set_folder(self, folder: str) -> None:
        self._values["folder"] = str(folder)

    def set_speed(self, speed: int) -> None:
        self._values["speed"] = int(speed)

    def set_loop(self, loop: bool) -> None:
        self._values["loop"] = bool(loop)

    def set_arrows(self, shown: dict[str, bool]) -> None:
        self._values["arrows"] = {str(kind): bool(on) for kind, on in shown.items()}

    def set_splitter(self, name: str, sizes) -> None:
        every = self._values.get("splitters")
        if not isinstance(every, dict):  # an unreadable value is replaced whole
            every = self._values["splitters"] = {}
        every[name] = [int(size) for size in sizes]

    def save(self) -> bool:
        """Write the file whole (a temporary file renamed); False, with a line on stderr, when it
        cannot be written: closing the window never fails for it."""
        values = {key: self._values[key] for key in KEYS if key in self._values}
        try:
            text = json.dumps(values, indent=1) + "\n"
        except (TypeError, ValueError, RecursionError) as error:  # not plain data: keep the rest
            self._report(f"not saving the scenario ({error})")
            values.pop("scenario", None)
            text = json.dumps(values, indent=1) + "\n"
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            write_atomically(self.path, lambda out: out.write(text), suffix=".json.tmp")
        except OSError as error:
            self._report(f"cannot save the settings in {self.path}: {error.strerror or error}")
            return False
        except SimulatorError as error:
            self._report(f"cannot save the settings: {error}")
            return False
        return True


def _print_to_stderr(line: str) -> None:
    print(f"OptiScope: {line}", file=sys.stderr, flush=True)


def _json_kind(value) -> str:
    """What a JSON value is, for a note: "a number", "an object", "text"."""
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    kinds = {str: "text", list: "a list", dict: "an object", type(None): "null"}
    return kinds.get(type(value), type(value).__name__)


def _first_line(error: Exception) -> str:
    text = str(error).strip()
    return text.splitlines()[0][:200] if text else type(error).__name__
