"""Every path the kit reads or writes, in one place.

The repository root holds `competitions/` (code and config, committed) and the working folders
`data/`, `artifacts/`, `submissions/` and `build/`. `KIT_WORKDIR` moves the working folders
elsewhere (tests use it to run in a temporary directory); the competitions stay where they are.
`KIT_RUNS_DIR` moves the run folders alone.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COMPETITIONS = Path(os.environ.get("KIT_COMPETITIONS", ROOT / "competitions"))


def workdir() -> Path:
    """The folder holding data/, artifacts/, submissions/ and build/ (KIT_WORKDIR or the repo)."""
    return Path(os.environ.get("KIT_WORKDIR", ROOT))


def competition_dir(slug: str) -> Path:
    """Where a competition's config, models.py, space.py and embedded sample live."""
    return COMPETITIONS / slug


def data_dir(slug: str) -> Path:
    """Where `make data` puts a competition's downloaded Kaggle files."""
    return workdir() / "data" / slug


def artifacts_dir(slug: str) -> Path:
    """Runs, checkpoints, reports, studies and the tracker of one competition."""
    return workdir() / "artifacts" / slug


def runs_dir(slug: str) -> Path:
    """Run folders: artifacts/<slug>/runs, or KIT_RUNS_DIR (a Kaggle kernel trains straight into
    /kaggle/working/runs, which Kaggle keeps when it stops the kernel)."""
    return Path(os.environ["KIT_RUNS_DIR"]) if os.environ.get("KIT_RUNS_DIR") else artifacts_dir(slug) / "runs"


def submissions_dir(slug: str) -> Path:
    """Written submission CSVs with their JSON records; never overwritten."""
    return workdir() / "submissions" / slug


def build_dir(slug: str) -> Path:
    """Generated bundles (Kaggle kernels)."""
    return workdir() / "build" / slug


def unique_folder(parent: Path, suffix: str = "", create: bool = False) -> Path:
    """`parent/<time>-<suffix>`, with -2, -3 ... when that exists: runs, comparisons and
    learning curves started in the same second never share a folder (with `create`, the folder
    is made here, atomically: two commands at once cannot both take one name)."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    base = parent / (f"{stamp}-{suffix}" if suffix else stamp)
    parent.mkdir(parents=True, exist_ok=True)
    folder, n = base, 1
    while True:
        try:
            if not create and folder.exists():
                raise FileExistsError(folder)
            if create:
                folder.mkdir()
            return folder
        except FileExistsError:
            n += 1
            folder = base.with_name(f"{base.name}-{n}")
