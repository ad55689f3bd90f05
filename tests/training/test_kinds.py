"""The model kinds as classes: each answers the whole `ModelKind` interface, names the checkpoint
its module writes, and says itself what differs (pruning, clean-up)."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest

from kit import models
from kit.training import kinds
from kit.training.results import ModelKind

INTERFACE = [name for name, _ in inspect.getmembers(ModelKind, inspect.isfunction) if not name.startswith("_")]


@pytest.mark.parametrize("name", sorted(kinds.KINDS))
def test_every_kind_answers_the_interface_and_names_its_modules_checkpoint(name):
    kind = kinds.named(name)
    assert {"fit", "load", "predict", "pruning_callbacks", "clear"} <= set(INTERFACE)
    assert all(callable(getattr(kind, method)) for method in INTERFACE)
    assert kind.name == name and kind.CHECKPOINT == kind.module().CHECKPOINT
    assert kinds.for_checkpoint(Path("/x/fold0") / kind.CHECKPOINT) is kind


def test_every_registered_model_has_a_kind():
    assert {models.get(name).kind for name in models.names()} == set(kinds.KINDS)
    assert kinds.for_model("logreg") is kinds.named("sklearn") and kinds.for_model("cnn") is kinds.named("keras")


def test_a_scikit_learn_fit_takes_no_callbacks(tmp_path):
    with pytest.raises(TypeError, match="take no callbacks"):
        kinds.named("sklearn").fit(None, None, [], [], tmp_path, extra_callbacks=(object(),))
