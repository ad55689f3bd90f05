"""A number per image (rmse, mae: PetFinder Pawpularity). One linear unit, trained on the
standardised target: the network's unit is followed by a layer that un-scales it (y = z * std
+ mean), and the loss is weighted by 1/std^2 (squared error) or 1/std (absolute error), so the
optimiser sees the standardised problem while every saved model predicts in the target's own
units. Predictions are clipped to the training range when written."""

from __future__ import annotations

import numpy as np
import pandas as pd

from kit.config import Config
from kit.errors import KitError
from kit.targets.classification import Read, Target


class Regression(Target):
    name = "regression"
    activation = "linear"
    form = "value"

    def units(self, cfg: Config) -> int:
        return 1

    def read(self, frame: pd.DataFrame, column: str, cfg: Config) -> Read:
        values = pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=np.float64)
        good = np.isfinite(values)
        return Read(np.where(good, 0, -1).astype(np.int64), values, "not a number")

    def encode(self, images, cfg: Config) -> np.ndarray:
        return images.targets.reshape(-1, 1).astype(np.float32)

    def loss(self, cfg: Config, truth: np.ndarray | None):
        import keras

        spread = scale_of(truth)[1]
        if cfg.competition.metric == "mae":
            return keras.losses.MeanAbsoluteError(), 1.0 / spread
        return keras.losses.MeanSquaredError(), 1.0 / spread**2

    def head(self, outputs, truth: np.ndarray | None):
        import keras

        mean, spread = scale_of(truth)
        return keras.layers.Rescaling(spread, offset=mean, dtype="float32", name="unscaled")(outputs)

    def blind_guess(self, cfg: Config, images) -> np.ndarray:
        return np.array([np.mean(images.targets)])

    def decode(self, exp, predictions: np.ndarray) -> dict[str, object]:
        values = np.asarray(predictions, dtype=np.float64).reshape(len(exp.ids), -1)[:, 0]
        low, high = exp.value_range or (-np.inf, np.inf)
        return {exp.columns[1]: np.clip(values, low, high)}

    def check(self, frame: pd.DataFrame, exp, name: str) -> None:
        values = pd.to_numeric(frame[exp.columns[1]], errors="coerce").to_numpy(dtype=np.float64)
        bad = ~np.isfinite(values)
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            value = frame[exp.columns[1]].iat[row]
            raise KitError(f"{name}: row {row + 1}, column '{exp.columns[1]}': {value!r} is not a number")


def scale_of(truth: np.ndarray | None) -> tuple[float, float]:
    """(mean, standard deviation) of the training values; 1 where they do not vary."""
    if truth is None or not len(truth):
        return 0.0, 1.0
    spread = float(np.std(truth))
    return float(np.mean(truth)), spread if spread > 0 else 1.0
