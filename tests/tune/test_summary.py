"""best_params.toml of a study whose best trial is the untuned baseline."""

from __future__ import annotations

import tomllib

import optuna

import kit.tune.summary
from kit.config import competitions
from kit.tune.objective import BASELINE


def test_a_baseline_best_trial_writes_a_file_that_says_so(workdir, capsys):
    cfg = competitions.load_config("fashion")
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
    path = kit.tune.summary.write_best_params(cfg, "s", study.best_trial, "sqlite:///x.db")
    written = tomllib.loads(path.read_text())
    assert "PARAMS=best changes nothing" in path.read_text().splitlines()[0]
    assert written["untuned"] is True and not [v for v in written.values() if isinstance(v, dict)]
    capsys.readouterr()
    competitions.load_config("fashion", params="best")
    assert "trial 0) is the untuned baseline, so nothing is changed" in capsys.readouterr().out
