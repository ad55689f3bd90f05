"""`make tune`: tiny studies end to end, continuation, pruning, failed trials, workers on a journal
file and on a real PostgreSQL server, a killed worker, and every bad input's message.

Studies train the `dense` model on 300 rows for one or two epochs: seconds per trial on a CPU.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import tomllib
import types
import urllib.request
from pathlib import Path

import numpy as np
import optuna
import pytest
from conftest import ROOT, run_kit
from optuna.trial import TrialState

import kit.config.redact
import kit.tune.objective
import kit.tune.space
import kit.tune.storage
import kit.tune.study
import kit.tune.summary
import kit.tune.workers
from kit import cli, config, paths
from kit.config import competitions
from kit.config.params import best_params_path, load_params
from kit.errors import KitError, TrainingDiverged
from kit.training import runs

TINY = ("--comp", "fashion", "--preset", "tiny", "--set", "data.limit=300", "train.epochs=1")

# a cheap space: the dense model, three knobs
DENSE_SPACE = """
def space(trial):
    return {"train": {"model": "dense",
                      "learning_rate": trial.suggest_float("learning_rate", 1e-3, 1e-2, log=True),
                      "batch_size": trial.suggest_categorical("batch_size", [32, 64])},
            "augment": {"rotation_range": trial.suggest_float("rotation_range", 0.0, 10.0)}}
"""

# trials 0 and 1 learn; trial 2 cannot (a learning rate of 1e-9): the median pruner must stop it
HOPELESS_SPACE = """
def space(trial):
    hopeless = trial.number >= 2
    rate = 1e-9 if hopeless else 3e-3
    rate = trial.suggest_float("learning_rate", rate, rate)
    return {"train": {"model": "dense", "learning_rate": rate}}
"""

# trial 0 measures the untuned config, trial 1 trains a network whose loss is NaN from the first
# batch, trial 2 is healthy
NAN_SPACE = '''
import keras
from kit.models import register

@register("nan_net")
def nan_net(input_shape, num_classes, width=1.0, dropout=0.0):
    """Outputs NaN: the loss diverges at once."""
    inputs = keras.Input(input_shape)
    x = keras.layers.Dense(num_classes, activation="softmax")(keras.layers.Flatten()(inputs))
    return keras.Model(inputs, keras.layers.Lambda(lambda t: t * float("nan"))(x))

def space(trial):
    return {"train": {"model": "nan_net" if trial.number == 1 else "dense"}}
'''


def write_space(tmp_path: Path, text: str, name: str = "space.py") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def sqlite_study(name: str = "fashion-mnist", slug: str = "fashion-mnist") -> optuna.Study:
    storage = f"sqlite:///{paths.artifacts_dir(slug) / 'tune' / 'studies.db'}"
    return optuna.load_study(study_name=name, storage=storage)


def states(study: optuna.Study) -> list[TrialState]:
    return [trial.state for trial in study.get_trials(deepcopy=False)]


def check_ok(result: subprocess.CompletedProcess) -> None:
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


def kit_error(capsys, *argv: str) -> str:
    """Run `python -m kit ARGV` in this process; it must fail with one `error:` line."""
    assert cli.main(list(argv)) == 2
    err = capsys.readouterr().err.strip()
    assert "Traceback" not in err and len(err.splitlines()) == 1, err
    return err


# ---------------------------------------------------------------- pieces


def test_split_trials_adds_exactly_n_trials():
    assert kit.tune.workers.split_trials(5, 2) == [3, 2]
    assert kit.tune.workers.split_trials(4, 4) == [1, 1, 1, 1]
    assert kit.tune.workers.split_trials(1, 3) == [1, 0, 0]
    assert kit.tune.workers.split_trials(0, 2) == [0, 0]  # 0 = until the timeout, for every worker


class ResourceExhaustedError(Exception):
    """Named like TensorFlow's out-of-memory error."""


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (
            TrainingDiverged("training diverged (loss nan): lower train.learning_rate"),
            "training diverged (loss nan): lower train.learning_rate",
        ),
        (MemoryError(), "out of memory"),
        (
            ResourceExhaustedError("OOM when allocating tensor"),
            "out of memory (OOM when allocating tensor)",
        ),
        (
            RuntimeError("RESOURCE_EXHAUSTED: Out of memory while trying to allocate 8.00GiB"),
            "out of memory (RESOURCE_EXHAUSTED: Out of memory while trying to allocate 8.00GiB)",
        ),
        (optuna.TrialPruned(), None),  # Optuna's own: the trial is pruned, not failed
        (ValueError("a bug"), None),  # a bug stops the study
    ],
)
def test_failure_reason_fails_the_trial_only_for_divergence_and_memory(error, expected):
    assert kit.tune.objective.failure_reason(error) == expected


