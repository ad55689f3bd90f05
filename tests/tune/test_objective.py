"""The tuning objective is kind-agnostic: the trial's model kind supplies its pruning callbacks
and its clean-up, so a study of scikit-learn models runs without importing Keras. A trial averages its
folds and prunes on the first; out of memory or divergence fails one trial, a config mistake stops the study."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import types

import numpy as np
import optuna
import pytest
from conftest import ROOT
from optuna.trial import TrialState

import kit.tune.objective
import kit.tune.space
from kit.config import competitions
from kit.errors import KitError, TrainingDiverged
from kit.training import runs

SKLEARN_STUDY = textwrap.dedent(
    """
    import sys
    from pathlib import Path

    import numpy as np
    import optuna

    from kit.config import competitions
    from kit.data.pixels import Images
    from kit.data.splits import make_splits
    from kit.tune.objective import Objective

    def space(trial):
        return {"train": {"model": "logreg", "max_train_rows": trial.suggest_int("max_train_rows", 40, 60)}}

    space.path = Path("space.py")
    cfg = competitions.load_config("fashion", overrides=["data.folds=2", "train.model=logreg"])
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(10), 8)
    images = Images(rng.integers(0, 255, (80, 28, 28, 1), dtype=np.uint8), labels, np.arange(80), Path("train.csv"))
    study = optuna.create_study(direction="maximize")
    study.optimize(Objective(cfg, space, images, make_splits(labels, cfg.data), Path(sys.argv[1])), n_trials=2)
    print("trials", [trial.state.name for trial in study.trials])
    print("keras imported:", "keras" in sys.modules, "tensorflow imported:", "tensorflow" in sys.modules)
    """
)


def test_a_scikit_learn_study_never_imports_keras(tmp_path):
    ran = subprocess.run(
        [sys.executable, "-c", SKLEARN_STUDY, str(tmp_path / "study")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert ran.returncode == 0, ran.stderr[-3000:]
    assert "trials ['COMPLETE', 'COMPLETE']" in ran.stdout
    assert "keras imported: False tensorflow imported: False" in ran.stdout
    # trials keep their config and history, not their checkpoints
    assert (tmp_path / "study" / "trial1" / "fold1" / "history.csv").exists()
    assert not list((tmp_path / "study").rglob("best.skops"))


def test_each_kind_says_how_a_trial_is_pruned():
    import optuna

    from kit.training import kinds

    trial = optuna.create_study().ask()
    assert [type(c).__name__ for c in kinds.named("keras").pruning_callbacks(trial, "val_accuracy")] == [
        "KerasPruningCallback"
    ]
    assert kinds.named("sklearn").pruning_callbacks(trial, "val_accuracy") == []


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
    with pytest.raises(KitError, match="unknown model"):
        run_objective(monkeypatch, tmp_path, FakeFit(KitError("unknown model 'x'")), folds=0, n_trials=3)
