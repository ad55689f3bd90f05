"""Variants of real competitions' image layouts (the competitions themselves are in replicas.py),
built with tiny PNG/JPEG files (Pillow), for `make new` / `make data` (test_layouts.py).

    state_farm_by_driver State Farm's class folders grouped by driver, one more level:
                        train/c0..c3/<driver>/<img>.jpg, test/*.jpg, sample img,c0..c3
    numbered_folders    class folders 1..12 (GTSRB's numbered folders), sample Id,ClassId
    landmarks           Google Landmark Recognition: train.csv id,landmark_id, the images in
                        train/<a>/<b>/<id>.jpg (sub-folders from the id's first characters)
    cassava_reencoded   Cassava Leaf Disease's train.csv (image_id ending .png) over images a
                        competitor re-encoded to .jpg; its sample's columns swapped (label, image_id)

Each returns the test set's true labels (class indices in the kit's order).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from living_species_data import CLASSES, draw


def save(path: Path, label: int, rng: np.random.Generator, size: int = 24) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    draw(label % len(CLASSES), size, rng).save(path)


def state_farm_by_driver(root: Path, drivers: int = 3, per_driver: int = 5, tests: int = 8) -> np.ndarray:
    rng = np.random.default_rng(1)
    classes = ["c0", "c1", "c2", "c3"]
    for label, name in enumerate(classes):
        for d in range(drivers):
            for i in range(per_driver):
                save(root / "train" / name / f"p{d:03d}" / f"img_{label}_{d}_{i}.jpg", label, rng)
    truth = rng.integers(0, len(classes), tests)
    names = [f"img_t{i}.jpg" for i in range(tests)]
    for name, label in zip(names, truth, strict=True):
        save(root / "test" / name, int(label), rng)
    sample = pd.DataFrame({"img": names, **{c: 0.25 for c in classes}})
    sample.to_csv(root / "sample_submission.csv", index=False)
    return truth


def numbered_folders(root: Path, classes: int = 12, per_class: int = 3, tests: int = 6) -> np.ndarray:
    rng = np.random.default_rng(2)
    for number in range(1, classes + 1):
        for i in range(per_class):
            save(root / "train" / str(number) / f"{number}_{i}.png", number - 1, rng)
    truth = rng.integers(0, classes, tests)
    for i, label in enumerate(truth):
        save(root / "test" / f"t{i}.png", int(label), rng)
    pd.DataFrame({"Id": [f"t{i}.png" for i in range(tests)], "ClassId": 1}).to_csv(
        root / "sample_submission.csv", index=False
    )
    return truth


def landmarks(root: Path, classes: int = 3, per_class: int = 8, tests: int = 6) -> np.ndarray:
    rng = np.random.default_rng(3)
    ids = [f"{i:04x}{label}" for label in range(classes) for i in range(per_class)]
    labels = [label for label in range(classes) for _ in range(per_class)]
    for image_id, label in zip(ids, labels, strict=True):
        save(root / "train" / image_id[0] / image_id[1] / f"{image_id}.jpg", label, rng)
    pd.DataFrame({"id": ids, "landmark_id": labels}).to_csv(root / "train.csv", index=False)
    truth = rng.integers(0, classes, tests)
    test_ids = [f"f{i:03x}" for i in range(tests)]
    for image_id, label in zip(test_ids, truth, strict=True):
        save(root / "test" / image_id[0] / image_id[1] / f"{image_id}.jpg", int(label), rng)
    pd.DataFrame({"id": test_ids, "landmarks": 0}).to_csv(root / "sample_submission.csv", index=False)
    return truth


def cassava_reencoded(root: Path, classes: int = 5, per_class: int = 6, tests: int = 10) -> np.ndarray:
    rng = np.random.default_rng(5)
    ids = [f"{1000 + i * classes + label}.png" for label in range(classes) for i in range(per_class)]
    labels = [label for label in range(classes) for _ in range(per_class)]
    for image_id, label in zip(ids, labels, strict=True):
        save(root / "train_images" / image_id.replace(".png", ".jpg"), label, rng)
    pd.DataFrame({"image_id": ids, "label": labels}).to_csv(root / "train.csv", index=False)
    truth = rng.integers(0, classes, tests)
    test_ids = [f"{5000 + i}.jpg" for i in range(tests)]
    for image_id, label in zip(test_ids, truth, strict=True):
        save(root / "test_images" / image_id, int(label), rng)
    pd.DataFrame({"label": 4, "image_id": test_ids}).to_csv(root / "sample_submission.csv", index=False)
    return truth
