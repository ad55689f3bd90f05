"""Search spaces (kit/tune/space.py): every competition's space.py samples valid configs; a mistaken space
(unknown key or section, empty range, malformed, missing) stops in one line naming the file.
"""

from __future__ import annotations

import dataclasses

import optuna
import pytest
from tune_helpers import TINY, kit_error, write_space

import kit.tune.space
from kit import config, paths
from kit.config import competitions


@pytest.mark.parametrize("slug", sorted(p.parent.name for p in paths.COMPETITIONS.glob("*/space.py")))
def test_every_competition_space_samples_valid_configs(slug):
    """Fifty random draws of each shipped space.py resolve to valid configs with known models."""
    from kit import models

    cfg = competitions.load_config(slug)
    space = kit.tune.space.load_space(cfg)
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    known = set(models.names())
    for _ in range(50):
        sections = kit.tune.space.sample_sections(space, study.ask())
        sampled = config.replace(cfg, **sections)
        assert sampled.train.model in known
    assert {"model", "width", "learning_rate", "batch_size", "dropout"} <= set(sections["train"])
    assert sections["augment"]


@pytest.mark.parametrize("slug", ["digit-recognizer", "fashion-mnist"])
def test_pixel_spaces_cover_the_schedule_and_regularisation(slug):
    """The pixel competitions also tune the schedule (their default one-cycle or ReduceLROnPlateau,
    with its factor and patience) and label smoothing, over their default network among others."""
    cfg = competitions.load_config(slug)
    space = kit.tune.space.load_space(cfg)
    trial = optuna.create_study().ask()
    sections = kit.tune.space.sample_sections(space, trial)
    assert {"schedule", "reduce_lr_factor", "reduce_lr_patience", "label_smoothing"} <= set(sections["train"])
    assert cfg.train.model in trial.distributions["model"].choices


def test_unknown_parameter_name_in_the_space(capsys, tmp_path):
    path = write_space(tmp_path, 'def space(trial):\n    return {"train": {"learning_rat": 0.1}}\n')
    known = ", ".join(f.name for f in dataclasses.fields(config.TrainSection))
    err = kit_error(capsys, "tune", *TINY, f"tune.space={path}")
    assert (
        err
        == f"error: {path}: unknown config key 'train.learning_rat': did you mean train.learning_rate? (known: {known})"
    )


def test_unknown_section_in_the_space(capsys, tmp_path):
    path = write_space(tmp_path, 'def space(trial):\n    return {"trian": {"epochs": 2}}\n')
    err = kit_error(capsys, "tune", *TINY, f"tune.space={path}")
    assert err == f"error: {path}: unknown config section [trian] (known: {', '.join(config.SECTIONS)})"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            'trial.suggest_float("learning_rate", 1e-2, 1e-4)',
            "`low <= high` must hold, but got (low=0.01, high=0.0001).",
        ),
        (
            'trial.suggest_int("batch_size", 128, 32)',
            "`low <= high` must hold, but got (low=128, high=32).",
        ),
        (
            'trial.suggest_categorical("model", [])',
            "The `choices` must contain one or more elements.",
        ),
    ],
)
def test_empty_range_in_the_space(capsys, tmp_path, body, message):
    path = write_space(tmp_path, f'def space(trial):\n    return {{"train": {{"x": {body}}}}}\n')
    err = kit_error(capsys, "tune", *TINY, f"tune.space={path}")
    assert err == f"error: {path}: bad search space: {message}"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            'def space(trial):\n    return {"train": {"epochs": 1.5}}\n',
            "config key 'train.epochs' must be int, got 1.5",
        ),
        (
            'def space(trial):\n    return {"data": {"limit": 10}}\n',
            "the space sets [data], which must stay fixed during a study",
        ),
        (
            "def space(trial):\n    return [1, 2]\n",
            "space(trial) must return {section: {key: value}}, got [1, 2]",
        ),
        (
            'def space(trial):\n    return trial.suggest_flot("x", 0, 1)\n',
            "space(trial) failed: AttributeError: 'Trial' object has no attribute 'suggest_flot'",
        ),
        ("def spaces(trial):\n    return {}\n", "defines no function space(trial)"),
    ],
)
def test_malformed_space(capsys, tmp_path, text, message):
    path = write_space(tmp_path, text)
    err = kit_error(capsys, "tune", *TINY, f"tune.space={path}")
    assert err.startswith(f"error: {path}: {message}"), err


def test_missing_space_file(capsys, tmp_path):
    err = kit_error(capsys, "tune", *TINY, f"tune.space={tmp_path / 'none.py'}")
    assert err == f"error: {tmp_path / 'none.py'}: no search space (write `def space(trial) -> dict` there)"