@pytest.mark.parametrize(
    ("sampler", "pruner", "sampler_type", "pruner_type"),
    [
        ("tpe", "median", optuna.samplers.TPESampler, optuna.pruners.MedianPruner),
        ("random", "hyperband", optuna.samplers.RandomSampler, optuna.pruners.HyperbandPruner),
        ("tpe", "none", optuna.samplers.TPESampler, optuna.pruners.NopPruner),
    ],
)
def test_sampler_and_pruner_are_selectable(sampler, pruner, sampler_type, pruner_type):
    cfg = competitions.load_config("fashion", overrides=[f"tune.sampler={sampler}", f"tune.pruner={pruner}"])
    assert type(kit.tune.study.make_sampler(cfg.tune, seed=1)) is sampler_type
    assert type(kit.tune.study.make_pruner(cfg)) is pruner_type


def test_defaults_are_tpe_and_median_pruning_after_five_trials():
    cfg = competitions.load_config("fashion")
    assert (cfg.tune.sampler, cfg.tune.pruner, cfg.tune.startup_trials) == ("tpe", "median", 5)
    assert kit.tune.study.make_pruner(cfg)._n_startup_trials == 5


def test_storage_defaults_sqlite_for_one_worker_and_a_journal_for_several(workdir):
    cfg = competitions.load_config("fashion")
    folder = workdir / "artifacts" / "fashion-mnist" / "tune"
    assert kit.tune.storage.storage_for(cfg) == f"sqlite:///{folder / 'studies.db'}"
    assert kit.tune.storage.storage_for(config.replace(cfg, tune={"workers": 3})) == str(folder / "journal.log")
    url = "postgresql://kit:secret@db.example:5432/kit"
    assert kit.tune.storage.storage_for(config.replace(cfg, tune={"storage": url, "workers": 3})) == url
    assert kit.tune.storage.show_storage(url) == "postgresql://kit:***@db.example:5432/kit"


# ---------------------------------------------------------------- a password never leaves

PASSWORD = "s3c@ret-pw"  # with an unescaped @, as people write them
URL = f"postgresql://kit:{PASSWORD}@127.0.0.1:1/kit"


def assert_no_password(text: str) -> None:
    for piece in (PASSWORD, "s3c", "ret-pw"):
        assert piece not in text, text


@pytest.mark.parametrize(
    ("text", "hidden"),
    [
        ("postgresql://kit:pw@db.example:5432/kit", "postgresql://kit:***@db.example:5432/kit"),
        (f"cannot reach {URL}: refused", "cannot reach postgresql://kit:***@127.0.0.1:1/kit: refused"),
        ("postgresql://kit@db/kit?sslmode=require&password=pw", "postgresql://kit@db/kit?sslmode=require&password=***"),
        ("sqlite:///a/studies.db", "sqlite:///a/studies.db"),
        ("/a/journal.log", "/a/journal.log"),
        ("postgresql://kit@db/kit", "postgresql://kit@db/kit"),
    ],
)
def test_passwords_are_hidden_in_urls(text, hidden):
    assert kit.config.redact.hide_passwords(text) == hidden


@pytest.mark.parametrize(
    "url", [URL, URL.replace(":1/", ":notaport/"), "postgresql://kit@127.0.0.1:1/kit?password=s3c@ret-pw"]
)
def test_an_unreachable_or_malformed_storage_never_prints_its_password(url):
    result = run_kit("tune", *TINY, "--storage", url, timeout=60)
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1, result.stderr
    assert_no_password(result.stdout + result.stderr)


