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


def test_an_unreadable_field_keeps_start_off_until_it_is_fixed(qtbot, window):
    tab = window.show_training()
    qtbot.waitUntil(lambda: tab.panel.preview_worker is None and tab.start_button.isEnabled(), timeout=60_000)
    eps = tab.panel.optimizer_form.fields["eps"]
    eps.edit.setText("abc")
    eps._edited()  # what leaving the field does
    assert tab.panel.pending() == ["optimizer.eps"]
    assert not tab.start_button.isEnabled() and "optimizer.eps" in tab.start_button.toolTip()
    assert tab.start() is None and "fix optimizer.eps first" in tab.message.text()  # Ctrl+Enter too
    eps.edit.setText("1e-6")
    eps._edited()
    qtbot.waitUntil(lambda: tab.panel.preview_worker is None, timeout=60_000)
    qtbot.waitUntil(tab.start_button.isEnabled, timeout=60_000)
    assert tab.panel.pending() == [] and tab.panel.current_config().optimizer.options["eps"] == 1e-6


def test_a_refused_key_keeps_start_off(qtbot, window):
    tab = window.show_training()
    qtbot.waitUntil(lambda: tab.panel.preview_worker is None and tab.start_button.isEnabled(), timeout=60_000)
    assert not tab.panel.set_key("data.batch_size", 0)
    assert tab.panel.pending() == ["data.batch_size"] and not tab.start_button.isEnabled()
    assert tab.panel.set_key("data.batch_size", 32)
    assert tab.panel.pending() == []


def test_the_previews_never_show_an_earlier_configurations_data(qtbot, window):
    tab = window.show_training()
    panel = tab.panel
    panel.load(RunConfig.from_dict({"data": {"name": "digits"}, "model": {"name": "mlp"}}))
    qtbot.waitUntil(lambda: panel.preview_worker is None, timeout=60_000)
    assert panel.data_preview.getPlotItem().items  # the digit tiles
    assert panel.set_key("data.name", "csv")  # and no path yet: nothing to load
    qtbot.waitUntil(lambda: panel.preview_worker is None and panel.preview is None, timeout=60_000)
    assert panel.data_summary.text() == "no data preview: see the error below"
    assert not panel.data_preview.isVisibleTo(panel) and not panel.data_preview.getPlotItem().items
    assert not panel.lr_preview.getPlotItem().listDataItems()
