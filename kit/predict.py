"""Prediction: deterministic test-time augmentation and ensembling of checkpoints.

Every checkpoint (one per fold of every chosen run) predicts every TTA view inside one compiled
model; class probabilities are averaged over views, then over checkpoints.
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import keras
import numpy as np

from kit import config
from kit.augment import FixedAffine, tta_views
from kit.config import Config
from kit.train import load_checkpoint, predict_images


def with_tta(model: keras.Model, cfg: Config) -> keras.Model:
    """`model` wrapped so that one call averages its softmax over `cfg.predict.tta` views."""
    views = tta_views(cfg.predict.tta, cfg.augment)
    if len(views) == 1:
        return model
    inputs = keras.Input(model.input_shape[1:], name="pixels")
    pixels = keras.layers.Activation("linear", dtype="float32")(inputs)  # views resample floats
    outputs = [
        model(FixedAffine(asdict(view), fill_mode=cfg.augment.fill_mode, cval=cfg.augment.cval * 255)(pixels))
        for view in views
    ]
    return keras.Model(inputs, keras.layers.Average()(outputs), name=f"{model.name}_tta{len(views)}")


def checkpoints(run_dir: Path) -> list[Path]:
    """Every fold's saved model: `best.keras` (networks) or `best.joblib` (scikit-learn)."""
    found = sorted([*run_dir.glob("fold*/best.keras"), *run_dir.glob("fold*/best.joblib")])
    if not found:
        from kit.errors import KitError

        raise KitError(f"{run_dir}: no checkpoints (fold*/best.keras or best.joblib); did the run finish an epoch?")
    return found


def predict_checkpoint(path: Path, cfg: Config, images: np.ndarray) -> np.ndarray:
    """One checkpoint's class probabilities: a network with its TTA views, a scikit-learn model
    on flattened pixels (TTA does not apply: the views would need one fit per view)."""
    if path.suffix == ".joblib":
        from kit import classical

        return classical.predict_proba(classical.load(path), images, cfg.num_classes)
    model = with_tta(load_checkpoint(path), cfg)
    return predict_images(model, images, np.arange(len(images)), cfg.predict.batch_size, cfg.data.workers)


def predict_run(run_dir: Path, images: np.ndarray, tta: int | None = None) -> np.ndarray:
    """Mean class probabilities over a run's fold checkpoints, with the run's own augmentation
    settings deciding the TTA views (`tta` overrides the view count)."""
    cfg = config.load_saved(run_dir / "config.json")
    if tta is not None:
        cfg = config.replace(cfg, predict={"tta": tta})
    total = None
    paths = checkpoints(run_dir)
    for path in paths:
        probabilities = predict_checkpoint(path, cfg, images)
        total = probabilities if total is None else total + probabilities
    return total / len(paths)


def ensemble(run_dirs: list[Path], images: np.ndarray, tta: int | None = None) -> np.ndarray:
    """Average the runs' probabilities (each run already averages its folds and views)."""
    return np.mean([predict_run(run_dir, images, tta) for run_dir in run_dirs], axis=0)
