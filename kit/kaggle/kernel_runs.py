"""A kernel's runs coming back with `make kernel-output`, finished or not.

A kernel trains into /kaggle/working/runs/<run>/ (kit.commands.kernel_runner), so its output
holds every fold finished before it ended: packed as run-<run>.zip when the kernel finished, as
the plain files of runs/<run>/ when Kaggle stopped it first. Both come back as runs under
artifacts/<slug>/runs/kaggle-v<version>-<run>/ that `make predict RUN=...` ensembles: a stopped
run keeps its finished folds only (a fold's `fold.json` is written last), and its run.json says
how many of the planned folds they are.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np

from kit import fileio, paths
from kit.training import catalog
from kit.training.run_archive import unpack_run

RUNS = "runs"  # the output's folder of plain run folders


def wants_run_folders(dest: Path) -> bool:
    """Whether the plain runs/ files must be fetched too: a kernel that finished packed each run
    behind its submission as run-<name>.zip; one that was stopped left only runs/."""
    try:
        names = json.loads((dest / "submission.json").read_text())["runs"]
    except (OSError, ValueError, KeyError, TypeError):
        return True
    return not all((dest / f"run-{name}.zip").is_file() for name in names)


def recover(dest: Path, slug: str, version: int) -> list[Path]:
    """Every run of a downloaded kernel output as a local run: packed ones, then plain folders
    that no zip holds. Says each, and what it could not bring back."""
    found, packed_names = [], set()
    for packed in sorted(dest.glob("run-*.zip")):
        name = packed.stem.removeprefix("run-")
        packed_names.add(name)
        found.append(unpack_run(packed, slug, f"kaggle-v{version}-{name}"))
    for folder in sorted(p for p in (dest / RUNS).glob("*") if p.is_dir() and p.name not in packed_names):
        run_dir = recover_folder(folder, slug, f"kaggle-v{version}-{folder.name}")
        if run_dir is not None:
            found.append(run_dir)
    return found


def finished_folds(folder: Path) -> list[Path]:
    """The fold folders whose fold.json (written last) and checkpoint are both there."""
    done = []
    for fold_dir in sorted(folder.glob("fold*")):
        summary = read_object(fold_dir / "fold.json")
        if summary.get("checkpoint") and (fold_dir / summary["checkpoint"]).is_file():
            done.append(fold_dir)
    return done


def read_object(path: Path) -> dict:
    try:
        found = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return found if isinstance(found, dict) else {}


def recover_folder(folder: Path, slug: str, name: str) -> Path | None:
    """A stopped kernel's run folder as a complete local run of its finished folds (None, said,
    when it has none): config, split and those folds copied, run.json written from their records."""
    done = finished_folds(folder)
    if not (folder / "config.json").is_file() or not done:
        print(f"  {folder.name}: no finished fold in the output: nothing to bring back")
        return None
    target = paths.runs_dir(slug) / name
    target = paths.unique_folder(paths.runs_dir(slug), name, create=True) if target.exists() else target
    target.mkdir(parents=True, exist_ok=True)
    for file in ("config.json", "split.npz"):
        if (folder / file).is_file():
            shutil.copyfile(folder / file, target / file)
    for fold_dir in done:
        shutil.copytree(fold_dir, target / fold_dir.name, ignore=shutil.ignore_patterns("backup"))
    fileio.write_json(target / catalog.RUN_FILE, stopped_run_record(folder, done))
    return target


def stopped_run_record(folder: Path, done: list[Path]) -> dict:
    """run.json of a run rebuilt from its finished folds: complete, with folds done of planned."""
    saved, config = read_object(folder / catalog.RUN_FILE), read_object(folder / "config.json")
    summaries = [read_object(fold_dir / "fold.json") for fold_dir in done]
    planned = saved.get("folds") if isinstance(saved.get("folds"), int) else len(done)
    folds = [
        {"checkpoint": f"{fold_dir.name}/{s['checkpoint']}", "epochs": s.get("epochs"), **s.get("scores", {})}
        for fold_dir, s in zip(done, summaries, strict=True)
    ]
    return {
        "status": catalog.COMPLETE,
        "metric": config.get("competition", {}).get("metric", ""),
        "score": float(np.mean([s.get("scores", {}).get("score", np.nan) for s in summaries])),
        "model": config.get("train", {}).get("model", "?"),
        "split_sha256": split_hash(folder / "split.npz"),
        "deterministic": all(s.get("deterministic") for s in summaries),
        "environment": saved.get("environment"),
        "folds": folds,
        "folds_planned": max(planned, len(done)),
        "recovered": f"{len(done)} of {planned} folds finished before the kernel stopped ({folder.name})",
    }


def split_hash(path: Path) -> str:
    from kit.data.splits import load_splits, split_sha256  # scikit-learn: only here

    return split_sha256(load_splits(path)) if path.is_file() else ""