def test_saved_configs_and_submission_records_hold_no_password(tmp_path):
    cfg = competitions.load_config("fashion", overrides=[f"tune.storage={URL}"])
    config.save(cfg, tmp_path / "config.json")  # what every trial, run and comparison writes
    saved = (tmp_path / "config.json").read_text()
    assert_no_password(saved)
    assert "postgresql://kit:***@127.0.0.1:1/kit" in saved
    assert_no_password(str(config.public_dict(cfg)))  # submission records and the tracker
    assert cfg.tune.storage == URL  # the study itself still opens the real one


def test_workers_get_the_storage_in_their_environment_not_their_command_line(monkeypatch):
    launched = []

    def popen(command, **kwargs):
        launched.append((command, kwargs))
        return types.SimpleNamespace(wait=lambda: 0, poll=lambda: 0, returncode=0)

    monkeypatch.setattr(kit.tune.workers.subprocess, "Popen", popen)
    args = cli.parse(["tune", *TINY, f"tune.storage={URL}", "--storage", URL, "--workers", "3"])
    cfg = kit.tune.study.apply_flags(competitions.load_config("fashion", "tiny", args.set), args)
    kit.tune.workers.launch_workers(args, cfg, URL, "s1", [2, 2])
    assert len(launched) == 2
    for command, kwargs in launched:
        assert_no_password(" ".join(command))
        assert kwargs["env"]["KIT_STORAGE"] == URL
        assert command[command.index("--study") + 1] == "s1"
        monkeypatch.setenv("KIT_STORAGE", URL)  # as the worker reads its command line
        worker = cli.parse(command[3:])
        assert (worker.storage, worker.worker, worker.n_trials) == (URL, int(command[-1]), 2)


def test_the_dashboard_gets_the_storage_in_its_environment(monkeypatch, capsys):
    execs = []
    monkeypatch.setattr(kit.tune.study.os, "execve", lambda path, argv, env: execs.append((argv, env)))
    monkeypatch.setenv("KIT_STORAGE", URL)
    cli.main(["dashboard", "--comp", "fashion", "--port", "9999"])
    ((argv, env),) = execs
    assert_no_password(" ".join(argv) + capsys.readouterr().out)
    assert PASSWORD in env["KIT_DASHBOARD_STORAGE"]


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


class FakeFit:
    """Stands in for kit.training.runs.fit: records its calls, scores fold k as 0.5 + k / 10, or raises."""

    def __init__(self, error: BaseException | None = None):
        self.calls, self.error = [], error

    def __call__(self, cfg, images, train_index, val_index, fold_dir, extra_callbacks=(), verbose="auto"):
        self.calls.append((cfg, len(train_index), len(val_index), extra_callbacks))
        if self.error is not None and len(self.calls) == 1:  # only the first trial's first fold
            raise self.error
        score = 0.5 + (len(self.calls) - 1) % 3 / 10
        return types.SimpleNamespace(scores={"accuracy": score, "macro_f1": score, "score": score})


def run_objective(monkeypatch, tmp_path, fake: FakeFit, folds: int, n_trials: int) -> optuna.Study:
    """Two trials of the real Objective on 60 labelled rows, with `fit` replaced by `fake`."""
    from kit.data.pixels import Images
    from kit.data.splits import make_splits

    monkeypatch.setattr(runs, "fit", fake)
    cfg = competitions.load_config("fashion", overrides=[f"data.folds={folds}"])
    labels = np.repeat(np.arange(10), 6)
    images = Images(np.zeros((60, 28, 28, 1), np.uint8), labels, np.arange(60), tmp_path / "train.csv")
    space = kit.tune.space.load_space(cfg)
    objective = kit.tune.objective.Objective(cfg, space, images, make_splits(labels, cfg.data), tmp_path / "study")
    study = optuna.create_study(direction="maximize")
    study.optimize(objective, n_trials=n_trials)
    return study


