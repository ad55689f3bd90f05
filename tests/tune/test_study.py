"""`make tune` (kit/tune/study.py, workers.py): tiny studies end to end, continuation, pruning, failed
trials, workers on a journal file, the verdict on the best trial, the dashboard, and bad tune settings
(workers on PostgreSQL are in test_storage.py).

Studies train the `dense` model on 300 rows for one or two epochs: seconds per trial on a CPU.
"""

from __future__ import annotations

import subprocess
import sys
import tomllib
import types
import urllib.request

import optuna
import pytest
from conftest import ROOT, run_kit
from optuna.trial import TrialState
from tune_helpers import (
    DENSE_SPACE,
    TINY,
    check_ok,
    free_port,
    kit_error,
    sqlite_study,
    states,
    wait_for_http,
    write_space,
)

import kit.tune.storage
import kit.tune.study
import kit.tune.workers
from kit import cli, config
from kit.config import competitions

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


def test_split_trials_adds_exactly_n_trials():
    assert kit.tune.workers.split_trials(5, 2) == [3, 2]
    assert kit.tune.workers.split_trials(4, 4) == [1, 1, 1, 1]
    assert kit.tune.workers.split_trials(1, 3) == [1, 0, 0]
    assert kit.tune.workers.split_trials(0, 2) == [0, 0]  # 0 = until the timeout, for every worker


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
    assert "no importances plot yet: 2 finished trial(s) with sampled parameters, 10 needed" in first.stdout
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


def test_no_data_is_said_before_a_study_database_is_made(workdir, capsys):
    assert cli.main(["tune", "--comp", "digits", "--n-trials", "1"]) == 2
    assert capsys.readouterr().err.startswith("error: no data for digit-recognizer")
    assert not (workdir / "artifacts" / "digit-recognizer" / "tune").exists()
