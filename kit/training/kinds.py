"""The one place that maps a model to its kind's module (see `kit.training.results.ModelKind`).

The Keras kind is imported only when a network is used: TensorFlow costs seconds and 750 MB,
which a scikit-learn baseline or a `--help` should not pay.
"""

from __future__ import annotations

import importlib
from pathlib import Path

from kit import models
from kit.errors import KitError
from kit.training.results import ModelKind

MODULES = {"keras": "kit.training.keras_kind", "sklearn": "kit.training.sklearn_kind"}
# each kind module's CHECKPOINT, named here too so that finding checkpoints never imports Keras
CHECKPOINTS = {"best.keras": "keras", "best.joblib": "sklearn"}


def named(kind: str) -> ModelKind:
    return importlib.import_module(MODULES[kind])


def for_model(name: str) -> ModelKind:
    """The kind that fits the registered model `name`."""
    return named(models.get(name).kind)


def for_checkpoint(path: Path) -> ModelKind:
    """The kind that saved `path` (a fold's best.keras or best.joblib)."""
    if path.name not in CHECKPOINTS:
        raise KitError(f"{path}: not a checkpoint the kit writes ({', '.join(CHECKPOINTS)})")
    return named(CHECKPOINTS[path.name])


def checkpoints(run_dir: Path) -> list[Path]:
    """Every fold's saved model in a run folder, whatever its kind."""
    found = sorted(path for name in CHECKPOINTS for path in run_dir.glob(f"fold*/{name}"))
    if not found:
        raise KitError(f"{run_dir}: no checkpoints (fold*/{' or '.join(CHECKPOINTS)}); did the run finish an epoch?")
    return found