def test_objective_averages_k_folds_and_prunes_on_the_first(monkeypatch, tmp_path):
    fake = FakeFit()
    study = run_objective(monkeypatch, tmp_path, fake, folds=3, n_trials=1)
    assert [call[1:3] for call in fake.calls] == [(40, 20)] * 3  # the seeded 3-fold split of 60 rows
    assert study.trials[0].value == pytest.approx((0.5 + 0.6 + 0.7) / 3)
    assert study.trials[0].user_attrs["fold2"]["score"] == pytest.approx(0.7)
    callbacks = [call[3] for call in fake.calls]
    assert [type(c).__name__ for c in callbacks[0]] == ["KerasPruningCallback"] and callbacks[1:] == [(), ()]
    sampled = fake.calls[0][0]  # the config fit() received carries the trial's parameters
    assert sampled.train.learning_rate == study.trials[0].params["learning_rate"]
    assert (tmp_path / "study" / "trial0" / "config.json").exists()


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (ResourceExhaustedError("OOM when allocating tensor"), "out of memory (OOM when allocating tensor)"),
        (TrainingDiverged("training diverged (loss nan): lower train.learning_rate"), "training diverged"),
    ],
)
def test_out_of_memory_or_divergence_fails_the_trial_and_the_study_goes_on(monkeypatch, tmp_path, error, reason):
    study = run_objective(monkeypatch, tmp_path, FakeFit(error), folds=0, n_trials=2)
    assert [t.state for t in study.trials] == [TrialState.FAIL, TrialState.COMPLETE]
    assert study.trials[0].user_attrs["failure"].startswith(reason)


def test_a_config_mistake_inside_a_trial_stops_the_study(monkeypatch, tmp_path):
    """Not a property of the sampled values: the same error would fail every trial."""
    from kit.errors import KitError

    with pytest.raises(KitError, match="unknown model"):
        run_objective(monkeypatch, tmp_path, FakeFit(KitError("unknown model 'x'")), folds=0, n_trials=3)


def test_continuing_a_study_from_another_base_config_warns(capsys):
    tiny = competitions.load_config("fashion", "tiny")
    spec = kit.tune.storage.storage_for(tiny)
    storage = kit.tune.storage.open_storage(spec, tiny.tune)
    kit.tune.study.open_study(tiny, storage, spec, worker=0)
    # other tune settings and another data folder are the same experiment
    same = config.replace(tiny, tune={"n_trials": 3, "sampler": "random"}, data={"dir": "/elsewhere"})
    kit.tune.study.open_study(same, storage, spec, worker=0)
    assert capsys.readouterr().err == ""
    kit.tune.study.open_study(competitions.load_config("fashion", "quick"), storage, spec, worker=0)
    assert "warning: study 'fashion-mnist' was started from another configuration" in capsys.readouterr().err


def test_best_params_file_is_a_config_layer(workdir):
    """What write_best_params writes, PARAMS=best reads back as config sections."""
    cfg = competitions.load_config("fashion")
    trial = optuna.trial.create_trial(
        params={"learning_rate": 0.002},
        value=0.91,
        distributions={"learning_rate": optuna.distributions.FloatDistribution(1e-4, 1e-2, log=True)},
        user_attrs={
            "config": {
                "train": {"learning_rate": 0.002, "model": "dense"},
                "augment": {"horizontal_flip": False},
            }
        },
    )
    study = optuna.create_study(direction="maximize")
    study.add_trial(trial)
    path = kit.tune.summary.write_best_params(cfg, "my-study", study.best_trial, "sqlite:///x.db")
    assert path == workdir / "artifacts" / "fashion-mnist" / "best_params.toml"
    header = tomllib.loads(path.read_text())
    assert (header["study"], header["trial"], header["value"]) == ("my-study", 0, 0.91)
    params = load_params(best_params_path("fashion-mnist"))
    assert params == {
        "train": {"learning_rate": 0.002, "model": "dense"},
        "augment": {"horizontal_flip": False},
    }
    tuned_cfg = competitions.load_config("fashion", overrides=["train.epochs=3"], params=params)
    assert (tuned_cfg.train.learning_rate, tuned_cfg.train.model, tuned_cfg.train.epochs) == (
        0.002,
        "dense",
        3,
    )
    assert tuned_cfg.augment.horizontal_flip is False


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([0.80, 0.85, 0.83], "use it: make train COMP=fashion-mnist PRESET=tiny DATA='/my data' PARAMS=best"),
        ([0.85, 0.84, 0.80], "no better than the untuned configuration (trial 0, accuracy 0.8500)"),
        ([0.10, 0.105, 0.09], "at chance (accuracy 0.1000 for guessing)"),
    ],
)
def test_a_study_says_whether_its_best_trial_is_worth_using(values, expected):
    """The first trial measures the untuned configuration: tuning that does not beat it, or that
    scores at chance, is not recommended."""
    cfg = competitions.load_config("fashion")
    trials = [
        optuna.trial.create_trial(value=value, user_attrs={"untuned": True} if number == 0 else {})
        for number, value in enumerate(values)
    ]
    study = optuna.create_study(direction="maximize")
    for trial in trials:
        study.add_trial(trial)
    args = types.SimpleNamespace(preset="tiny", data="/my data")
    command = kit.tune.study.follow_up(cfg, args)
    assert expected in kit.tune.study.verdict(cfg, study.trials, study.best_trial, command)


