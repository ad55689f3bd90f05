"""Loading a competition's data in its Kaggle layout, whatever the format.

pixels.py   label,pixel0.. CSVs (digit-recognizer, Fashion-MNIST), robust to re-saved files
folders.py  CSVs of image paths and labels + image folders (living-species); decode cache
finder.py   a CSV value to its image file (path, name, stem)   layouts.py  labels in paths: class folders, file names
images.py   one file (or one file per channel) to pixels       channels.py one file per channel: detection, order
census.py   every image file counted, the unused ones said     infer.py, infer_layout.py, inferred.py: `make new`
stream.py   memory-mapped decoded images, read in blocks       batches.py  shuffled streamed batches
archives.py compressed CSVs and zips read under a size cap
splits.py   the seeded holdout / k-fold splits                 audit.py    duplicates, blanks, balance
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from kit import paths
from kit.config import Config
from kit.data.pixels import UNREADABLE, Images, find_file, read_csv, read_pixel_csv, unreadable
from kit.errors import KitError


@dataclass(frozen=True)
class CompetitionData:
    train: Images
    test: Images
    sample_submission: pd.DataFrame | None  # None when the competition ships none
    folder: Path
    embedded: bool  # True when this is the committed sample, not the real competition data
    # image files skipped (train) or blanked (test): split,row,file,fault,detail; None for pixels
    faults: pd.DataFrame | None = None


def data_folder(cfg: Config) -> tuple[Path, bool]:
    """Where the competition's files are, and whether that is the committed embedded sample.

    Order: `data.dir` (DATA=...), then `data/<slug>` when `make data` filled it, then the sample.
    """
    slug = cfg.competition.slug
    toml_path = paths.competition_dir(slug) / "competition.toml"
    if cfg.data.dir:
        folder = Path(cfg.data.dir).expanduser()
        if not folder.is_dir():
            raise KitError(
                f"data folder {folder} does not exist: pass DATA=<folder with the competition's files>, "
                f"or correct data.dir in {toml_path}"
            )
        return folder, False
    downloaded = paths.data_dir(slug)
    if has_local_copy(cfg, downloaded):
        return downloaded, False
    if cfg.data.embedded:
        return paths.competition_dir(slug) / cfg.data.embedded, True
    # only a Kaggle competition can be downloaded: an offline one is never sent to `make data`
    download = f"run `make data COMP={slug}` (needs a Kaggle account), or " if cfg.competition.kaggle else ""
    raise KitError(
        f"no data for {slug}: {download}pass DATA=<folder with its files> (or set data.dir in {toml_path} once)"
    )


def has_local_copy(cfg: Config, folder: Path) -> bool:
    """Whether `folder` (data/<slug>/) holds the competition's files: its labelled CSV, or for a
    layout whose labels are paths (class folders, file names), its folder of training images."""
    if cfg.data.format in ("class_folders", "file_names"):
        return (folder / (cfg.data.train_dir or "train")).is_dir()
    return any(folder.glob(f"{cfg.data.train_file}*"))


def load(cfg: Config, with_test: bool = True) -> CompetitionData:
    """Read and validate train, test and sample submission from the competition's data folder."""
    folder, embedded = data_folder(cfg)
    if cfg.data.format in ("images", "class_folders", "file_names"):
        return load_images(cfg, folder, embedded, with_test)
    train = read_split(cfg, folder, cfg.data.train_file, labelled=True)
    if cfg.data.limit:
        train = train.take(slice(0, cfg.data.limit))
    test = read_split(cfg, folder, cfg.data.test_file, labelled=cfg.data.test_labels) if with_test else None
    sample = read_sample_submission(cfg, folder)
    if test is not None and sample is not None and len(sample) != len(test):
        # found now, not after training, when the submission could not be written
        raise KitError(
            f"{folder / cfg.submission.sample_file}: {len(sample)} rows, but {test.source.name} has "
            f"{len(test)} images (the sample submission lists every test image once)"
        )
    return CompetitionData(train, test, sample, folder, embedded)


def used_files(cfg: Config, loaded: CompetitionData) -> dict[str, Path]:
    """The files a load read, by role (train, val, test, sample_submission): what a submission's
    record hashes one by one, so that `make reproduce` can name the file that changed. Image
    folders are not listed file by file (200k photos); the record's data hash covers their pixels."""
    folder = loaded.folder
    found = {"train": loaded.train.source}
    if cfg.data.format == "images" and cfg.data.val_file:
        found["val"] = folder / cfg.data.val_file
    if loaded.test is not None:
        found["test"] = loaded.test.source
    if cfg.submission.sample_file:
        found["sample_submission"] = folder / cfg.submission.sample_file
    return {role: path for role, path in found.items() if path.is_file()}


def read_split(cfg: Config, folder: Path, name: str, labelled: bool) -> Images:
    return read_pixel_csv(
        find_file(folder, name),
        shape=cfg.image_shape,
        num_classes=cfg.num_classes,
        label_column=cfg.data.label_column if labelled else None,
        id_column=cfg.data.id_column,
        id_start=cfg.submission.id_start,
        class_names=cfg.competition.class_names,
    )


def read_sample_submission(cfg: Config, folder: Path) -> pd.DataFrame | None:
    path = folder / cfg.submission.sample_file
    if not cfg.submission.sample_file or not path.exists():
        return None
    try:
        return read_csv(path, sniffed=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise KitError(f"{path}: unreadable sample submission ({exc})") from None
    except UNREADABLE as exc:
        raise unreadable(path, exc) from None


def load_images(cfg: Config, folder: Path, embedded: bool, with_test: bool) -> CompetitionData:
    """An image-folder competition (kit.data.folders); faulty files are listed, never fatal."""
    from kit.data.census import describe_faults
    from kit.data.folders import load_folders, sample_id_column
    from kit.data.sample_check import check_ids

    sample = read_sample_submission(cfg, folder)
    if sample is not None:  # ids naming no test image: refused before training, not after it
        test_dir, column = cfg.data.test_dir or "test", sample_id_column(cfg, sample)
        sample_path, channels = folder / cfg.submission.sample_file, cfg.data.channel_files
        check_ids(sample_path, folder, test_dir, allowed_share=1.0, column=column, channels=channels)
    train, test, faults, census = load_folders(cfg, folder, sample, with_test)
    for line in census:
        print(line)
    if cfg.data.limit:
        train = train.take(slice(0, cfg.data.limit))
    target = paths.artifacts_dir(cfg.competition.slug) / "data_faults.csv"
    target.parent.mkdir(parents=True, exist_ok=True)
    faults.to_csv(target, index=False)
    print(f"{describe_faults(faults)}{f' (list: {target})' if len(faults) else ''}")
    return CompetitionData(train, test, sample, folder, embedded, faults)
