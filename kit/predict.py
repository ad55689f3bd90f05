"""Prediction: test-time augmentation and ensembling of checkpoints, and the submission they make.

Every checkpoint (one per fold of every chosen run) predicts the test set through its model kind
(a network averages its TTA views inside one compiled model); class probabilities are averaged
over checkpoints, then over runs. `predict_submission` turns them into a validated, tracked file.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import numpy as np
import pandas as pd

from kit import config, metrics, submission, targets, tracker
from kit.config import Config
from kit.console.progress import progress
from kit.data import classes
from kit.errors import KitError
from kit.submission.record import record_for
from kit.training import calibration, catalog, device, kinds
from kit.training.results import float32_outputs


def run_settings(cfg: Config, run_dir: Path, data_given: bool = False) -> Config:
    """The config a run predicts with: everything that shaped its model (image size, channels,
    preprocessing, data folder) as it was trained, with the command's prediction options (TTA,
    ensemble), and the command's data folder when it names one (`DATA=`: the data moved)."""
    saved = config.load_saved(run_dir / "config.json")
    moved = saved.data.dir and not Path(saved.data.dir).expanduser().is_dir()  # a kernel's /kaggle/input
    data = {"dir": cfg.data.dir} if data_given or moved else {}
    return config.replace(saved, predict=dataclasses.asdict(cfg.predict), data=data)


def predict_run(run_dir: Path, images: np.ndarray, tta: int | None = None) -> np.ndarray:
    """Mean class probabilities over a run's fold checkpoints, with the run's own augmentation
    settings deciding the TTA views (`tta` overrides the view count)."""
    cfg = config.load_saved(run_dir / "config.json")
    if tta is not None:
        cfg = config.replace(cfg, predict={"tta": tta})
    found = kinds.checkpoints(run_dir)
    total = None
    for path in progress(found, f"predicting {len(images)} images with {run_dir.name}", unit="checkpoints"):
        probabilities = predict_checkpoint(path, cfg, images)
        total = probabilities if total is None else total + probabilities
    return total / len(found)


def predict_checkpoint(path: Path, cfg: Config, images: np.ndarray) -> np.ndarray:
    """One fold's class probabilities (float32, rows summing to 1), through the kind that saved it
    (TTA where it applies)."""
    kind = kinds.for_checkpoint(path)
    # the policy the fold trained under, for every layer loaded or built here (the TTA views), so
    # that a prediction after a fit and one in a fresh process are the same numbers
    with device.policy(device.recorded_policy(path.parent)):
        return outputs(cfg, kind.predict(kind.load(path), cfg, images))


def ensemble(cfg: Config, loaded, run_dirs: list[Path]) -> np.ndarray:
    """Average the runs' probabilities class by class, in `cfg`'s class order (each run already
    averages its folds and views); a run trained on images of another size or channel count gets
    its own copy of the test set."""
    return outputs(cfg, np.mean([run_probabilities(cfg, loaded, run_dir) for run_dir in run_dirs], axis=0))


def run_probabilities(cfg: Config, loaded, run_dir: Path) -> np.ndarray:
    """One run's test probabilities as the submission uses them: columns aligned by class name
    to `cfg.competition.class_names` (a run may list them in another order; other classes are
    refused), scaled by the temperature the run fitted for a log-loss metric."""
    probabilities = predict_run(run_dir, test_images_for(cfg, loaded, run_dir), cfg.predict.tta)
    names = classes.of_run(run_dir)
    probabilities = classes.align(probabilities, names, cfg.competition.class_names, f"run {run_dir.name}")
    temperature = calibration.temperature_of(catalog.read_record(run_dir), cfg.competition.metric)
    return calibration.scale(probabilities, temperature)  # `ensemble` makes the float32 rows, once


def outputs(cfg: Config, values: np.ndarray) -> np.ndarray:
    """float32 probability rows summing to 1; a regression's numbers or tags' sigmoids as they are."""
    return float32_outputs(values, softmax=targets.for_config(cfg).activation == "softmax")


def test_images_for(cfg: Config, loaded, run_dir: Path) -> np.ndarray:
    """The test images as `run_dir` was trained to see them, read from the prediction's folder."""
    from kit import data
    from kit.oof import images_signature

    own = config.replace(config.load_saved(run_dir / "config.json"), data={"dir": cfg.data.dir})
    if images_signature(config.public_dict(own), False) == images_signature(config.public_dict(cfg), False):
        return loaded.test.images
    print(f"reading the test images again for {run_dir.name} ({own.data.height}x{own.data.width}x{own.data.channels})")
    test = data.load(own).test
    if len(test.images) != len(loaded.test.images) or not np.array_equal(test.ids, loaded.test.ids):
        raise KitError(f"run {run_dir.name} was trained on another competition's files: ensemble runs of one data set")
    return test.images


def in_sample_order(probabilities: np.ndarray, test_ids: np.ndarray, sample_ids: np.ndarray) -> np.ndarray:
    """Rows reordered to the sample submission's ids when the test file names its own ids in
    another order (a test.csv with an id column); unchanged when they are not the same ids."""
    position = pd.Index(pd.Series(test_ids)).get_indexer(pd.Series(sample_ids))
    if (position < 0).any() or len(position) != len(probabilities):
        return probabilities
    return probabilities[position]


def predict_submission(cfg: Config, loaded, run_dirs: list[Path]) -> tuple[Path, dict]:
    """Ensemble the runs on the test set; write a validated submission, its record and its
    probabilities (for later ensembling), and track it. Returns the file and its record."""
    probabilities = ensemble(cfg, loaded, run_dirs)
    return write_submission(cfg, loaded, run_dirs, probabilities)