def test_best_params_never_carry_what_a_study_keeps_fixed(workdir, tmp_path):
    """A trial's stored config comes from a shared database: whoever can write there must not be
    able to plant [tune] space (a Python file the next study imports), [data] or [submission]."""
    cfg = competitions.load_config("fashion")
    planted = {
        "train": {"learning_rate": 0.002},
        "tune": {"space": str(tmp_path / "evil.py")},
        "data": {"dir": "/somewhere/else"},
        "submission": {"form": "probabilities"},
    }
    trial = optuna.trial.create_trial(
        params={"learning_rate": 0.002},
        value=0.91,
        distributions={"learning_rate": optuna.distributions.FloatDistribution(1e-4, 1e-2, log=True)},
        user_attrs={"config": planted},
    )
    study = optuna.create_study(direction="maximize")
    study.add_trial(trial)
    path = kit.tune.summary.write_best_params(cfg, "shared", study.best_trial, "sqlite:///x.db")
    assert load_params(path) == {"train": {"learning_rate": 0.002}}
    received = tmp_path / "received.toml"
    received.write_text('[train]\nepochs = 3\n[tune]\nspace = "evil.py"\n')
    with pytest.raises(KitError, match=r"received.toml: tuned parameters never set \[tune\]"):
        load_params(received)


# ---------------------------------------------------------------- bad inputs: one line, at once


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


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (("--sampler", "cmaes"), "config key 'tune.sampler' must be one of tpe, random, got 'cmaes'"),
        (("--pruner", "asha"), "config key 'tune.pruner' must be one of median, hyperband, none, got 'asha'"),
        (("--n-trials", "0"), "N_TRIALS=0 runs until TIMEOUT: give a TIMEOUT in seconds too"),
        (("--workers", "0"), "WORKERS=0: needs 1 or more"),
    ],
)
def test_bad_tune_settings(capsys, flags, message):
    assert kit_error(capsys, "tune", *TINY, *flags) == f"error: {message}"


@pytest.mark.parametrize(
    ("url", "message"),
    [
        (
            "postgresql://kit:secret@127.0.0.1:1/kit",
            "cannot reach storage postgresql://kit:***@127.0.0.1:1/kit: "
            'connection to server at "127.0.0.1", '
            "port 1 failed: Connection refused",
        ),
        (
            "postgresql://kit@no-such-host.invalid/kit",
            "cannot reach storage postgresql://kit@no-such-host.invalid/kit: "
            "could not translate host name "
            '"no-such-host.invalid" to address',
        ),
        (
            "nosuchdb://x/y",
            "storage 'nosuchdb://x/y' is not a database URL: Can't load plugin: sqlalchemy.dialects:nosuchdb",
        ),
    ],
)
def test_unreachable_storage_stops_within_seconds(url, message):
    result = run_kit("tune", *TINY, "--storage", url, timeout=60)  # a hang fails here, not a slow machine
    assert result.returncode == 2 and "Traceback" not in result.stderr
    error = result.stderr.strip().splitlines()[-1]
    assert error.startswith(f"error: {message}"), error
    assert "secret" not in result.stderr


