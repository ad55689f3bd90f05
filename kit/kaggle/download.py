"""`make data`: a competition's files into data/<slug>/, complete or not at all (kagglehub
caches and checks MD5s; the `kaggle` package where kagglehub cannot)."""

from __future__ import annotations

import contextlib
import functools
import io
import os
import shutil
import zipfile
from pathlib import Path

from kit import paths
from kit.config import Config
from kit.data import archives, has_local_copy
from kit.errors import KitError
from kit.kaggle.client import NO_CREDENTIALS, api, call, has_credentials, warn_if_readable


def ensure_data(cfg: Config) -> None:
    """Download a Kaggle competition's files into data/<slug>/ when no local copy exists."""
    slug, competition = cfg.competition.slug, cfg.competition.kaggle
    if cfg.data.dir or has_local_copy(cfg, paths.data_dir(slug)):
        return
    if not competition:
        print(f"{slug} is not a Kaggle competition: nothing to download (DATA=<folder> reads a full copy)")
        return
    print(f"downloading {competition} from Kaggle into {paths.data_dir(slug)} ...")
    files = download_competition(competition, paths.data_dir(slug))
    print(f"  {len(files)} files: {', '.join(p.name for p in files[:8])}{' ...' if len(files) > 8 else ''}")


def download_competition(competition: str, dest: Path) -> list[Path]:
    """The competition's files into `dest`, zips unpacked; kagglehub caches and checks MD5s.

    The `kaggle` package downloads instead where kagglehub cannot: when it is not installed, or
    when the only credential is an OAuth login (`kaggle auth login`), which kagglehub does not
    read. `dest` appears complete or not at all: files are gathered in a sibling folder first.
    """
    if not has_credentials():
        raise KitError(NO_CREDENTIALS)
    warn_if_readable()
    staging = dest.parent / f".{dest.name}.partial"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    source = None
    try:
        import kagglehub
    except ImportError:
        kagglehub = None
    if kagglehub is not None:
        with contextlib.suppress(HubUnauthenticated):
            source = Path(call(lambda: kagglehub_download(kagglehub, competition), "data", competition))
    if source is None:
        client = api()
        fetch = functools.partial(
            client.competition_download_files, competition, str(staging), quiet=False
        )  # its own progress bar, as kagglehub shows
        call(fetch, "data", competition)
        source = staging
    copy_unzipped(source, staging)
    if dest.exists():
        shutil.rmtree(dest)
    staging.rename(dest)
    return sorted(p for p in dest.rglob("*") if p.is_file())


class HubUnauthenticated(Exception):
    """kagglehub found no credential it reads (the `kaggle` package may still have one)."""


def kagglehub_download(kagglehub, competition: str) -> str:
    """kagglehub's cached download. Its client turns verbose under KAGGLE_API_ENVIRONMENT=TEST
    and prints every request with its Authorization header on stdout: that output is dropped."""
    from kagglehub.exceptions import UnauthenticatedError

    verbose = os.environ.get("KAGGLE_API_ENVIRONMENT") == "TEST"
    quiet = contextlib.redirect_stdout(io.StringIO()) if verbose else contextlib.nullcontext()
    try:
        with quiet:
            return kagglehub.competition_download(competition)
    except UnauthenticatedError:
        raise HubUnauthenticated() from None


def copy_unzipped(source: Path, dest: Path) -> None:
    """Copy a downloaded folder (or zip) into `dest`, unpacking every zip archive in it."""
    items = [source] if source.is_file() else sorted(source.iterdir())
    for item in items:
        if item.is_dir():
            shutil.copytree(item, dest / item.name, dirs_exist_ok=True)
        elif zipfile.is_zipfile(item):
            with zipfile.ZipFile(item) as archive:
                archives.extract_zip(archive, item, dest)  # under a size cap; nothing lands outside dest
            if item.parent == dest:
                item.unlink()
        elif item.parent != dest:
            shutil.copy2(item, dest / item.name)
