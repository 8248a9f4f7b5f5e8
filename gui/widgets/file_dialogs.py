"""File dialogs that open where the user last was, suggesting names a file system takes.

Every tab asks for paths through here, so the folder chosen in one dialog is where the next one
opens (remembered in the app's settings), never the folder the app was started from; and a run
called "run 2: Adam" is suggested as "run_2_Adam.csv", not as a name with a colon in it.
"""

import re
from pathlib import Path

from PySide6.QtWidgets import QFileDialog

_settings = None  # gui.settings.AppSettings of the main window, once it has said so


def remember_folders_in(settings) -> None:
    """Keep the last folder in ``settings`` (an AppSettings)."""
    global _settings
    _settings = settings


def last_folder() -> Path:
    home = str(Path.home())
    return Path(_settings.folder(home) if _settings is not None else home)


def safe_file_name(name: str) -> str:
    """``name`` with every run of characters other than letters, digits, ``.``, ``-`` and ``_``
    turned into one ``_`` ("run 2: Adam" -> "run_2_Adam")."""
    return re.sub(r"[^\w.-]+", "_", name, flags=re.UNICODE).strip("_.") or "untitled"


def ask_save_path(parent, title: str, name: str, pattern: str) -> str:
    """A path to write, or "" when cancelled; the dialog opens in the last folder with ``name``."""
    path, _ = QFileDialog.getSaveFileName(parent, title, str(last_folder() / safe_file_name(name)), pattern)
    return _remembered(path)


def ask_open_path(parent, title: str, pattern: str) -> str:
    """A path to read, or "" when cancelled; the dialog opens in the last folder."""
    path, _ = QFileDialog.getOpenFileName(parent, title, str(last_folder()), pattern)
    return _remembered(path)


def _remembered(path: str) -> str:
    if path and _settings is not None:
        _settings.set_folder(str(Path(path).parent))
    return path