@pytest.mark.parametrize(
    ("storage", "message"),
    [
        (
            "sqlite:////proc/no-such/studies.db",
            "storage sqlite:////proc/no-such/studies.db: cannot create /proc/no-such",
        ),
        ("/proc/no-such/journal.log", "journal file /proc/no-such/journal.log: No such file or directory"),
    ],
)
def test_storage_in_a_folder_that_cannot_exist(capsys, storage, message):
    assert kit_error(capsys, "tune", *TINY, "--storage", storage).startswith(f"error: {message}")


def test_dashboard_without_a_study(capsys, workdir):
    err = kit_error(capsys, "dashboard", "--comp", "fashion")
    folder = workdir / "artifacts" / "fashion-mnist" / "tune"
    assert err == f"error: no study in {folder}: run `make tune COMP=fashion-mnist` first (or give STORAGE=)"


def test_dashboard_serves_the_study_on_localhost(workdir):
    storage = f"sqlite:///{kit.tune.storage.tune_dir('fashion-mnist') / 'studies.db'}"
    kit.tune.storage.tune_dir("fashion-mnist").mkdir(parents=True)
    optuna.create_study(study_name="fashion-mnist", storage=storage).optimize(
        lambda t: t.suggest_float("x", 0, 1), n_trials=2
    )
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "kit", "dashboard", "--comp", "fashion", "--port", str(port)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}/api/studies"
    try:
        body = wait_for_http(url, timeout=60)
        assert '"study_name": "fashion-mnist"' in body or '"study_name":"fashion-mnist"' in body
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    with pytest.raises(OSError):  # the server itself stopped: no dashboard is left behind
        urllib.request.urlopen(url, timeout=5)


def wait_for_http(url: str, timeout: float) -> str:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                return response.read().decode()
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# ---------------------------------------------------------------- studies that train


