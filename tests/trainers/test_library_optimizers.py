"""pytorch-optimizer's optimizers in real training: the ones a plain step drives are offered and
train; the others are refused by name, saying why."""

import pytest

from tests.trainers.conftest import small_config
from trainers.errors import ConfigError
from trainers.factory import NOT_TRAINABLE_HERE, library_optimizer_classes, trainable_library_optimizers
from trainers.loop import TrainingRun

pytorch_optimizer = pytest.importorskip("pytorch_optimizer")
OFFERED = trainable_library_optimizers()


def test_the_offered_ones_are_the_librarys_own_less_those_a_plain_step_cannot_drive():
    assert {"pytorch_optimizer.Lion", "pytorch_optimizer.Prodigy", "pytorch_optimizer.Ranger",
            "pytorch_optimizer.AdaBelief"} <= set(OFFERED)
    own = {cls.__name__ for cls in library_optimizer_classes().values()}
    assert "Adam" not in own and "SGD" not in own  # torch's, which it re-exports: offered as torch's
    assert set(NOT_TRAINABLE_HERE) <= own  # every exclusion names a real class
    assert not {name.split(".")[1] for name in OFFERED} & set(NOT_TRAINABLE_HERE)
    assert len(OFFERED) >= 100


@pytest.mark.parametrize("name", OFFERED)
def test_every_offered_library_optimizer_trains_a_few_steps(name):
    run = TrainingRun(small_config(optimizer={"name": name}, train={"max_steps": 3}))
    list(run.events())
    assert run.ended.status in ("finished", "diverged"), run.ended.message
    assert type(run.optimizer).__name__ == name.split(".")[1]
    assert len(run.metrics.series("train_loss")[1]) >= 1


def test_a_library_optimizer_gets_its_options_and_reruns_identically():
    config = small_config(optimizer={"name": "pytorch_optimizer.Lion", "lr": 3e-4, "weight_decay": 0.1},
                          train={"max_steps": 6, "threads": 1})
    run = TrainingRun(config)
    list(run.events())
    again = TrainingRun(config)
    list(again.events())
    assert run.metrics.series("train_loss") == again.metrics.series("train_loss")
    assert isinstance(run.optimizer, pytorch_optimizer.Lion) and run.optimizer.defaults["weight_decay"] == 0.1


@pytest.mark.parametrize(("name", "message"), [
    ("pytorch_optimizer.SAM", "optimizer.name: SAM wraps another optimizer and needs a closure"),
    ("pytorch_optimizer.AliG", "AliG needs a closure that returns the loss"),
    ("pytorch_optimizer.Muon", "Muon needs parameter groups marked use_muon"),
    ("pytorch_optimizer.Lionn", "optimizer.name: pytorch_optimizer has no optimizer 'Lionn'"),
])
def test_the_others_are_refused_saying_why(name, message):
    with pytest.raises(ConfigError) as caught:
        TrainingRun(small_config(optimizer={"name": name}))
    assert message in str(caught.value) and caught.value.param == "optimizer.name"


def test_a_required_argument_is_named_and_a_file_can_give_it():
    with pytest.raises(ConfigError, match=r"optimizer\.num_iterations: required by Ranger21"):
        TrainingRun(small_config(optimizer={"name": "pytorch_optimizer.Ranger21"}))
    run = TrainingRun(small_config(optimizer={"name": "pytorch_optimizer.Ranger21", "num_iterations": 16}))
    list(run.events())
    assert run.ended.status == "finished", run.ended.message


def test_a_mistyped_option_of_a_library_optimizer_is_named():
    with pytest.raises(ConfigError, match=r"optimizer\.lrr: Lion has no option 'lrr'"):
        TrainingRun(small_config(optimizer={"name": "pytorch_optimizer.Lion", "lrr": 0.1}))


def test_an_optimizer_that_raises_its_own_error_mid_run_ends_the_run_saying_so(monkeypatch):
    def refuse(self, closure=None):
        raise pytorch_optimizer.base.exception.NoClosureError("Lion")

    monkeypatch.setattr(pytorch_optimizer.Lion, "step", refuse)
    run = TrainingRun(small_config(optimizer={"name": "pytorch_optimizer.Lion"}))
    list(run.events())
    assert run.ended.status == "failed" and "failed at step 0: NoClosureError" in run.ended.message
