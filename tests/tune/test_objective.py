"""The tuning objective is kind-agnostic: the trial's model kind supplies its pruning callbacks
and its clean-up, so a study of scikit-learn models runs without importing Keras."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from conftest import ROOT

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