def with_blind_guesses(cfg: Config, loaded, probabilities: np.ndarray) -> np.ndarray:
    """An unreadable test image was predicted from a blank placeholder: the training classes'
    frequencies are the better blind guess (their argmax, the most frequent class, costs the
    small classes no precision; as probabilities they are the best guess for log-loss)."""
    if loaded.faults is None or not (loaded.faults.split == "test").any():
        return probabilities
    rows = loaded.faults.loc[loaded.faults.split == "test", "row"].to_numpy() - 1
    probabilities = probabilities.copy()
    probabilities[rows] = targets.for_config(cfg).blind_guess(cfg, loaded.train)
    print(f"{len(rows)} unreadable test images given the training classes' frequencies")
    return probabilities


def fitted_to_training(cfg: Config, loaded, run_dirs: list[Path], exp):
    """A number's range (the training values: nothing predicted outside them), or each tag's
    threshold, chosen on the runs' averaged out-of-fold predictions for the metric."""
    from kit.oof import shared_rows
    from kit.targets.multilabel import choose_thresholds

    if exp.form == "value":
        return dataclasses.replace(exp, value_range=(float(loaded.train.truth.min()), float(loaded.train.truth.max())))
    if exp.form == "grade":
        return dataclasses.replace(exp, thresholds=grade_thresholds(cfg, loaded, run_dirs))
    if exp.form not in ("tags", "columns"):
        return exp
    shared = shared_rows(run_dirs, len(loaded.train.truth), config.public_dict(cfg))
    if shared is None:
        print("note: no out-of-fold predictions shared by these runs: every tag's threshold is 0.5")
        return exp
    rows, probabilities = shared
    truth, metric = loaded.train.truth[rows], cfg.competition.metric
    thresholds = choose_thresholds(truth, probabilities, metric)
    at = {cut: metrics.score_tags(truth, probabilities, metric, cut)["score"] for cut in (0.5, thresholds)}
    print(
        f"thresholds per tag, chosen on {len(rows)} out-of-fold rows: {', '.join(f'{t:.2f}' for t in thresholds)} "
        f"(out-of-fold {metric} {at[0.5]:.4f} at 0.5, {at[thresholds]:.4f} at these)"
    )
    return dataclasses.replace(exp, thresholds=thresholds)


def grade_thresholds(cfg: Config, loaded, run_dirs: list[Path]) -> tuple[float, ...]:
    """An ordinal target's cuts between grades: the run's own, stored when it trained; for an
    ensemble, chosen again on the runs' averaged out-of-fold numbers (else their mean)."""
    from kit.oof import shared_rows
    from kit.targets import ordinal

    stored = [ordinal.of_run(catalog.read_record(run_dir)) for run_dir in run_dirs]
    if not all(stored):
        missing = next(run_dir.name for run_dir, cuts in zip(run_dirs, stored, strict=True) if not cuts)
        raise KitError(f"run {missing} stored no thresholds between grades: train it with competition.target=ordinal")
    if len(run_dirs) == 1:
        print(f"thresholds between grades, stored with run {run_dirs[0].name}: {', '.join(map(str, stored[0]))}")
        return stored[0]
    shared = shared_rows(run_dirs, len(loaded.train.labels), config.public_dict(cfg))
    if shared is None:
        print("note: no out-of-fold rows shared by these runs: the mean of their thresholds between grades")
        return tuple(float(t) for t in np.mean(stored, axis=0))
    rows, values = shared
    fitted = ordinal.fit(loaded.train.labels[rows], values, cfg.competition.metric, cfg.num_classes)
    print(f"ensemble: {ordinal.describe(fitted)}")
    return tuple(fitted["values"])


def write_submission(
    cfg: Config, loaded, run_dirs: list[Path], probabilities: np.ndarray, name: str = "", extra: dict | None = None
) -> tuple[Path, dict]:
    """The submission of these probabilities: file, record (with `extra`), probabilities, tracker.
    Named after the run (`<run time>-<model>.csv`, or `<newest run's time>-ensembleN.csv`) unless
    `name` says otherwise; never overwrites, and the same rows again are the same file, said so."""
    slug = cfg.competition.slug
    probabilities = with_blind_guesses(cfg, loaded, probabilities)
    exp = submission.expected(cfg, loaded.test.ids, loaded.sample_submission)
    probabilities = in_sample_order(probabilities, loaded.test.ids, exp.ids)
    exp = fitted_to_training(cfg, loaded, run_dirs, exp)
    record = record_for(cfg, loaded, run_dirs) | (extra or {})
    if loaded.test.labels is not None:  # offline competition: score it here
        scored = metrics.grades(probabilities, exp.thresholds) if exp.form == "grade" else probabilities
        record["local_score"] = metrics.score(loaded.test.labels, scored, cfg.competition.metric)
    frame = submission.build(exp, probabilities)
    path, record = submission.write(frame, exp, slug, name or file_name(run_dirs), record, probabilities)
    if record.get("unchanged"):
        print(f"same rows and probabilities as {path.name}, written before: kept, not written again")
        return path, record
    tracker.record_written(slug, path, record, runs=tracker.run_entries(run_dirs, record.get("git_commit", "")))
    return path, record


def file_name(run_dirs: list[Path]) -> str:
    """A submission's name: its run's (`<run time>-<model>`), or for an ensemble the newest member's
    time and the member count (the same runs name the same file; their list is in the record)."""
    if len(run_dirs) == 1:
        return run_dirs[0].name
    stamps = [found.group(0) for run in run_dirs if (found := re.search(r"\d{8}-\d{6}", run.name))]
    return f"{max(stamps) + '-' if stamps else ''}ensemble{len(run_dirs)}"
