"""The model kinds, one class each, and the one place that maps a model or a checkpoint to its
kind (see `kit.training.results.ModelKind`): `KerasKind` for networks, `SklearnKind` for the
scikit-learn baselines.

A kind fits, loads and predicts through its module (`kit.training.keras_kind`,
`kit.training.sklearn_kind`), imported on first use: TensorFlow costs seconds and 750 MB, which a
scikit-learn baseline, a scikit-learn tuning study or a `--help` should not pay. What differs
between kinds beyond that is said by the kind itself, never by a branch elsewhere: how a tuning
trial is pruned (`pruning_callbacks`) and what a fit leaves in the process (`clear`).
"""

from __future__ import annotations

import importlib
import json
from pathlib import Path

import numpy as np

from kit import models
from kit.errors import KitError
from kit.training.results import FoldResult, ModelKind

# what older kits saved scikit-learn models as: a pickle, which runs code when loaded; never opened
LEGACY_CHECKPOINT = "best.joblib"


class Kind:
    """What every kind shares: the interface, answered by its module."""

    name: str
    CHECKPOINT: str  # the file name of a fold's saved model
    MODULE: str

    def module(self):
        return importlib.import_module(self.MODULE)

    def fit(
        self,
        cfg,
        images,
        train_index: np.ndarray,
        val_index: np.ndarray,
        fold_dir: Path,
        resume: bool = False,
        extra_callbacks: tuple = (),
        verbose: int | str = "auto",
    ) -> FoldResult:
        """Train on `train_index`, validate on `val_index`; `extra_callbacks` are this kind's
        own (`pruning_callbacks`)."""
        fit = self.module().fit
        return fit(
            cfg,
            images,
            train_index,
            val_index,
            fold_dir,
            resume=resume,
            extra_callbacks=extra_callbacks,
            verbose=verbose,
        )

    def fitted_index(self, cfg, labels: np.ndarray, train_index: np.ndarray) -> np.ndarray:
        return self.module().fitted_index(cfg, labels, train_index)

    def load(self, path: Path):
        return self.module().load(path)

    def predict(self, model, cfg, images) -> np.ndarray:
        return self.module().predict(model, cfg, images)

    def parameter_count(self, model) -> int | None:
        return self.module().parameter_count(model)

    def pruning_callbacks(self, trial, monitor: str) -> list:
        """What `fit` takes so that Optuna can stop `trial` early, judged on `monitor`."""
        return []

    def clear(self) -> None:
        """Free what fitting left behind in this process (between tuning trials)."""


class KerasKind(Kind):
    """Networks: epochs, so a trial is pruned after any epoch; graphs kept by Keras' session."""

    name, CHECKPOINT, MODULE = "keras", "best.keras", "kit.training.keras_kind"

    def pruning_callbacks(self, trial, monitor: str) -> list:
        from optuna_integration import KerasPruningCallback  # reports each epoch's `monitor`

        return [KerasPruningCallback(trial, monitor)]

    def clear(self) -> None:
        import keras

        keras.backend.clear_session()


class SklearnKind(Kind):
    """scikit-learn baselines: one fit, nothing between epochs to prune, nothing kept after it."""

    name, CHECKPOINT, MODULE = "sklearn", "best.skops", "kit.training.sklearn_kind"

    def fit(self, cfg, images, train_index, val_index, fold_dir, resume=False, extra_callbacks=(), verbose="auto"):
        """One fit (`resume` has nothing to continue; no callbacks: `pruning_callbacks` is empty)."""
        if extra_callbacks:
            raise TypeError(f"scikit-learn models take no callbacks (given {extra_callbacks})")
        return self.module().fit(cfg, images, train_index, val_index, fold_dir, verbose=verbose)


KINDS: dict[str, ModelKind] = {kind.name: kind for kind in (KerasKind(), SklearnKind())}
# each kind's checkpoint file, so that finding checkpoints never imports Keras
CHECKPOINTS = {kind.CHECKPOINT: name for name, kind in KINDS.items()}


def named(kind: str) -> ModelKind:
    return KINDS[kind]


def for_model(name: str) -> ModelKind:
    """The kind that fits the registered model `name`."""
    return named(models.get(name).kind)


def for_checkpoint(path: Path) -> ModelKind:
    """The kind that saved `path` (a fold's best.keras or best.skops)."""
    if path.name == LEGACY_CHECKPOINT:
        raise legacy_error(path)
    if path.name not in CHECKPOINTS:
        raise KitError(f"{path}: not a checkpoint the kit writes ({', '.join(CHECKPOINTS)})")
    return named(CHECKPOINTS[path.name])


def checkpoints(run_dir: Path) -> list[Path]:
    """Every fold's saved model in a run folder, whatever its kind."""
    legacy = sorted(run_dir.glob(f"fold*/{LEGACY_CHECKPOINT}"))
    if legacy:
        raise legacy_error(legacy[0])
    found = sorted(path for name in CHECKPOINTS for path in run_dir.glob(f"fold*/{name}"))
    if not found:
        raise KitError(f"{run_dir}: no checkpoints (fold*/{' or '.join(CHECKPOINTS)}); did the run finish an epoch?")
    return found


def legacy_error(path: Path) -> KitError:
    """Why a pickled model is refused, and the command that replaces it."""
    try:  # the run's model, for the command; the config is JSON, safe to read
        model = json.loads((path.parent.parent / "config.json").read_text())["train"]["model"]
    except (OSError, ValueError, KeyError, TypeError):
        model = "<its model>"
    return KitError(
        f"{path}: a pickled model (an older kit's format, or a file from elsewhere); unpickling can run "
        f"any code, so the kit never opens one: retrain the run (make train MODEL={model}) to save it as best.skops"
    )