@pytest.mark.slow
def test_tiny_study_completes_and_a_second_call_continues_it(tmp_path, workdir):
    space = write_space(tmp_path, DENSE_SPACE)
    # the first call through the Makefile, as a user types it
    first = subprocess.run(
        ["make", "tune", "COMP=fashion", "PRESET=tiny", "N_TRIALS=3",
         f"SET=data.limit=300 train.epochs=1 tune.space={space}"],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    check_ok(first)
    assert states(sqlite_study()) == [TrialState.COMPLETE] * 3
    best = tomllib.loads((workdir / "artifacts" / "fashion-mnist" / "best_params.toml").read_text())
    assert best["study"] == "fashion-mnist" and best["metric"] == "accuracy"
    assert best["value"] == sqlite_study().best_value and best["trial"] == sqlite_study().best_trial.number
    assert best["train"]["model"] == "dense" and 1e-3 <= best["train"]["learning_rate"] <= 1e-2
    reports = workdir / "artifacts" / "fashion-mnist" / "tune" / "fashion-mnist" / "reports"
    for name in ("history", "parallel_coordinate"):
        assert (reports / f"{name}.png").stat().st_size > 1000
    # importances from three trials would be noise drawn as a ranking: said, not drawn
    assert not (reports / "importances.png").exists()
    assert "no importances plot yet: 3 finished trials, 10 needed" in first.stdout
    assert "study 'fashion-mnist': 3 trials (3 complete)" in first.stdout
    assert "learning_rate" in first.stdout and "batch_size" in first.stdout  # the summary table

    second = run_kit("tune", *TINY, f"tune.space={space}", "--n-trials", "1")
    check_ok(second)
    assert "3 trials so far, adding 1" in second.stdout
    assert states(sqlite_study()) == [TrialState.COMPLETE] * 4
    # a continued study draws new parameters, it does not replay the first call's
    params = [tuple(t.params.values()) for t in sqlite_study().trials]
    assert len(set(params)) == 4


@pytest.mark.slow
def test_hopeless_trial_is_pruned(tmp_path):
    space = write_space(tmp_path, HOPELESS_SPACE)
    result = run_kit(
        "tune",
        *TINY,
        "train.epochs=2",
        f"tune.space={space}",
        "tune.startup_trials=2",
        "--n-trials",
        "3",
        "--pruner",
        "median",
    )
    check_ok(result)
    study = sqlite_study()
    assert states(study) == [TrialState.COMPLETE, TrialState.COMPLETE, TrialState.PRUNED]
    assert study.trials[2].last_step < 1  # stopped before its last epoch
    assert "trial 2 pruned: stopped after epoch 1" in result.stdout


@pytest.mark.slow
def test_diverging_trial_fails_and_the_study_goes_on(tmp_path):
    space = write_space(tmp_path, NAN_SPACE)
    result = run_kit("tune", *TINY, f"tune.space={space}", "--n-trials", "3", "--pruner", "none")
    check_ok(result)
    study = sqlite_study()
    assert states(study) == [TrialState.COMPLETE, TrialState.FAIL, TrialState.COMPLETE]
    assert study.trials[0].user_attrs["untuned"] and study.trials[0].params == {}
    assert study.trials[1].user_attrs["failure"].startswith("training diverged (loss nan)")
    assert "trial 1 fail: training diverged (loss nan)" in result.stdout
    assert study.best_trial.number in (0, 2)


@pytest.mark.slow
def test_two_workers_share_a_journal_file(tmp_path, workdir):
    space = write_space(tmp_path, DENSE_SPACE)
    result = run_kit("tune", *TINY, f"tune.space={space}", "--n-trials", "4", "--workers", "2")
    check_ok(result)
    journal = workdir / "artifacts" / "fashion-mnist" / "tune" / "journal.log"
    storage = optuna.storages.JournalStorage(optuna.storages.journal.JournalFileBackend(str(journal)))
    study = optuna.load_study(study_name="fashion-mnist", storage=storage)
    assert states(study) == [TrialState.COMPLETE] * 4
    assert len({t.user_attrs["worker"] for t in study.trials}) == 2
    assert (workdir / "artifacts" / "fashion-mnist" / "best_params.toml").exists()


# ---------------------------------------------------------------- PostgreSQL


def postgres_bin() -> Path | None:
    """The newest installed PostgreSQL's bin folder (Debian's layout, or initdb on PATH)."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parts[-3]))
    if found:
        return found[-1].parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


@pytest.fixture(scope="session")
def postgres_url():
    """A throwaway PostgreSQL cluster on 127.0.0.1 for this session; its URL."""
    bindir = postgres_bin()
    if bindir is None:
        pytest.skip("PostgreSQL is not installed (apt-get install postgresql, as .ci/run does)")
    root = Path(tempfile.mkdtemp(prefix="kit-postgres-"))
    # postgres refuses to run as root: as root, the cluster belongs to the postgres user
    as_owner = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    if as_owner:
        shutil.chown(root, "postgres")
    data, port = root / "data", free_port()
    options = f"-p {port} -k {root} -c listen_addresses=127.0.0.1"
    pg_ctl = [*as_owner, str(bindir / "pg_ctl"), "-D", str(data)]
    subprocess.run(
        [*as_owner, str(bindir / "initdb"), "-D", str(data), "-U", "kit", "--auth=trust"],
        check=True,
        capture_output=True,
        timeout=120,
    )
    subprocess.run(
        [*pg_ctl, "-l", str(root / "server.log"), "-w", "-o", options, "start"],
        check=True,
        capture_output=True,
        timeout=120,
    )
    try:
        subprocess.run(
            [str(bindir / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "kit", "kit"],
            check=True,
            capture_output=True,
            timeout=60,
        )
        yield f"postgresql://kit@127.0.0.1:{port}/kit"
    finally:
        subprocess.run([*pg_ctl, "-m", "immediate", "stop"], capture_output=True, timeout=120)
        shutil.rmtree(root, ignore_errors=True)


def pg_study(url: str, name: str) -> optuna.Study:
    return optuna.load_study(study_name=name, storage=kit.tune.storage.open_storage(url, config.TuneSection()))


@pytest.mark.slow
@pytest.mark.postgres
def test_two_workers_share_a_postgres_study(tmp_path, postgres_url, workdir):
    space = write_space(tmp_path, DENSE_SPACE)
    # the cluster trusts 127.0.0.1, so a password is accepted and ignored: it must not leak
    with_password = postgres_url.replace("kit@", "kit:pw-s3cret@")
    result = run_kit(
        "tune",
        *TINY,
        f"tune.space={space}",
        "--storage",
        with_password,
        "--study",
        "shared",
        "--n-trials",
        "4",
        "--workers",
        "2",
    )
    check_ok(result)
    study = pg_study(postgres_url, "shared")
    assert states(study) == [TrialState.COMPLETE] * 4
    assert len({t.user_attrs["worker"] for t in study.trials}) == 2
    assert f"in {postgres_url.replace('kit@', 'kit:***@')}: 0 trials so far" in result.stdout
    written = [path for path in workdir.rglob("*") if path.is_file()]
    assert any(path.name == "config.json" for path in written) and any(p.name == "best_params.toml" for p in written)
    for path in written:  # every trial's config.json, best_params.toml, reports
        assert b"pw-s3cret" not in path.read_bytes(), path
    assert "pw-s3cret" not in result.stdout + result.stderr


@pytest.mark.slow
@pytest.mark.postgres
def test_a_killed_worker_trial_is_failed_by_the_heartbeat(tmp_path, postgres_url):
    """SIGKILL one of two workers mid-trial: the other finishes, nothing completed is lost, and the
    heartbeat marks the killed worker's running trial failed."""
    space = write_space(tmp_path, DENSE_SPACE)
    args = (
        "tune",
        "--comp",
        "fashion",
        "--preset",
        "tiny",
        "--set",
        "data.limit=300",
        "train.epochs=2",
        f"tune.space={space}",
        "tune.heartbeat_interval=1",
        "tune.grace_period=5",
        "--storage",
        postgres_url,
        "--study",
        "killed",
        "--pruner",
        "none",
    )
    env = {**os.environ, "KERAS_BACKEND": "tensorflow"}
    victim_log = (tmp_path / "victim.log").open("w")
    victim = subprocess.Popen(
        [sys.executable, "-m", "kit", *args, "--n-trials", "20"],
        cwd=ROOT,
        env=env,
        stdout=victim_log,
        stderr=subprocess.STDOUT,
    )
    survivor = subprocess.Popen(
        [sys.executable, "-m", "kit", *args, "--n-trials", "5"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        mine = wait_for_running_after_complete(postgres_url, "killed", victim, timeout=240)
        victim.send_signal(signal.SIGKILL)
        victim.wait(timeout=30)
        output, _ = survivor.communicate(timeout=300)
    finally:
        for proc in (victim, survivor):
            if proc.poll() is None:
                proc.kill()
        victim_log.close()
    assert survivor.returncode == 0, output[-3000:]
    trials = {t.number: t for t in pg_study(postgres_url, "killed").trials}
    # failed by the survivor's heartbeat check
    assert trials[mine["running"]].state == TrialState.FAIL
    assert all(trials[n].state == TrialState.COMPLETE for n in mine["complete"])  # nothing lost
    survivors = [t for t in trials.values() if t.user_attrs.get("worker", "").endswith(f":{survivor.pid}")]
    assert [t.state for t in survivors] == [TrialState.COMPLETE] * 5


def wait_for_running_after_complete(url: str, study: str, proc, timeout: float) -> dict:
    """Poll the study until the worker `proc` has completed a trial and is running the next one."""
    storage = kit.tune.storage.open_storage(url, config.TuneSection())
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            trials = optuna.load_study(study_name=study, storage=storage).trials
        except KeyError:  # the study does not exist yet
            trials = []
        mine = [t for t in trials if t.user_attrs.get("worker", "").endswith(f":{proc.pid}")]
        complete = [t.number for t in mine if t.state == TrialState.COMPLETE]
        running = [t.number for t in mine if t.state == TrialState.RUNNING]
        if complete and running and running[0] > max(complete):
            return {"complete": complete, "running": running[0]}
        time.sleep(0.5)
    raise AssertionError(
        f"worker {proc.pid} (exit code {proc.poll()}) never had a running trial "
        f"after a completed one: {[(t.number, t.state.name) for t in trials]}"
    )


def test_no_data_is_said_before_a_study_database_is_made(workdir, capsys):
    assert cli.main(["tune", "--comp", "digits", "--n-trials", "1"]) == 2
    assert capsys.readouterr().err.startswith("error: no data for digit-recognizer")
    assert not (workdir / "artifacts" / "digit-recognizer" / "tune").exists()
