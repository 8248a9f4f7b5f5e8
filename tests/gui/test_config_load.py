"""Loading a run configuration is all or nothing: a file the tab cannot show changes nothing."""

import pytest

from trainers.config import RunConfig
from trainers.errors import ConfigError


@pytest.mark.parametrize("text, culprit", [
    ('[optimizer]\nname = "Adamm"\n', "unknown optimizer 'Adamm'"),
    ('[scheduler]\nname = "CosineAnnealing"\n', "CosineAnnealing"),
])
def test_a_file_the_tab_cannot_show_changes_nothing(qtbot, window, tmp_path, text, culprit):
    tab = window.show_training()
    shown = tab.panel.current_config()
    form = tab.panel.optimizer_form
    (tmp_path / "bad.toml").write_text(text)
    with pytest.raises(ConfigError, match=culprit):
        tab.load_config(tmp_path / "bad.toml")
    assert tab.panel.current_config() == shown
    assert tab.panel.optimizer_form is form and form.isVisibleTo(tab.panel)
    (tmp_path / "good.toml").write_text('[optimizer]\nname = "SGD"\nlr = 0.1\n')
    tab.load_config(tmp_path / "good.toml")  # and the tab still works: no deleted form left behind
    assert tab.panel.current_config() == RunConfig.load(tmp_path / "good.toml")
    assert tab.panel.optimizer_form is not form
    qtbot.waitUntil(lambda: tab.panel.optimizer_form.isVisibleTo(tab.panel))  # Qt shows it on layout
    qtbot.waitUntil(lambda: tab.panel.preview_worker is None, timeout=60_000)
    assert tab.start_button.isEnabled()
