"""The run configuration: defaults, files (TOML/JSON) and refusals that name the key."""

import json

import pytest

from trainers.config import RunConfig, default_threads, to_toml
from trainers.errors import ConfigError

FULL = {
    "data": {"name": "spirals", "batch_size": 32, "val_fraction": 0.25, "noise": 0.1, "samples": 500,
             "shuffle": False},
    "model": {"name": "mlp", "hidden": [64, 32], "activation": "tanh"},
    "optimizer": {"name": "AdamW", "lr": 0.003, "betas": [0.9, 0.95], "weight_decay": 0.05,
                  "no_decay_bias_norm": True,
                  "param_groups": [{"match": "^head\\.", "lr": 0.03, "name": "head"},
                                   {"match": "layers\\.0", "weight_decay": 0.0}]},
    "scheduler": {"name": "CosineAnnealingLR", "T_max": 40, "interval": "step", "warmup_steps": 5},
    "train": {"epochs": 3, "device": "cpu", "seed": 7, "grad_clip": 1.0, "max_steps": 100},
}


def test_defaults_are_a_complete_valid_run():
    config = RunConfig()
    config.validate()
    assert (config.data.name, config.model.name, config.optimizer.name) == ("moons", "mlp", "Adam")
    assert config.scheduler.name is None and config.train.device == "auto"


def test_the_thread_count_is_part_of_the_run():
    import os

    config = RunConfig()
    assert config.train.threads == default_threads()
    assert 1 <= config.train.threads <= max(1, (os.cpu_count() or 1) - 1)
    assert config.to_dict()["train"]["threads"] == config.train.threads  # written even at its default
    assert RunConfig.from_dict({"train": {"threads": 3}}).train.threads == 3
    for bad in (0, -1, 1.5, "2", True):
        with pytest.raises(ConfigError, match=r"train\.threads: expected a whole number >= 1"):
            RunConfig.from_dict({"train": {"threads": bad}})


def test_torch_options_go_to_the_options_dict_with_lists_as_tuples():
    config = RunConfig.from_dict(FULL)
    assert config.optimizer.options == {"lr": 0.003, "betas": (0.9, 0.95), "weight_decay": 0.05}
    assert config.scheduler.options == {"T_max": 40}
    assert config.optimizer.param_groups[1]["match"] == "layers\\.0"
    assert config.data.shuffle is False and config.model.hidden == [64, 32]


@pytest.mark.parametrize("suffix", [".toml", ".json"])
def test_save_and_load_round_trip(tmp_path, suffix):
    config = RunConfig.from_dict(FULL)
    path = tmp_path / f"run{suffix}"
    config.save(path)
    assert RunConfig.load(path) == config


def test_toml_text_reads_like_a_hand_written_file():
    text = to_toml(RunConfig.from_dict(FULL).to_dict())
    assert '[optimizer]\nname = "AdamW"\nlr = 0.003\nbetas = [0.9, 0.95]' in text
    assert '[[optimizer.param_groups]]\nmatch = "^head\\\\."\nlr = 0.03\nname = "head"' in text


def test_scheduler_interval_defaults_per_scheduler():
    assert RunConfig.from_dict({"scheduler": {"name": "OneCycleLR", "max_lr": 0.1}}) \
        .scheduler.effective_interval == "step"
    assert RunConfig.from_dict({"scheduler": {"name": "StepLR", "step_size": 2}}) \
        .scheduler.effective_interval == "epoch"


