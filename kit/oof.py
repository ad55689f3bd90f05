"""Honest cross-validation numbers for an ensemble of runs, from their out-of-fold predictions.

Every finished fold keeps its validation rows and probabilities (`fold<k>/val.npz`). An
ensemble's CV is its averaged probabilities scored on the rows every member validated on,
each member's prediction there coming from a model that never trained on that row. Runs of
different data (another folder, size or row limit) share no rows: their CV is only the mean of
the members' own scores, and says so. Members are averaged class by class (their columns aligned
by name to the current config's class order), each with the temperature its run fitted when the
metric is log-loss: the CV of what the submission will hold.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pandas as pd

from kit import fileio, metrics
from kit.config import DataSection
from kit.data import classes
from kit.training import calibration

# data keys that change which images a row number means, or how they look
SPLIT_ONLY = {"val_fraction", "folds", "seed", "workers", "cache", "stream", "stream_above_mb"}


def images_signature(saved: dict, with_limit: bool = True) -> dict:
    """A saved config's data settings that decide the images (row limit too, unless asked not to),
    as JSON spells them (a config.json's lists equal a resolved config's tuples) and without the
    keys at their default, so that a run saved before a data key existed matches one saved after."""
    defaults = json.loads(json.dumps(dataclasses.asdict(DataSection())))
    data = json.loads(json.dumps(saved.get("data", {})))
    data = {key: value for key, value in data.items() if key not in SPLIT_ONLY and value != defaults.get(key, ...)}
    if not with_limit:
        data.pop("limit", None)
    return data


def out_of_fold(run_dir: Path, reference: tuple[str, ...] | None = None) -> tuple[np.ndarray, np.ndarray] | None:
    """(rows, probabilities) over the run's finished folds, columns in `reference`'s class order
    when given (else the run's own); None when a fold lacks them (a run trained before folds kept
    them, or a comparison's run)."""
    folds = sorted(run_dir.glob("fold*/val.npz"))
    expected = fileio.read_json(run_dir / "run.json").get("folds")
    if not folds or (isinstance(expected, list) and len(expected) != len(folds)):
        return None
    own = classes.of_run(run_dir)
    rows, probabilities = [], []
    for path in folds:
        with np.load(path, allow_pickle=False) as saved:
            rows.append(saved["val_index"])
            found, names = saved["probabilities"], classes.of_file(saved, own)
        if reference is not None:
            found = classes.align(found, names, reference, f"run {run_dir.name}")
        probabilities.append(found)
    return np.concatenate(rows), np.concatenate(probabilities)


def ensemble_cv(run_dirs: list[Path], labels: np.ndarray, metric: str, current: dict) -> tuple[float | None, str]:
    """(score, how it was measured). One run: its own CV (the mean over its folds; for log-loss, its
    out-of-fold log-loss after the temperature its submission is scaled by). `labels` are
    the training labels as loaded now, under the config `current` (a saved config's dict)."""
    scores = [fileio.read_json(run_dir / "run.json").get("score") for run_dir in run_dirs]
    scores = [score for score in scores if isinstance(score, float)]
    mean = float(np.mean(scores)) if scores else None
    if len(run_dirs) == 1:
        fitted = fileio.read_json(run_dirs[0] / "run.json").get("calibration") if calibration.wanted(metric) else None
        if fitted and fitted["temperature"] != 1.0:  # the submission holds the scaled probabilities
            return fitted["log_loss_after"], "validation, out-of-fold after the run's temperature"
        return mean, "validation"
    shared = shared_rows(run_dirs, len(labels), current, metric)
    if shared is None:
        return mean, "mean of members (they validated on different data: not an ensemble score)"
    rows, probabilities = shared
    score = metrics.score(labels[rows], probabilities, metric)["score"]
    return float(score), f"out-of-fold, on the {len(rows)} rows all {len(run_dirs)} runs validated on"


def shared_rows(
    run_dirs: list[Path], n_rows: int, current: dict, metric: str = ""
) -> tuple[np.ndarray, np.ndarray] | None:
    """The rows every run validated on and the runs' averaged probabilities there (by class, in
    `current`'s class order, each run's temperature applied for `metric`), or None."""
    saved = [fileio.read_json(run_dir / "config.json") for run_dir in run_dirs]
    if any(images_signature(config) != images_signature(current) for config in saved):
        return None
    reference = tuple(current.get("competition", {}).get("class_names", ())) or None
    members = [out_of_fold(run_dir, reference) for run_dir in run_dirs]
    if any(member is None or member[0].max(initial=-1) >= n_rows for member in members):
        return None
    rows = members[0][0]
    for member_rows, _ in members[1:]:
        rows = np.intersect1d(rows, member_rows)
    if len(rows) == 0:
        return None
    # each member's probabilities at `rows` (its validation rows are unique, so one position each)
    at_rows = [
        calibration.scale(probabilities[pd.Index(member_rows).get_indexer(rows)], temperature(run_dir, metric))
        for run_dir, (member_rows, probabilities) in zip(run_dirs, members, strict=True)
    ]
    return rows, np.mean(at_rows, axis=0)


def temperature(run_dir: Path, metric: str) -> float:
    """The temperature a run fitted for `metric` (1 for other metrics and older runs)."""
    return calibration.temperature_of(fileio.read_json(run_dir / "run.json"), metric)
