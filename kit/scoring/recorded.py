"""The sample submission as `make new` saw it, kept in the competition's folder: what `make submit`
and `make kernel-output` validate a file against when the competition's data is not on this
machine (a kernel trained on Kaggle, a laptop that never downloaded the data, a folder since
moved). Without a sample, the shape `make new` chose with every test id
(kit.data.no_sample). Its header, every id in the sample's order and its values (which show whether labels are
class names or numbers) make the same check as with the data at hand.

`competitions/<slug>/recorded_sample.csv.gz`: the sample's own bytes, gzip-compressed with no
time stamp (the same data gives the same file), never packed into a kernel (kit.kaggle.kernel_bundle
packs .toml, .py, .md only). Its size, for synthetic samples shaped like real ones: Digit
Recognizer's (28,000 integer ids) 61 kB, Histopathologic's (57,458 40-hex-digit ids) 1.4 MB.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import pandas as pd

from kit import config, fileio, paths
from kit.config import Config
from kit.data.pixels import compression_of, read_csv

RECORDED = "recorded_sample.csv.gz"


def recorded_path(slug: str) -> Path:
    return paths.competition_dir(slug) / RECORDED


def record_sample(slug: str, sample: Path) -> Path:
    """Keep `sample` (the competition's sample submission) as competitions/<slug>/recorded_sample.csv.gz.
    A compressed sample is read and written again as CSV text (its values as pandas reads them,
    which is how a submission is compared with it)."""
    if compression_of(sample):
        return record_frame(slug, read_csv(sample, sniffed=False))
    return write(slug, sample.read_bytes())  # as it is: ids spelt '007' stay so


def record_frame(slug: str, frame: pd.DataFrame) -> Path:
    """Keep a sample made here (a competition without one: the shape `make new` chose, every test id)."""
    return write(slug, frame.to_csv(index=False).encode())


def write(slug: str, text: bytes) -> Path:
    return fileio.atomic_write(recorded_path(slug), gzip.compress(text, mtime=0))


def recorded_sample(cfg: Config) -> pd.DataFrame | None:
    """The sample `make new` recorded for this competition; None when it recorded none (a
    competition set up before it did, or one without a sample submission)."""
    from kit.data import read_sample_submission  # its one-line errors for an unreadable file

    path = recorded_path(cfg.competition.slug)
    if not path.is_file():
        return None
    return read_sample_submission(config.replace(cfg, submission={"sample_file": RECORDED}), path.parent)
