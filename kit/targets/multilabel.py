"""A set of tags per image (Planet: `haze primary`; or one 0/1 column per tag). Sigmoid units
with binary cross-entropy; each tag's threshold is chosen on the out-of-fold predictions for the
competition's metric (`choose_thresholds`), and the submission holds the tags whose probability
reaches it, space-separated, or a 0/1 column per tag, as the sample does."""

from __future__ import annotations

import numpy as np
import pandas as pd

from kit import metrics
from kit.config import Config
from kit.errors import KitError
from kit.targets.classification import Read, Target, tokens

GRID = np.round(np.arange(0.05, 0.96, 0.05), 2)  # thresholds tried per tag


class MultiLabel(Target):
    name = "multilabel"
    activation = "sigmoid"
    form = "tags"

    def read(self, frame: pd.DataFrame, column: str, cfg: Config) -> Read:
        names = list(cfg.competition.class_names)
        if all(name in frame.columns for name in names):  # one 0/1 column per tag
            block = frame[names].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=np.float64)
            good = np.isin(block, (0, 1)).all(axis=1)
            truth = np.where(np.isfinite(block), block, 0).astype(np.float32)
        else:
            index = {name: i for i, name in enumerate(names)}
            truth = np.zeros((len(frame), len(names)), dtype=np.float32)
            good = np.ones(len(frame), dtype=bool)
            for row, value in enumerate(frame[column]):
                found = [index.get(tag) for tag in tokens(value)]
                good[row] = None not in found
                truth[row, [i for i in found if i is not None]] = 1
        return Read(strata(truth, good), truth, f"a tag that is not in competition.class_names ({len(names)} tags)")

    def encode(self, images, cfg: Config) -> np.ndarray:
        return images.targets.astype(np.float32)

    def loss(self, cfg: Config, truth: np.ndarray | None):
        import keras

        return keras.losses.BinaryCrossentropy(label_smoothing=cfg.train.label_smoothing), 1.0

    def blind_guess(self, cfg: Config, images) -> np.ndarray:
        return images.targets.mean(axis=0)

    def decode(self, exp, predictions: np.ndarray) -> dict[str, object]:
        chosen = np.asarray(predictions) >= np.asarray(exp.thresholds or 0.5)
        if exp.form == "columns":
            return {
                column: chosen[:, klass].astype(np.int64)
                for column, klass in zip(exp.columns[1:], exp.classes, strict=True)
            }
        names = np.asarray(exp.labels, dtype=object)
        return {exp.columns[1]: [" ".join(names[row]) for row in chosen]}

    def check(self, frame: pd.DataFrame, exp, name: str) -> None:
        if exp.form == "columns":
            for column in exp.columns[1:]:
                bad = ~frame[column].isin((0, 1)).to_numpy()
                if bad.any():
                    row = int(np.flatnonzero(bad)[0])
                    value = frame[column].iat[row]
                    raise KitError(f"{name}: row {row + 1}, column '{column}': {value!r} is not 0 or 1")
            return
        allowed = set(exp.labels)
        for row, value in enumerate(frame[exp.columns[1]]):
            unknown = [tag for tag in tokens(value) if tag not in allowed]
            if unknown:
                raise KitError(f"{name}: row {row + 1}, column '{exp.columns[1]}': tag {unknown[0]!r} is not a label")


def strata(truth: np.ndarray, good: np.ndarray) -> np.ndarray:
    """Each row's rarest tag (its stratum for splits and the audit); -1 for an unusable row."""
    counts = truth[good].sum(axis=0)
    rarity = np.where(truth > 0, counts, np.inf)
    rarest = np.where(truth.any(axis=1), rarity.argmin(axis=1), int(counts.argmax()) if len(counts) else 0)
    return np.where(good, rarest, -1).astype(np.int64)


def choose_thresholds(truth: np.ndarray, probabilities: np.ndarray, metric: str) -> tuple[float, ...]:
    """Per tag, the threshold of GRID that scores best for `metric` with the other tags' held
    (coordinate ascent from 0.5, two passes): the metric of a set of tags is not separable."""
    thresholds = np.full(truth.shape[1], 0.5)
    best = metrics.score_tags(truth, probabilities, metric, thresholds)["score"]
    for _ in range(2):
        for tag in range(truth.shape[1]):
            for value in GRID:
                trial = thresholds.copy()
                trial[tag] = value
                result = metrics.score_tags(truth, probabilities, metric, trial)["score"]
                if result > best:
                    best, thresholds = result, trial
    return tuple(float(t) for t in thresholds)
