"""Small synthetic replicas of real Kaggle image-classification layouts, for `make new`.

Each builder writes a competition folder exactly as Kaggle ships it, with images the classes can
be told apart by (`living_species_data.draw`: a colour and a shape per class), and returns the
test set's true labels so a test can score the submission `make run` writes.

    plant_seedlings   train/<Species Name>/*.png, test/*.png, sample file,species (text); micro-F1
    dog_breeds        labels.csv id,breed (ids without extension), train/<id>.jpg, test/<id>.jpg,
                      sample id + one probability column per breed; log-loss
    aerial_cactus     train.csv id,has_cactus (ids keep .jpg), train/, test/, sample id,has_cactus
                      (one probability); ROC-AUC
    kannada_mnist     train.csv label,pixel0..; test.csv id,pixel0.. (ids from 0); sample id,label
    aptos             train.csv id_code,diagnosis (grades 0-4), train_images/, test_images/; QWK
                      (`graded=True`: the grade is the image's brightness, adjacent grades overlap)
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from living_species_data import draw
from PIL import Image

SPECIES = [
    "Black-grass", "Charlock", "Cleavers", "Common Chickweed",
    "Common wheat", "Fat Hen", "Loose Silky-bent", "Maize",
]  # fmt: skip
BREEDS = ["affenpinscher", "beagle", "collie", "dingo"]


def images_of(folder: Path, labels: list[int], names: list[str], suffix: str, size: int, seed: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    for label, name in zip(labels, names, strict=True):
        image = draw(label, size, rng)
        image.save(folder / f"{name}{suffix}", quality=92) if suffix == ".jpg" else image.save(
            folder / f"{name}{suffix}"
        )


def graded_images(folder: Path, grades: list[int], names: list[str], suffix: str, size: int, seed: int) -> None:
    """Grey images whose mean brightness grows with the grade (40 levels a grade, with a spread of
    18 per image, so neighbouring grades overlap as a retina's do): an order, not five looks."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    for grade, name in zip(grades, names, strict=True):
        level = 50 + 40 * grade + rng.normal(0, 18)
        pixels = np.clip(level + rng.normal(0, 10, (size, size, 3)), 0, 255).astype(np.uint8)
        Image.fromarray(pixels).save(folder / f"{name}{suffix}")


def balanced(classes: int, per_class: int, seed: int) -> list[int]:
    labels = np.repeat(np.arange(classes), per_class)
    return np.random.default_rng(seed).permutation(labels).tolist()


def plant_seedlings(root: Path, per_class: int = 16, test_per_class: int = 4, size: int = 40) -> np.ndarray:
    for label, species in enumerate(SPECIES):
        names = [f"{species[:3].lower()}{i:03d}" for i in range(per_class)]
        images_of(root / "train" / species, [label] * per_class, names, ".png", size, seed=label)
    test = balanced(len(SPECIES), test_per_class, seed=99)
    files = [f"{i:08x}" for i in range(len(test))]
    images_of(root / "test", test, files, ".png", size, seed=100)
    pd.DataFrame({"file": [f"{f}.png" for f in files], "species": SPECIES[0]}).to_csv(
        root / "sample_submission.csv", index=False
    )
    return np.array(test)


def dog_breeds(root: Path, per_class: int = 24, test_per_class: int = 6, size: int = 40) -> np.ndarray:
    labels = balanced(len(BREEDS), per_class, seed=1)
    ids = [f"{i:032x}" for i in range(len(labels))]
    images_of(root / "train", labels, ids, ".jpg", size, seed=2)
    pd.DataFrame({"id": ids, "breed": [BREEDS[k] for k in labels]}).to_csv(root / "labels.csv", index=False)
    test = balanced(len(BREEDS), test_per_class, seed=3)
    test_ids = [f"{i + 5000:032x}" for i in range(len(test))]
    images_of(root / "test", test, test_ids, ".jpg", size, seed=4)
    sample = pd.DataFrame({"id": test_ids})
    for breed in sorted(BREEDS, reverse=True):  # the sample's column order rules, not the alphabet
        sample[breed] = 1 / len(BREEDS)
    sample.to_csv(root / "sample_submission.csv", index=False)
    return np.array(test)


def aerial_cactus(root: Path, per_class: int = 40, test_per_class: int = 10, size: int = 32) -> np.ndarray:
    labels = balanced(2, per_class, seed=5)
    ids = [f"{i:032x}.jpg" for i in range(len(labels))]
    images_of(root / "train", labels, [Path(i).stem for i in ids], ".jpg", size, seed=6)
    pd.DataFrame({"id": ids, "has_cactus": labels}).to_csv(root / "train.csv", index=False)
    test = balanced(2, test_per_class, seed=7)
    test_ids = [f"{i + 9000:032x}.jpg" for i in range(len(test))]
    images_of(root / "test", test, [Path(i).stem for i in test_ids], ".jpg", size, seed=8)
    pd.DataFrame({"id": test_ids, "has_cactus": 0.5}).to_csv(root / "sample_submission.csv", index=False)
    return np.array(test)


def aptos(root: Path, per_class: int = 16, test_per_class: int = 4, size: int = 40, graded: bool = False) -> np.ndarray:
    write = graded_images if graded else images_of
    labels = balanced(5, per_class, seed=9)
    ids = [f"{i:012x}" for i in range(len(labels))]
    write(root / "train_images", labels, ids, ".png", size, seed=10)
    pd.DataFrame({"id_code": ids, "diagnosis": labels}).to_csv(root / "train.csv", index=False)
    test = balanced(5, test_per_class, seed=11)
    test_ids = [f"{i + 7000:012x}" for i in range(len(test))]
    write(root / "test_images", test, test_ids, ".png", size, seed=12)
    pd.DataFrame({"id_code": test_ids, "diagnosis": 0}).to_csv(root / "sample_submission.csv", index=False)
    return np.array(test)


def kannada_mnist(root: Path, train: pd.DataFrame, test: pd.DataFrame) -> np.ndarray:
    """Pixel CSVs cut from Fashion-MNIST frames (label,pixel1..): pixel0.. columns, test ids from 0."""
    root.mkdir(parents=True, exist_ok=True)
    pixels = [f"pixel{i}" for i in range(784)]
    renamed = train.copy()
    renamed.columns = ["label", *pixels]
    renamed.to_csv(root / "train.csv", index=False)
    unlabelled = test.drop(columns=["label"]).copy()
    unlabelled.columns = pixels
    unlabelled.insert(0, "id", np.arange(len(test)))
    unlabelled.to_csv(root / "test.csv", index=False)
    pd.DataFrame({"id": np.arange(len(test)), "label": 0}).to_csv(root / "sample_submission.csv", index=False)
    return test["label"].to_numpy()
