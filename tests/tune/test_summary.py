"""best_params.toml: a config layer that never carries what a study keeps fixed, and what it says when a
study's best trial is the untuned baseline."""

from __future__ import annotations

import tomllib

import optuna
import pytest

import kit.tune.summary
from kit.config import competitions
from kit.config.params import best_params_path, load_params
from kit.errors import KitError
from kit.tune.objective import BASELINE


def baseline_then_one_trial() -> optuna.Study:
    """Trial 0 (the configuration as it is, best at 0.9) and one sampled trial (0.8)."""
    study = optuna.create_study(direction="maximize")
    study.add_trial(optuna.trial.create_trial(value=0.9, user_attrs={BASELINE: True, "config": {}}))
    study.add_trial(
        optuna.trial.create_trial(
            params={"learning_rate": 0.002},
            distributions={"learning_rate": optuna.distributions.FloatDistribution(1e-4, 1e-2, log=True)},
            value=0.8,
            user_attrs={"config": {"train": {"learning_rate": 0.002}}},
        )
    )
    return study


def test_a_baseline_best_trial_writes_a_file_that_says_so(workdir, capsys):
    cfg = competitions.load_config("fashion")
    study = baseline_then_one_trial()
    path = kit.tune.summary.write_best_params(cfg, "s", study.best_trial, "sqlite:///x.db")
    written = tomllib.loads(path.read_text())
    assert "PARAMS=best changes nothing" in path.read_text().splitlines()[0]
    assert written["untuned"] is True and not [v for v in written.values() if isinstance(v, dict)]
    capsys.readouterr()
    competitions.load_config("fashion", params="best")
    assert "trial 0) is the untuned baseline, so nothing is changed" in capsys.readouterr().out


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


def test_the_trial_table_shows_a_dash_where_trial_0_sampled_nothing(capsys):
    """Trial 0 trains the configuration as it is: its parameter cells read '—', not 'NaN'."""
    cfg = competitions.load_config("fashion")
    study = baseline_then_one_trial()
    kit.tune.summary.print_summary(cfg, study, study.trials)
    out = capsys.readouterr().out
    first = next(line for line in out.splitlines() if line.split()[:2] == ["0", "complete"])
    assert first.split()[-1] == "—" and "NaN" not in out and "0.002" in out


def study_of(values: list[float]) -> optuna.Study:
    """Trial 0 the untuned baseline (no parameters), then one sampled trial per value."""
    study = optuna.create_study(direction="maximize")
    study.add_trial(optuna.trial.create_trial(value=0.9, user_attrs={BASELINE: True, "config": {}}))
    rate = optuna.distributions.FloatDistribution(1e-4, 1e-2, log=True)
    for i, value in enumerate(values):
        study.add_trial(
            optuna.trial.create_trial(
                params={"learning_rate": 1e-3 * (i + 1)}, distributions={"learning_rate": rate}, value=value
            )
        )
    return study


def test_study_pictures_leave_out_the_baseline_where_it_has_no_parameters(tmp_path, capsys, monkeypatch):
    """Two trials drew the untuned trial 0 as a line to 'None' on every parameter axis, and the
    history's trial axis read 0.2, 0.4 ...: the parameter plots wait for two sampled trials, and
    the history has whole trial numbers and the metric by name."""
    from optuna.visualization import matplotlib as plots

    kit.tune.summary.write_reports(study_of([0.8]), tmp_path, "accuracy")
    assert "no parallel_coordinate plot yet: 1 finished trial(s) with sampled parameters, 2 needed" in (
        capsys.readouterr().out
    )
    assert (tmp_path / "history.png").exists() and not (tmp_path / "parallel_coordinate.png").exists()

    drawn = {}
    for name in ("plot_optimization_history", "plot_parallel_coordinate"):
        original = getattr(plots, name)
        monkeypatch.setattr(plots, name, lambda study, _o=original, _n=name: drawn.setdefault(_n, _o(study)))
    kit.tune.summary.write_reports(study_of([0.8, 0.85]), tmp_path, "accuracy")
    assert (tmp_path / "parallel_coordinate.png").exists()
    history = drawn["plot_optimization_history"]
    assert history.get_ylabel() == "validation accuracy (higher is better)"
    assert all(float(tick).is_integer() for tick in history.get_xticks())
    from matplotlib.collections import LineCollection

    collections = [c for c in drawn["plot_parallel_coordinate"].collections if isinstance(c, LineCollection)]
    assert sum(len(c.get_segments()) for c in collections) == 2  # the two sampled trials; not the baseline
