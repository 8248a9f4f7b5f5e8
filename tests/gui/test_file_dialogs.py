"""Every tab's file dialogs open in the folder last used, suggesting a name a file system takes."""

from pathlib import Path

from PySide6.QtWidgets import QFileDialog

from gui.widgets.file_dialogs import safe_file_name


def test_names_are_made_safe():
    assert safe_file_name("run 2: Adam.csv") == "run_2_Adam.csv"
    assert safe_file_name("SGD (lr 0.1)/momentum") == "SGD_lr_0.1_momentum"
    assert safe_file_name("::") == "untitled"


def test_the_dialogs_of_every_tab_start_where_the_last_one_ended(qtbot, window, tmp_path, monkeypatch):
    asked = []

    def answer(parent, title, start, pattern):
        asked.append(start)
        return str(tmp_path / "chosen" / Path(start).name), pattern

    monkeypatch.setattr(QFileDialog, "getSaveFileName", answer)
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda parent, title, start, pattern: (asked.append(start) or "", ""))
    (tmp_path / "chosen").mkdir()
    window.export_map("png")  # the Simulator: File > Export map
    assert Path(asked[-1]).name == "map.png"
    explore = window.show_explore()
    explore._ask("Export data", "basin.csv", "CSV (*.csv)")
    assert asked[-1] == str(tmp_path / "chosen" / "basin.csv")  # opens where the map went
    training = window.show_training()
    training.load_config_dialog()
    assert asked[-1] == str(tmp_path / "chosen")
    assert window.settings.folder("home") == str(tmp_path / "chosen")