@pytest.mark.parametrize(("raw", "message"), [
    ({"dataa": {}}, "dataa: unknown section (did you mean 'data'?)"),
    ({"data": {"batchsize": 3}}, "data.batchsize: unknown key"),
    ({"data": {"batch_size": 0}}, "data.batch_size: expected a whole number >= 1, got 0"),
    ({"data": {"batch_size": 2.5}}, "data.batch_size: expected a whole number"),
    ({"data": {"val_fraction": 1.0}}, "data.val_fraction: expected a number in [0.0, 1.0)"),
    ({"data": {"noise": -1}}, "data.noise: expected a number in [0.0, inf]"),
    ({"data": {"shuffle": "yes"}}, "data.shuffle: expected true or false"),
    ({"data": {"name": "csv"}}, "data.path: the 'csv' dataset reads files"),
    ({"model": {"name": "transformer"}}, "model.name: unknown value 'transformer'"),
    ({"model": {"hidden": [16, 0]}}, "model.hidden: expected a list of layer widths"),
    ({"model": {"activation": "rellu"}}, "model.activation: unknown value 'rellu' (did you mean 'relu'?)"),
    ({"train": {"device": "gpu"}}, "train.device: expected auto, cpu, cuda, cuda:N or mps"),
    ({"train": {"epochs": 0}}, "train.epochs: expected a whole number >= 1"),
    ({"train": {"grad_clip": 0}}, "train.grad_clip: expected a number in (0.0, inf]"),
    ({"optimizer": {"lr": float("nan")}}, "optimizer.lr: NaN is not a valid value"),
    ({"optimizer": {"param_groups": [{"lr": 0.1}]}}, "optimizer.param_groups[0].match: missing"),
    ({"optimizer": {"param_groups": [{"match": "(head"}]}}, "optimizer.param_groups[0].match: invalid regex"),
    ({"optimizer": {"param_groups": [{"match": "a"}, {"match": "a"}]}}, "group name 'a' is used twice"),
    ({"optimizer": {"param_groups": [{"match": "a", "name": "default"}]}}, "is used twice or reserved"),
    ({"scheduler": {"T_max": 3}}, "scheduler.T_max: set scheduler.name to use scheduler options"),
    ({"scheduler": {"name": "ReduceLROnPlateau", "interval": "step"}}, "scheduler.monitor: with interval"),
    ({"scheduler": {"name": "ReduceLROnPlateau"}, "data": {"val_fraction": 0}},
     "scheduler.monitor: val_loss needs a validation set"),
    ({"scheduler": {"monitor": "accuracy"}}, "scheduler.monitor: unknown value 'accuracy'"),
    ([1, 2], "a configuration is a table of sections"),
    ({"data": 3}, "data: expected a table of keys"),
    ({"train": {"seed": 2**64}}, "train.seed: expected a whole number from 0 to 18446744073709551615 (torch's"),
    ({"train": {"seed": -1}}, "train.seed: expected a whole number from 0 to 18446744073709551615"),
    ({"train": {"epochs": 2**63}}, "train.epochs: expected a whole number from 1 to 9223372036854775807"),
    ({"data": {"noise": 10**400}}, "data.noise: expected a number in [0.0, inf], got 1000000000"),
    ({"optimizer": {"lr": 10**400}}, "optimizer.lr: 1000000000000000000000000000000000000000… (401 characters) is"),
])
def test_bad_values_are_refused_naming_the_key(raw, message):
    with pytest.raises(ConfigError, match=None) as caught:
        RunConfig.from_dict(raw)
    assert message in str(caught.value)


def test_set_takes_dotted_keys_and_checks_them():
    config = RunConfig()
    config.set("data.noise", 0.3)
    config.set("optimizer.momentum", 0.9)
    assert config.data.noise == 0.3 and config.optimizer.options["momentum"] == 0.9
    with pytest.raises(ConfigError, match=r"expected SECTION\.KEY"):
        config.set("lr", 0.1)


def test_malformed_and_missing_files_are_clear_errors(tmp_path):
    bad_toml = tmp_path / "run.toml"
    bad_toml.write_text("[data\nname = 'moons'")
    with pytest.raises(ConfigError, match="is not valid TOML"):
        RunConfig.load(bad_toml)
    bad_json = tmp_path / "run.json"
    bad_json.write_text("{")
    with pytest.raises(ConfigError, match="is not valid JSON"):
        RunConfig.load(bad_json)
    with pytest.raises(ConfigError, match="cannot read configuration"):
        RunConfig.load(tmp_path / "missing.toml")
    binary = tmp_path / "run2.toml"
    binary.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(ConfigError, match="not a text file"):
        RunConfig.load(binary)


def test_the_largest_torch_seed_is_accepted():
    assert RunConfig.from_dict({"train": {"seed": 2**64 - 1}}).train.seed == 2**64 - 1


def test_numpy_values_read_as_plain_numbers_in_messages():
    np = pytest.importorskip("numpy")
    with pytest.raises(ConfigError) as refused:
        RunConfig().set("train.grad_clip", np.float64(-3.5))
    assert str(refused.value) == "train.grad_clip: expected a number in (0.0, inf], got -3.5"


@pytest.mark.parametrize("suffix, text", [(".toml", "[train]\nepochs = 3\n"), (".json", '{"train": {"epochs": 3}}')])
def test_a_utf8_bom_is_accepted(tmp_path, suffix, text):
    path = tmp_path / f"run{suffix}"
    path.write_bytes(b"\xef\xbb\xbf" + text.encode())
    assert RunConfig.load(path).train.epochs == 3


@pytest.mark.parametrize("suffix, content, message", [
    (".toml", b"[train]\nepochs = " + b"1" * 5000 + b"\n", "holds an integer of more than 4300 digits"),
    (".json", b'{"train": {"epochs": ' + b"1" * 5000 + b"}}", "holds an integer of more than 4300 digits"),
    (".json", b"[" * 100_000 + b"]" * 100_000, "nested more than 32 levels deep"),
    (".toml", b"a = " + b"[" * 100_000 + b"]" * 100_000 + b"\n", "nested more than 32 levels deep"),
])
def test_what_the_parsers_raise_besides_syntax_errors_is_one_clear_error(tmp_path, suffix, content, message):
    path = tmp_path / f"run{suffix}"
    path.write_bytes(content)
    with pytest.raises(ConfigError) as refused:
        RunConfig.load(path)
    assert str(path) in str(refused.value) and message in str(refused.value)


def test_saving_to_an_unwritable_place_is_a_clear_error(tmp_path):
    with pytest.raises(ConfigError, match="cannot write"):
        RunConfig().save(tmp_path / "missing-folder" / "run.json")
    assert json.loads(json.dumps(RunConfig().to_dict()))["data"]["name"] == "moons"
