"""Every layout `make new` sets up runs as a Kaggle kernel: a small replica, `kit new`, `kit kernel`,
then the kernel script run offline in the Kaggle-image venv (tests/kaggle/kaggle_image.py) on the
replica laid out as Kaggle mounts it, /kaggle/input/<slug>/ read-only (and checked untouched: as
root, permissions do not stop a write). Its submission.csv must have the sample's exact columns,
ids (as text, in order) and value types, read here with pandas, not with the kit's validator.

The local data folder is moved away before the kernel runs and its path must appear nowhere in
the kernel's script: the kernel reads /kaggle/input, never `data.dir` of this machine.
One epoch on 24x24 images: each kernel takes seconds of training, most of its time is TensorFlow.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import layouts
import numpy as np
import pandas as pd
import pytest
from conftest import run_kit
from kaggle_helpers import build_kernel
from kaggle_image import run_kernel
from replicas import dogs_vs_cats, histopathologic_cancer_detection
from target_replicas import ORGANELLES, human_protein_atlas_image_classification

pytestmark = pytest.mark.slow

SMALL = ["train.epochs=1", "train.batch_size=16", "predict.tta=1"]


def pixels(root: Path) -> None:
    """Digit Recognizer: train.csv label,pixel0..783, test.csv, sample ImageId,Label."""
    rng = np.random.default_rng(6)
    root.mkdir(parents=True)
    columns = [f"pixel{i}" for i in range(784)]
    labels = np.repeat(np.arange(10), 8)
    train = pd.DataFrame((labels[:, None] * 25 + rng.integers(0, 20, (80, 784))).clip(0, 255), columns=columns)
    train.insert(0, "label", labels)
    train.to_csv(root / "train.csv", index=False)
    pd.DataFrame(rng.integers(0, 255, (12, 784)), columns=columns).to_csv(root / "test.csv", index=False)
    pd.DataFrame({"ImageId": np.arange(1, 13), "Label": 0}).to_csv(root / "sample_submission.csv", index=False)


def whales(root: Path, per_class: int = 6, tests: int = 8) -> None:
    """Humpback Whale (map@5): train.csv Image,Id, train/, test/, sample Image,Id of 5 guesses."""
    rng = np.random.default_rng(7)
    names = [f"w_{i:07x}" for i in range(6)]
    rows = [(f"{k}{i:03d}.jpg", names[k]) for k in range(6) for i in range(per_class)]
    for file, name in rows:
        layouts.save(root / "train" / file, names.index(name), rng)
    pd.DataFrame(rows, columns=["Image", "Id"]).to_csv(root / "train.csv", index=False)
    test = [f"t{i:03d}.jpg" for i in range(tests)]
    for i, file in enumerate(test):
        layouts.save(root / "test" / file, i % 6, rng)
    pd.DataFrame({"Image": test, "Id": " ".join(names[:5])}).to_csv(root / "sample_submission.csv", index=False)


def pawpularity(root: Path, rows: int = 40, tests: int = 8) -> None:
    """PetFinder Pawpularity (rmse): train.csv Id,Pawpularity (1..100), train/<Id>.jpg, sample Id,Pawpularity."""
    rng = np.random.default_rng(8)
    ids = [f"{i:032x}" for i in range(rows)]
    scores = rng.integers(1, 101, rows)
    for image_id, score in zip(ids, scores, strict=True):
        layouts.save(root / "train" / f"{image_id}.jpg", int(score) // 34, rng)
    pd.DataFrame({"Id": ids, "Pawpularity": scores}).to_csv(root / "train.csv", index=False)
    test = [f"{i + 500:032x}" for i in range(tests)]
    for i, image_id in enumerate(test):
        layouts.save(root / "test" / f"{image_id}.jpg", i % 3, rng)
    pd.DataFrame({"Id": test, "Pawpularity": 50.0}).to_csv(root / "sample_submission.csv", index=False)


def labels(*domain: int):
    """Integer labels among `domain`, as the class names spell them."""

    def check(values: pd.Series) -> None:
        assert pd.api.types.is_integer_dtype(values) and values.isin(domain).all(), values.tolist()

    return check


def probability(values: pd.Series) -> None:
    assert pd.api.types.is_float_dtype(values) and values.between(0, 1).all(), values.tolist()


def five_guesses(values: pd.Series) -> None:
    whale_ids = {f"w_{i:07x}" for i in range(6)}
    assert all(len(set(row.split())) == 5 and set(row.split()) <= whale_ids for row in values), values.tolist()


def score(values: pd.Series) -> None:
    assert pd.api.types.is_float_dtype(values) and values.between(1, 100).all(), values.tolist()


def protein_atlas(root: Path) -> None:
    """Human Protein Atlas (macro-F1 over tags): train/<Id>_red.png, _green, _blue, _yellow."""
    human_protein_atlas_image_classification(root, train_rows=40, test_rows=8)


def tags(values: pd.Series) -> None:
    assert all(set(row.split()) <= set(ORGANELLES) for row in values), values.tolist()


# replica builder, METRIC= (none: the files' guess), the check of each prediction column
LAYOUTS = {
    "digit-recognizer": (pixels, "", labels(*range(10))),  # CSV pixels
    "cassava-leaf-disease": (layouts.cassava_reencoded, "", labels(*range(5))),  # CSV + image folders
    "gtsrb": (layouts.numbered_folders, "", labels(*range(1, 13))),  # class folders 1..12
    "state-farm": (layouts.state_farm_by_driver, "", probability),  # nested class folders, a column per class
    "dogs-vs-cats-redux": (dogs_vs_cats, "log_loss", probability),  # labels in file names
    "histopathologic-cancer-detection": (histopathologic_cancer_detection, "roc_auc", probability),  # .tif, ids by stem
    "landmark-recognition": (layouts.landmarks, "", labels(0, 1, 2)),  # CSV images in sub-folders
    "humpback-whale-identification": (whales, "map@5", five_guesses),
    "petfinder-pawpularity-score": (pawpularity, "rmse", score),
    "human-protein-atlas-image-classification": (protein_atlas, "macro_f1", tags),  # a file per channel
}


def snapshot(folder: Path) -> dict[str, str]:
    """Every file under `folder` and its content hash: what the kernel must leave as it found."""
    return {
        path.relative_to(folder).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def set_read_only(folder: Path, read_only: bool) -> None:
    for path in [folder, *folder.rglob("*")]:
        path.chmod((0o555 if path.is_dir() else 0o444) if read_only else (0o755 if path.is_dir() else 0o644))


def build_and_mount(slug: str, tmp_path: Path, workdir: Path) -> tuple[Path, Path]:
    """`kit new` on the replica, `kit kernel`, then the replica moved to kaggle/input/<slug>,
    read-only: (the kernel script, the kaggle folder)."""
    builder, metric, _ = LAYOUTS[slug]
    local = tmp_path / "local" / slug
    builder(local)
    made = run_kit("new", "--comp", slug, "--data", str(local), *(["--metric", metric] if metric else []))
    assert made.returncode == 0, made.stderr
    model = [] if LAYOUTS[slug][2] in (five_guesses, score, tags) else ["train.model=logreg"]
    script, meta, sources = build_kernel(workdir, "--comp", slug, "--set", *SMALL, *model)
    assert meta["competition_sources"] == [slug]
    packed = script.read_text() + "".join(data.decode(errors="replace") for data in sources.values())
    assert str(tmp_path) not in packed, "a path of this machine went into the kernel"
    kaggle = tmp_path / "kaggle"
    mounted = kaggle / "input" / slug
    mounted.parent.mkdir(parents=True)
    local.rename(mounted)  # the local folder is gone: only /kaggle/input holds the data
    set_read_only(mounted, True)
    return script, kaggle


@pytest.mark.parametrize("slug", list(LAYOUTS))
def test_each_layouts_kernel_writes_the_samples_submission(slug, kaggle_python, tmp_path, workdir, competitions_dir):
    script, kaggle = build_and_mount(slug, tmp_path, workdir)
    mounted = kaggle / "input" / slug
    before = snapshot(mounted)
    try:
        run_kernel(kaggle_python, script, kaggle)
    finally:
        set_read_only(mounted, False)
    assert snapshot(mounted) == before, "the kernel wrote under /kaggle/input"
    sample_path = next(mounted.glob("sample_submission*.csv"))
    sample = pd.read_csv(sample_path, dtype=str, keep_default_na=False)
    text = pd.read_csv(kaggle / "working" / "submission.csv", dtype=str, keep_default_na=False)
    assert list(text.columns) == list(sample.columns)
    id_column = next(c for c in sample.columns if c.lower() in ("id", "imageid", "image_id", "img", "image"))
    assert text[id_column].tolist() == sample[id_column].tolist()  # the sample's ids, spelt as it spells them
    written = pd.read_csv(kaggle / "working" / "submission.csv", keep_default_na=False)
    check = LAYOUTS[slug][2]
    for column in (c for c in written.columns if c != id_column):
        check(written[column])
