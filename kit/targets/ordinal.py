"""Ordered grades trained as a number (APTOS 2019's diabetic-retinopathy grades 0..4, scored by
quadratic weighted kappa): the winners' habit. One linear unit regresses the grade (scaled as
`kit.targets.regression` does), and the thresholds that cut its number into grades are chosen
on the run's out-of-fold predictions to maximise the metric (`choose_thresholds`: a coordinate
search from the midpoints k + 0.5). The run stores them (run.json `thresholds`); prediction cuts
the test numbers at them and writes the grades as the sample spells them.

The grades are the class indices of `competition.class_names`, in that order: '0'..'4' as read
from the labels, or names listed in grade order.

>>> truth = np.array([0, 0, 1, 1, 2, 2])
>>> values = np.array([0.2, 0.66, 0.8, 1.2, 1.37, 2.1])  # the network shrinks towards the mean
>>> metrics.grades(values, choose_thresholds(truth, values, "qwk")).tolist()
[0, 0, 1, 1, 2, 2]
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from kit import metrics
from kit.config import Config
from kit.errors import KitError
from kit.targets.classification import Read
from kit.targets.classification import Target as Classification
from kit.targets.regression import Regression

STEPS = np.linspace(-0.5, 0.5, 41)  # moves tried for one threshold, in grades, around where it is
PASSES = 3  # coordinate passes over the thresholds (the APTOS kernels' OptimizedRounder converges in 2-3)


class Ordinal(Regression):
    name = "ordinal"
    form = "grade"

    def read(self, frame: pd.DataFrame, column: str, cfg: Config) -> Read:
        if not scores_labels(cfg.competition.metric):
            raise KitError(
                f"competition.target ordinal writes one grade per image, which metric {cfg.competition.metric} "
                "does not score: set competition.target=classification"
            )
        found = Classification().read(frame, column, cfg)  # grades are the classes' indices
        truth = np.where(found.strata >= 0, found.strata, np.nan).astype(np.float64)
        return Read(found.strata, truth, found.bad, found.values)

    def encode(self, images, cfg: Config) -> np.ndarray:
        if images.targets is None:  # only the CSV reader gives grades as numbers
            raise KitError("competition.target ordinal needs labels from a CSV (data.format images)")
        return super().encode(images, cfg)

    def decode(self, exp, predictions: np.ndarray) -> dict[str, object]:
        thresholds = exp.thresholds or tuple(metrics.midpoints(len(exp.labels)))
        chosen = np.minimum(metrics.grades(predictions, thresholds), len(exp.labels) - 1)
        spelt = np.asarray(exp.labels, dtype=object if isinstance(exp.labels[0], str) else np.int64)
        return {exp.columns[1]: spelt[chosen]}

    def check(self, frame: pd.DataFrame, exp, name: str) -> None:
        bad = ~frame[exp.columns[1]].isin(set(exp.labels)).to_numpy()
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            value = frame[exp.columns[1]].iat[row]
            value = value.item() if isinstance(value, np.generic) else value  # 1.5, not np.float64(1.5)
            shown = ", ".join(map(str, exp.labels))
            raise KitError(f"{name}: row {row + 1}, column '{exp.columns[1]}': {value!r} is not a grade ({shown})")


def scores_labels(metric: str) -> bool:
    """Whether `metric` scores one label per image (qwk, accuracy, F1): what grades are."""
    other = metrics.PROBABILITY_METRICS | metrics.REGRESSION_METRICS | metrics.MULTILABEL_METRICS
    return metric not in other and not metrics.top_k(metric)


def choose_thresholds(truth: np.ndarray, values: np.ndarray, metric: str, num_grades: int = 0) -> tuple[float, ...]:
    """The thresholds between grades that score best for `metric` when `values` (one number per
    row) are cut at them: from the midpoints k + 0.5, each threshold in turn moved to the best
    of STEPS between its neighbours (the others held), PASSES times. Never worse than the midpoints."""
    truth = np.asarray(truth).astype(np.int64).reshape(-1)
    values = np.asarray(values, dtype=np.float64).reshape(-1)
    thresholds = metrics.midpoints(num_grades or int(truth.max(initial=0)) + 1)

    def scored(cuts: np.ndarray) -> float:
        return metrics.score_labels(truth, metrics.grades(values, cuts), metric)["score"]

    best = scored(thresholds)
    for _ in range(PASSES):
        for k in range(len(thresholds)):
            low = thresholds[k - 1] if k else -np.inf
            high = thresholds[k + 1] if k + 1 < len(thresholds) else np.inf
            base, found = thresholds[k], thresholds
            for moved in base + STEPS:
                if not low < moved < high:  # thresholds stay in grade order
                    continue
                trial = thresholds.copy()
                trial[k] = moved
                if metrics.better(metric, result := scored(trial), best):
                    best, found = result, trial
            thresholds = found
    return tuple(float(t) for t in thresholds)


def fit(truth: np.ndarray, values: np.ndarray, metric: str, num_grades: int) -> dict:
    """The thresholds chosen for these out-of-fold rows, with the metric there at the midpoints
    and at them: what a run's record stores as `thresholds`."""
    chosen = choose_thresholds(truth, values, metric, num_grades)
    middle, best = (
        metrics.score_labels(np.asarray(truth).astype(np.int64), metrics.grades(values, cuts), metric)["score"]
        for cuts in (metrics.midpoints(num_grades), chosen)
    )
    return {"values": list(chosen), "rows": len(truth), "metric": metric, "score_at_midpoints": middle, "score": best}


def describe(fitted: dict) -> str:
    """'thresholds between grades 0.61, 1.42, ... chosen on 80 out-of-fold rows: qwk 0.7100 at
    the midpoints, 0.7500 at these'."""
    shown = ", ".join(f"{t:.2f}" for t in fitted["values"])
    return (
        f"thresholds between grades {shown} chosen on {fitted['rows']} out-of-fold rows: {fitted['metric']} "
        f"{fitted['score_at_midpoints']:.4f} at the midpoints, {fitted['score']:.4f} at these"
    )


def of_run(record: dict) -> tuple[float, ...]:
    """The thresholds a run's record (run.json) holds; () when it chose none."""
    found = (record.get("thresholds") or {}).get("values") or ()
    return tuple(float(t) for t in found)
