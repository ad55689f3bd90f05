"""The one place that maps a model to its kind's module (see `kit.training.results.ModelKind`).

The Keras kind is imported only when a network is used: TensorFlow costs seconds and 750 MB,
which a scikit-learn baseline or a `--help` should not pay.
"""

from __future__ import annotations

import importlib
import json
from pathlib import Path

from kit import models
from kit.errors import KitError
from kit.training.results import ModelKind

MODULES = {"keras": "kit.training.keras_kind", "sklearn": "kit.training.sklearn_kind"}
# each kind module's CHECKPOINT, named here too so that finding checkpoints never imports Keras
CHECKPOINTS = {"best.keras": "keras", "best.skops": "sklearn"}
# what older kits saved scikit-learn models as: a pickle, which runs code when loaded; never opened
LEGACY_CHECKPOINT = "best.joblib"


def named(kind: str) -> ModelKind:
    return importlib.import_module(MODULES[kind])


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
