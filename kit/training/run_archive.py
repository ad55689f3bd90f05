"""A run folder as one zip and back: how a kernel hands its run back (one output file, whatever
Kaggle's limits on file counts and folders), and how `make kernel-output` makes it a local run."""

from __future__ import annotations

import zipfile
from pathlib import Path

from kit import paths
from kit.data import archives
from kit.errors import KitError
from kit.training import catalog


def pack_run(run_dir: Path, target: Path) -> Path:
    """A run folder as one zip (config, split, checkpoints, history, reports), without the
    resume backups: how a kernel hands its run back (one output file, whatever Kaggle's limits
    on file counts and folders)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(run_dir.rglob("*")):
            inside = path.relative_to(run_dir)
            if path.is_file() and "backup" not in inside.parts and inside.name != catalog.LOCK_FILE:
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
                target = paths.unique_folder(paths.runs_dir(slug), name)
            archives.extract_zip(packed, archive, target)
    except zipfile.BadZipFile:
        raise KitError(f"{archive}: not a zip archive") from None
    return target
