"""A submission's JSON record, written beside it: what made it (config, runs, CV, data hashes, the
commit and environment), enough for `make reproduce` to train it again from the record alone; and
the readers of submissions on disk (a file's record, the newest file)."""

from __future__ import annotations

import json
from pathlib import Path

from kit import config, fileio, paths, provenance
from kit.data import used_files
from kit.errors import KitError


def record_for(cfg: config.Config, loaded, run_dirs: list[Path]) -> dict:
    """What a submission's JSON record says of its making: config, runs, CV, data hashes, commit,
    library versions, and per run what `make reproduce` needs to train it again from the record
    alone (its own config, with its seeds, and the hash of its split)."""
    from kit.oof import ensemble_cv
    from kit.training.budget import folds_record

    runs = [fileio.read_json(run_dir / "run.json") | {"run": run_dir.name} for run_dir in run_dirs]
    cv_score, cv_method = ensemble_cv(run_dirs, loaded.train.truth, cfg.competition.metric, config.public_dict(cfg))
    return {
        "competition": cfg.competition.slug,
        "config": config.public_dict(cfg),
        "runs": [run["run"] for run in runs],
        "folds": folds_record(runs),  # folds done of folds planned: a time budget may stop a run early
        "models": sorted({run.get("model", "?") for run in runs}),
        "cv_score": cv_score,
        "cv_method": cv_method,  # an ensemble: out-of-fold on shared rows, else labelled a mean of members
        "metric": cfg.competition.metric,
        "class_names": list(cfg.competition.class_names),  # the columns of `.probabilities.npy`, in order
        "calibration": calibrations(runs, cfg.competition.metric),
        "tta_views": cfg.predict.tta,
        "data_sha256": fileio.sha256_arrays(loaded.train.images, loaded.train.labels, loaded.test.images),
        "data_files": {
            role: {"file": path.name, "sha256": fileio.sha256_file(path)}
            for role, path in used_files(cfg, loaded).items()
        },
        "embedded_sample": loaded.embedded,
        **provenance.stamp(),  # the commit and the environment
        "seed": cfg.train.seed,
        "run_details": [run_detail(run_dir, run) for run_dir, run in zip(run_dirs, runs, strict=True)],
    }


def calibrations(runs: list[dict], metric: str) -> dict | None:
    """Per run, the temperature its probabilities were scaled by and its validation log-loss
    before and after (kit.training.calibration); None when the metric does not calibrate."""
    from kit.training import calibration

    if not calibration.wanted(metric):
        return None
    return {run["run"]: run.get("calibration") for run in runs}


def run_detail(run_dir: Path, run: dict) -> dict:
    """One run as `make reproduce` needs it once artifacts/ is gone."""
    from kit.data.splits import load_splits, split_sha256  # scikit-learn, imported only here

    split_hash = run.get("split_sha256")
    if not split_hash and (run_dir / "split.npz").exists():  # a run trained before runs recorded it
        split_hash = split_sha256(load_splits(run_dir / "split.npz"))
    return {
        "run": run_dir.name,
        "model": run.get("model"),
        "config": fileio.read_json(run_dir / "config.json"),
        "split_sha256": split_hash,
        "deterministic": run.get("deterministic"),
        "environment": run.get("environment"),
    }


def read_record(path: Path) -> dict:
    """The JSON record the kit wrote beside a submission; {} when there is none (a file made
    elsewhere). `make reproduce` adds its stricter checks on top."""
    record_path = path.with_suffix(".json")
    if not record_path.is_file():
        return {}
    try:
        record = json.loads(record_path.read_text())
    except ValueError:
        raise KitError(f"{record_path}: unreadable submission record") from None
    if not isinstance(record, dict):
        raise KitError(f"{record_path}: not a submission record (a JSON object is expected)")
    return record


def newest(slug: str) -> Path:
    """The most recently written submission of a competition (the default FILE of `make submit`)."""
    files = sorted(paths.submissions_dir(slug).glob("*.csv"), key=lambda p: p.stat().st_mtime)
    if not files:
        raise KitError(f"no submissions in {paths.submissions_dir(slug)}: run `make predict COMP={slug}` first")
    return files[-1]
