"""Runs: a folder per training run, every fold fitted through its model kind.

A run lives in `artifacts/<slug>/runs/<time>-<model>/`: `config.json` (the resolved config),
`split.npz` (the exact indices), `run.json` (status and scores; `kit.training.catalog` reads it),
per fold the kind's checkpoint (`fold<k>/best.keras` or `best.skops`), `history.csv`, and once
the fold finished `fold.json` + `val.npz` (its out-of-fold probabilities), and `reports/`.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np

from kit import config, fileio, paths, provenance
from kit.config import Config
from kit.data.pixels import Images
from kit.training import catalog, kinds
from kit.training.results import FoldResult, RunResult

# scikit-learn, imbalanced-learn and matplotlib (seconds) are imported where a run is trained or
# reported, so that finding runs (`make predict` with none) answers at once


def fit(
    cfg: Config,
    images: Images,
    train_index: np.ndarray,
    val_index: np.ndarray,
    fold_dir: Path,
    resume: bool = False,
    extra_callbacks: tuple = (),
    verbose: int | str = "auto",
) -> FoldResult:
    """Train `cfg.train.model` on `train_index`, validate on `val_index` (make train, tune and
    compare all come through here); the kind of the model decides how."""
    from kit.training.resample import resample_index

    # imbalance: resample the training rows only, so validation keeps the true class mix
    train_index = resample_index(cfg, images.labels, train_index, fold_dir)
    kind = kinds.for_model(cfg.train.model)
    return kind.fit(
        cfg, images, train_index, val_index, fold_dir, resume=resume, extra_callbacks=extra_callbacks, verbose=verbose
    )


def train(
    cfg: Config, images: Images, run_dir: Path | None = None, resume: bool = False, splits: list | None = None
) -> RunResult:
    """A whole run: split, fit every fold, save config, scores and reports. Resumable: a fold
    that finished is kept, an interrupted one continues from its backup.
    `splits` gives the exact indices (`make reproduce`); by default they derive from data.seed."""
    check_trainable(cfg)  # before a run folder exists: a mistake leaves nothing behind
    from kit.data.splits import load_splits, make_splits, save_splits, split_sha256
    from kit.training.budget import FoldBudget

    run_dir = run_dir or new_run_dir(cfg)
    with catalog.held(run_dir):
        config.save(cfg, run_dir / "config.json")
        split_path = run_dir / "split.npz"
        if resume and split_path.exists():
            splits = load_splits(split_path)
        else:
            splits = splits or make_splits(images.labels, cfg.data)
            save_splits(splits, split_path)
        catalog.mark(run_dir, catalog.RUNNING, folds=len(splits), model=cfg.train.model, pid=os.getpid())
        result = RunResult(run_dir)
        budget = FoldBudget(cfg.train.time_budget_s)
        try:
            for fold, (train_index, val_index) in enumerate(splits):
                if not budget.allows_another():  # Kaggle's time limit: keep what is done
                    print(f"[{run_dir.name}] {budget.stop_note(fold, len(splits))}")
                    break
                with budget.fold():
                    fitted = train_fold(cfg, images, train_index, val_index, run_dir, fold, len(splits), resume)
                result.folds.append(fitted)
        except KeyboardInterrupt:
            catalog.mark(run_dir, catalog.INTERRUPTED)
            raise TrainingInterrupted(
                f"interrupted: run {run_dir.name} is kept; continue it with `{resume_command(cfg, run_dir)}`"
            ) from None
        except BaseException as error:
            catalog.mark(run_dir, catalog.FAILED, error=f"{type(error).__name__}: {error}")
            raise
        write_run_summary(cfg, result, images, split_sha256(splits))
        if len(result.folds) < len(splits):  # the time budget stopped it: the record says so
            catalog.mark(run_dir, catalog.COMPLETE, folds_planned=len(splits))
    return result


class TrainingInterrupted(KeyboardInterrupt):
    """Ctrl-C during a run; its message is the command that continues it."""


def resume_command(cfg: Config, run_dir: Path) -> str:
    """`make train COMP=... RESUME=1 RUN=...`: the run's saved config holds data, preset and
    overrides, so nothing else is needed."""
    return f"make train COMP={cfg.competition.slug} RESUME=1 RUN={run_dir.name}"


def check_trainable(cfg: Config) -> None:
    """What would fail only after the data is read and a run folder made: an unknown model, or
    a pretrained RGB backbone given another number of channels."""
    from kit import models

    models.check_name(cfg.train.model)  # read from the registry's source: Keras is not loaded for it
    models.check_channels(cfg.train.model, cfg.data.channels, cfg.data.channel_files)


def train_fold(cfg, images, train_index, val_index, run_dir: Path, fold: int, folds: int, resume: bool) -> FoldResult:
    """One fold: kept as it is when a resumed run had finished it, else fitted (continuing from
    its backup when resumed) and recorded in `fold<k>/fold.json` + `val.npz`."""
    fold_dir = run_dir / f"fold{fold}"
    finished = finished_fold(fold_dir, val_index) if resume else None
    if finished is not None:
        print(f"[{run_dir.name}] fold {fold + 1}/{folds}: finished before, kept ({finished.scores['score']:.4f})")
        return finished
    print(f"[{run_dir.name}] fold {fold + 1}/{folds}: {len(train_index)} train, {len(val_index)} val")
    result = fit(cfg, images, train_index, val_index, fold_dir, resume=resume)
    save_fold(result, fold_dir, cfg.competition.class_names)
    return result


def save_fold(result: FoldResult, fold_dir: Path, class_names: tuple[str, ...]) -> None:
    """The fold's validation rows and probabilities (out-of-fold predictions, for honest ensemble
    scores and for keeping the fold on resume) with the class of each column, then its summary,
    written last."""
    buffer = io.BytesIO()
    np.savez(
        buffer,
        val_index=result.val_index,
        probabilities=result.val_probabilities.astype(np.float32),
        class_names=np.array(class_names, dtype=str),
    )
    fileio.atomic_write(fold_dir / "val.npz", buffer.getvalue())
    fileio.write_json(
        fold_dir / "fold.json",
        {
            "checkpoint": result.checkpoint.name,
            "scores": result.scores,
            "epochs": result.epochs,
            "seconds": result.seconds,
            "deterministic": result.deterministic,
            "precision": result.precision,
        },
    )


def finished_fold(fold_dir: Path, val_index: np.ndarray) -> FoldResult | None:
    """The fold as `save_fold` recorded it, if it finished on these validation rows."""
    summary = fileio.read_json(fold_dir / "fold.json")
    if not summary or not (fold_dir / summary["checkpoint"]).exists():
        return None
    with np.load(fold_dir / "val.npz", allow_pickle=False) as saved:
        if not np.array_equal(saved["val_index"], val_index):
            return None
        probabilities = saved["probabilities"]
    return FoldResult(
        fold_dir / summary["checkpoint"],
        val_index,
        probabilities,
        summary["scores"],
        summary["epochs"],
        summary["seconds"],
        summary["deterministic"],
        summary.get("precision"),
    )


def write_run_summary(cfg: Config, result: RunResult, images: Images, split_hash: str = "") -> None:
    """run.json: scores, and what `make reproduce` checks (split hash, determinism, versions);
    the reports first, so that a run is `complete` only once everything is written."""
    from kit import report

    report.write_run_reports(cfg, result, images)
    result.calibration = fit_calibration(cfg, result, images)
    thresholds = fit_thresholds(cfg, result, images)
    summary = {
        "status": catalog.COMPLETE,
        "metric": cfg.competition.metric,
        "score": result.score,
        "class_names": list(cfg.competition.class_names),  # the order of every probability column
        "calibration": result.calibration,
        "thresholds": thresholds,  # an ordinal target's cuts between grades (kit.targets.ordinal)
        "model": cfg.train.model,
        "split_sha256": split_hash,
        "deterministic": all(f.deterministic for f in result.folds),  # every fold, deterministic ops
        "environment": provenance.environment(precision=run_precision(result)),
        "folds": [
            {
                "checkpoint": str(f.checkpoint.relative_to(result.run_dir)),
                "epochs": f.epochs,
                "seconds": round(f.seconds, 1),
                **f.scores,
            }
            for f in result.folds
        ],
    }
    fileio.write_json(result.run_dir / catalog.RUN_FILE, summary)


def fit_calibration(cfg: Config, result: RunResult, images: Images) -> dict | None:
    """A log-loss run's temperature, fitted on its out-of-fold predictions (None for a metric
    that reads labels or ranks: scaling cannot change those)."""
    from kit.training import calibration  # scipy and scikit-learn: not before a verb's cheap errors

    if not calibration.wanted(cfg.competition.metric):
        return None
    rows = np.concatenate([fold.val_index for fold in result.folds])
    probabilities = np.concatenate([fold.val_probabilities for fold in result.folds])
    return calibration.fit(images.labels[rows], probabilities)


def fit_thresholds(cfg: Config, result: RunResult, images: Images) -> dict | None:
    """An ordinal run's thresholds between grades, chosen on its out-of-fold numbers for the
    metric (kit.targets.ordinal); None for other targets."""
    from kit import targets
    from kit.targets import ordinal

    if targets.kind_of(cfg) != "ordinal":
        return None
    rows = np.concatenate([fold.val_index for fold in result.folds])
    values = np.concatenate([fold.val_probabilities for fold in result.folds]).reshape(-1)
    fitted = ordinal.fit(images.labels[rows], values, cfg.competition.metric, cfg.num_classes)
    print(f"[{result.run_dir.name}] {ordinal.describe(fitted)}")
    return fitted


def run_precision(result: RunResult) -> str:
    """The dtype policy the run's networks trained under ('' for scikit-learn; folds resumed on
    another machine may differ: all named)."""
    return ", ".join(dict.fromkeys(fold.precision for fold in result.folds if fold.precision))


def new_run_dir(cfg: Config) -> Path:
    return paths.unique_folder(paths.runs_dir(cfg.competition.slug), f"{cfg.train.model}", create=True)
