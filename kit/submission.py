"""Submission files: built and validated against the competition's sample submission, written
atomically under `submissions/<slug>/`, never overwriting, each with a JSON record beside it.

The same `validate` checks a file before `make submit` uploads it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from kit import config, fileio, paths
from kit.data import used_files
from kit.data.pixels import plain
from kit.errors import KitError


@dataclass(frozen=True)
class Expected:
    """What a valid submission looks like: column names, the ids in order, the label domain."""

    columns: tuple[str, str]
    ids: np.ndarray
    labels: tuple  # the allowed label values


def expected(cfg: config.Config, test_ids: np.ndarray, sample: pd.DataFrame | None) -> Expected:
    """From the sample submission when the competition has one, else from the config."""
    labels = tuple(range(cfg.num_classes))
    if sample is None:
        return Expected((cfg.submission.id_column, cfg.submission.label_column), np.asarray(test_ids), labels)
    if sample.shape[1] != 2:
        raise KitError(f"sample submission has columns {list(sample.columns)}; the kit expects id,label")
    id_column, label_column = sample.columns
    if sample[label_column].dtype == object:
        labels = tuple(cfg.competition.class_names)  # labels written as class names
    return Expected((id_column, label_column), sample[id_column].to_numpy(), labels)


def build(exp: Expected, predicted: np.ndarray) -> pd.DataFrame:
    """The submission frame for class indices `predicted`, in the expected id order."""
    if len(predicted) != len(exp.ids):
        raise KitError(f"{len(predicted)} predictions for {len(exp.ids)} test ids")
    values = np.asarray(exp.labels, dtype=object)[predicted] if isinstance(exp.labels[0], str) else predicted
    return pd.DataFrame({exp.columns[0]: exp.ids, exp.columns[1]: values})


def validate(frame: pd.DataFrame, exp: Expected, name: str = "submission") -> None:
    """Columns, row count, complete and unique ids, labels in the class domain; else KitError."""
    if tuple(frame.columns) != exp.columns:
        raise KitError(f"{name}: columns {list(frame.columns)}, expected {list(exp.columns)}")
    if len(frame) != len(exp.ids):
        raise KitError(f"{name}: {len(frame)} rows, expected {len(exp.ids)} (one per test image)")
    id_column, label_column = exp.columns
    ids = frame[id_column]
    duplicated = ids.duplicated().to_numpy()
    if duplicated.any():
        row = int(np.flatnonzero(duplicated)[0])
        raise KitError(f"{name}: row {row + 1}, column '{id_column}': id {plain(ids.iat[row])!r} appears twice")
    missing = set(exp.ids.tolist()) - set(ids.tolist())
    if missing:
        shown = sorted(missing, key=str)[:5]
        raise KitError(f"{name}: {len(missing)} test ids missing from column '{id_column}', e.g. {shown}")
    allowed = set(exp.labels)
    labels = frame[label_column]
    bad = ~labels.isin(allowed).to_numpy()
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        domain = f"0..{len(allowed) - 1}" if isinstance(exp.labels[0], int) else ", ".join(exp.labels)
        value = plain(labels.iat[row])
        raise KitError(f"{name}: row {row + 1}, column '{label_column}': label {value!r} is not in {domain}")


def read_and_validate(path: Path, exp: Expected) -> pd.DataFrame:
    """Read a submission CSV from disk and validate it (what `make submit` does before uploading)."""
    if not path.is_file():
        raise KitError(f"{path}: file not found")
    try:
        frame = pd.read_csv(path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise KitError(f"{path}: not a readable CSV ({exc})") from None
    validate(frame, exp, str(path))
    return frame


def write(frame: pd.DataFrame, exp: Expected, slug: str, run_name: str, record: dict) -> tuple[Path, dict]:
    """Validate, then write `<timestamp>-<run>.csv` and its `.json` record; never overwrite.
    Returns the file and the record as written (with the file's name, SHA-256 and row count)."""
    validate(frame, exp)
    folder = paths.submissions_dir(slug)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    data = frame.to_csv(index=False).encode()
    for attempt in range(1, 100):
        suffix = "" if attempt == 1 else f"-{attempt}"
        path = folder / f"{stamp}-{run_name}{suffix}.csv"
        try:
            fileio.atomic_write(path, data, exclusive=True)
            break
        except FileExistsError:
            continue
    else:
        raise KitError(f"{folder}: could not find a free file name for {stamp}-{run_name}")
    record = {
        **record,
        "file": path.name,
        "sha256": fileio.sha256_file(path),
        "rows": len(frame),
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    fileio.write_json(path.with_suffix(".json"), record, exclusive=True)
    return path, record


def record_for(cfg: config.Config, loaded, run_dirs: list[Path]) -> dict:
    """What a submission's JSON record says of its making: config, runs, CV, data hashes, commit,
    library versions, and per run what `make reproduce` needs to train it again from the record
    alone (its own config, with its seeds, and the hash of its split)."""
    runs = [fileio.read_json(run_dir / "run.json") | {"run": run_dir.name} for run_dir in run_dirs]
    cv_scores = [run["score"] for run in runs if "score" in run]
    return {
        "competition": cfg.competition.slug,
        "config": config.to_dict(cfg),
        "runs": [run["run"] for run in runs],
        "models": sorted({run.get("model", "?") for run in runs}),
        "cv_score": float(np.mean(cv_scores)) if cv_scores else None,
        "metric": cfg.competition.metric,
        "tta_views": cfg.predict.tta,
        "data_sha256": fileio.sha256_arrays(loaded.train.images, loaded.train.labels, loaded.test.images),
        "data_files": {
            role: {"file": path.name, "sha256": fileio.sha256_file(path)}
            for role, path in used_files(cfg, loaded).items()
        },
        "embedded_sample": loaded.embedded,
        "git_commit": fileio.git_commit(),
        "environment": fileio.environment(),
        "seed": cfg.train.seed,
        "run_details": [run_detail(run_dir, run) for run_dir, run in zip(run_dirs, runs, strict=True)],
    }


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


def newest(slug: str) -> Path:
    """The most recently written submission of a competition (the default FILE of `make submit`)."""
    files = sorted(paths.submissions_dir(slug).glob("*.csv"), key=lambda p: p.stat().st_mtime)
    if not files:
        raise KitError(f"no submissions in {paths.submissions_dir(slug)}: run `make predict COMP={slug}` first")
    return files[-1]
