"""Runs: a folder per training run, every fold fitted through its model kind.

A run lives in `artifacts/<slug>/runs/<time>-<model>/`: `config.json` (the resolved config),
`split.npz` (the exact indices), `run.json` (status and scores), per fold the kind's checkpoint
(`fold<k>/best.keras` or `best.joblib`) and `history.csv`, and `reports/`.
"""

from __future__ import annotations

import json
import time
import zipfile
from pathlib import Path

import numpy as np

from kit import config, fileio, paths
from kit.config import Config
from kit.data.pixels import Images
from kit.errors import KitError
from kit.training import kinds
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
    """A whole run: split, fit every fold, save config, scores and reports. Resumable.
    `splits` gives the exact indices (`make reproduce`); by default they derive from data.seed."""
    from kit.data.splits import load_splits, make_splits, save_splits, split_sha256

    run_dir = run_dir or new_run_dir(cfg)
    run_dir.mkdir(parents=True, exist_ok=True)
    config.save(cfg, run_dir / "config.json")
    split_path = run_dir / "split.npz"
    if resume and split_path.exists():
        splits = load_splits(split_path)
    else:
        splits = splits or make_splits(images.labels, cfg.data)
        save_splits(splits, split_path)
    fileio.write_json(run_dir / "run.json", {"status": "running", "folds": len(splits)})
    result = RunResult(run_dir)
    for fold, (train_index, val_index) in enumerate(splits):
        print(f"[{run_dir.name}] fold {fold + 1}/{len(splits)}: {len(train_index)} train, {len(val_index)} val")
        result.folds.append(fit(cfg, images, train_index, val_index, run_dir / f"fold{fold}", resume=resume))
    write_run_summary(cfg, result, images, split_sha256(splits))
    return result


def write_run_summary(cfg: Config, result: RunResult, images: Images, split_hash: str = "") -> None:
    """run.json: scores, and what `make reproduce` checks (split hash, determinism, versions)."""
    summary = {
        "status": "complete",
        "metric": cfg.competition.metric,
        "score": result.score,
        "model": cfg.train.model,
        "split_sha256": split_hash,
        "deterministic": all(f.deterministic for f in result.folds),  # every fold, deterministic ops
        "environment": fileio.environment(),
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
    fileio.write_json(result.run_dir / "run.json", summary)
    from kit import report

    report.write_run_reports(cfg, result, images)


def new_run_dir(cfg: Config) -> Path:
    return unique_folder(paths.runs_dir(cfg.competition.slug), f"{cfg.train.model}")


def unique_folder(parent: Path, suffix: str = "", create: bool = False) -> Path:
    """`parent/<time>-<suffix>`, with -2, -3 ... when that exists: runs, comparisons and
    learning curves started in the same second never share a folder."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    base = parent / (f"{stamp}-{suffix}" if suffix else stamp)
    folder, n = base, 1
    while folder.exists():
        n += 1
        folder = base.with_name(f"{base.name}-{n}")
    if create:
        folder.mkdir(parents=True)
    return folder


def find_run(slug: str, name: str = "") -> Path:
    """A run folder by name, or the newest one; a clear error when there is none."""
    runs = paths.runs_dir(slug)
    if name:
        run_dir = runs / name if not Path(name).is_dir() else Path(name)
        if not (run_dir / "config.json").exists():
            raise KitError(f"no run '{name}' in {runs}")
        return run_dir
    found = sorted(p.parent for p in runs.glob("*/config.json"))
    if not found:
        raise KitError(f"no runs in {runs}: run `make train COMP={slug}` first")
    return max(found, key=lambda p: (p / "config.json").stat().st_mtime)


def newest_run_of(slug: str, model: str) -> str:
    """The newest run folder of `slug` whose saved config trained `model`."""
    found = [
        p.parent
        for p in paths.runs_dir(slug).glob("*/config.json")
        if json.loads(p.read_text()).get("train", {}).get("model") == model
    ]
    if not found:
        raise KitError(f"no {model} runs in {paths.runs_dir(slug)}: run `make train COMP={slug} MODEL={model}` first")
    return max(found, key=lambda p: (p / "config.json").stat().st_mtime).name


def pack_run(run_dir: Path, target: Path) -> Path:
    """A run folder as one zip (config, split, checkpoints, history, reports), without the
    resume backups: how a kernel hands its run back (one output file, whatever Kaggle's limits
    on file counts and folders)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(run_dir.rglob("*")):
            if path.is_file() and "backup" not in path.relative_to(run_dir).parts:
                archive.write(path, path.relative_to(run_dir).as_posix())
    return target


def unpack_run(archive: Path, slug: str, name: str) -> Path:
    """A packed run into artifacts/<slug>/runs/<name>/ (a new folder), usable by `make predict
    RUN=<name>` beside local runs. Zip entries cannot leave the folder (extractall drops absolute
    paths and '..')."""
    try:
        with zipfile.ZipFile(archive) as packed:
            if "config.json" not in packed.namelist():
                raise KitError(f"{archive}: not a packed run (no config.json inside)")
            target = paths.runs_dir(slug) / name
            if target.exists():  # fetched twice: keep both
                target = unique_folder(paths.runs_dir(slug), name)
            packed.extractall(target)
    except zipfile.BadZipFile:
        raise KitError(f"{archive}: not a zip archive") from None
    return target
