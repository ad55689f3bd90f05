"""Small replicas of real Kaggle image competitions, one builder each, in the real competition's
file layout (file and column names, id spelling, the sample's columns and placeholders), with
images of 16-28 px whose colour or pattern carries the label.

Every builder writes the folder and returns a Truth: the sample file, the true answer of each
sample row (in the sample's order) and the training labels, for tests/corpus/test_corpus.py to
score the submission `make run` writes with scikit-learn.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from conftest import sample_frames
from pictures import hue, shaped, tinted
from PIL import Image


@dataclass
class Truth:
    sample: Path  # the sample submission
    test: list  # the true answer of each sample row, in its order (a label, a tag set, a number)
    train: list  # the training labels, as the train file spells them


def balanced(classes: int, per_class: int, rng) -> np.ndarray:
    return rng.permutation(np.repeat(np.arange(classes), per_class))


def hex_ids(rng, count: int, digits: int = 12) -> list[str]:
    """Kaggle-style hashes: random hex, made unique by a counter."""
    return [f"{rng.integers(16**8):08x}{i:0{digits - 8}x}" for i in range(count)]


# ---------------------------------------------------------------- pixel CSVs


def pixel_files(root: Path, train: pd.DataFrame, test: pd.DataFrame, test_id: str | None) -> None:
    """train.csv label,pixel0..pixel783 and test.csv ([test_id,]pixel0..), from Fashion-MNIST rows."""
    root.mkdir(parents=True, exist_ok=True)
    rename = {f"pixel{i + 1}": f"pixel{i}" for i in range(784)}
    train.rename(columns=rename).to_csv(root / "train.csv", index=False)
    unlabelled = test.drop(columns="label").rename(columns=rename)
    if test_id:  # one concat: 784 inserted columns leave pandas a fragmented frame
        unlabelled = pd.concat(
            [pd.DataFrame({test_id: np.arange(len(test))}), unlabelled.reset_index(drop=True)], axis=1
        )
    unlabelled.to_csv(root / "test.csv", index=False)


def digit_recognizer(root: Path) -> Truth:
    """train.csv label,pixel0..; test.csv pixel0.. only; sample ImageId (from 1),Label of 0s."""
    train, test = sample_frames(400, 100)
    pixel_files(root, train, test, None)
    ids = np.arange(1, len(test) + 1)
    pd.DataFrame({"ImageId": ids, "Label": 0}).to_csv(root / "sample_submission.csv", index=False)
    return Truth(root / "sample_submission.csv", test["label"].tolist(), train["label"].tolist())


def kannada_mnist(root: Path, train: pd.DataFrame | None = None, test: pd.DataFrame | None = None) -> Truth:
    """train.csv label,pixel0..; test.csv id,pixel0.. (ids from 0); Dig-MNIST.csv, a second
    labelled set; sample id,label."""
    if train is None:
        train, test = sample_frames(400, 100)
    pixel_files(root, train, test, "id")
    extra = sample_frames(500, 1)[0].tail(100).rename(columns={f"pixel{i + 1}": f"pixel{i}" for i in range(784)})
    extra.to_csv(root / "Dig-MNIST.csv", index=False)
    pd.DataFrame({"id": np.arange(len(test)), "label": 0}).to_csv(root / "sample_submission.csv", index=False)
    return Truth(root / "sample_submission.csv", test["label"].tolist(), train["label"].tolist())


# ---------------------------------------------------------------- class folders, labels in names

SPECIES = [
    "Black-grass", "Charlock", "Cleavers", "Common Chickweed", "Common wheat", "Fat Hen",
    "Loose Silky-bent", "Maize", "Scentless Mayweed", "Shepherds Purse", "Small-flowered Cranesbill", "Sugar beet",
]  # fmt: skip


def plant_seedlings(root: Path, per_class: int = 12, test_per_class: int = 3, size: int = 16) -> Truth:
    """train/<Species Name>/<hash>.png; test/<hash>.png; sample file,species (a species name)."""
    rng = np.random.default_rng(10)
    train = []
    for k, species in enumerate(SPECIES):
        for name in hex_ids(rng, per_class, 9):
            hue(root / "train" / species / f"{name}.png", k, len(SPECIES), rng, size)
            train.append(species)
    test = balanced(len(SPECIES), test_per_class, rng)
    files = [f"{name}.png" for name in hex_ids(rng, len(test), 9)]
    for file, k in zip(files, test, strict=True):
        hue(root / "test" / file, int(k), len(SPECIES), rng, size)
    pd.DataFrame({"file": files, "species": "Sugar beet"}).to_csv(root / "sample_submission.csv", index=False)
    return Truth(root / "sample_submission.csv", [SPECIES[k] for k in test], train)


def dogs_vs_cats(root: Path, per_class: int = 24, tests: int = 16, size: int = 24) -> Truth:
    """Dogs vs. Cats Redux: train/cat.<n>.jpg, train/dog.<n>.jpg; test/<n>.jpg; sample id,label
    (the probability of a dog, 0.5)."""
    rng = np.random.default_rng(0)
    for k, name in enumerate(["cat", "dog"]):
        for i in range(per_class):
            shaped(root / "train" / f"{name}.{i}.jpg", k, rng, size)
    truth = rng.integers(0, 2, tests)
    for i, k in enumerate(truth):
        shaped(root / "test" / f"{i + 1}.jpg", int(k), rng, size)
    pd.DataFrame({"id": np.arange(1, tests + 1), "label": 0.5}).to_csv(root / "sample_submission.csv", index=False)
    return Truth(root / "sample_submission.csv", truth.tolist(), [0] * per_class + [1] * per_class)


DRIVER_CLASSES = [f"c{k}" for k in range(10)]


def state_farm(root: Path, per_class: int = 12, tests: int = 30) -> Truth:
    """State Farm Distracted Driver: imgs/train/c0..c9/img_<n>.jpg, driver_imgs_list.csv
    subject,classname,img; imgs/test/img_<n>.jpg; sample img,c0..c9 (0.1 each)."""
    rng = np.random.default_rng(11)
    rows, number = [], iter(rng.permutation(100000))
    for k, name in enumerate(DRIVER_CLASSES):
        for i in range(per_class):
            img = f"img_{next(number)}.jpg"
            hue(root / "imgs" / "train" / name / img, k, len(DRIVER_CLASSES), rng)
            rows.append((f"p{i % 3:03d}", name, img))
    pd.DataFrame(rows, columns=["subject", "classname", "img"]).to_csv(root / "driver_imgs_list.csv", index=False)
    truth = rng.integers(0, len(DRIVER_CLASSES), tests)
    names = [f"img_{next(number)}.jpg" for _ in range(tests)]
    for name, k in zip(names, truth, strict=True):
        hue(root / "imgs" / "test" / name, int(k), len(DRIVER_CLASSES), rng)
    pd.DataFrame({"img": names, **dict.fromkeys(DRIVER_CLASSES, 0.1)}).to_csv(
        root / "sample_submission.csv", index=False
    )
    return Truth(root / "sample_submission.csv", [DRIVER_CLASSES[k] for k in truth], [r[1] for r in rows])


# ---------------------------------------------------------------- a CSV of image ids and labels

BREEDS = ["affenpinscher", "afghan_hound", "beagle", "collie", "dingo"]


def dog_breed_identification(root: Path, per_class: int = 24, test_per_class: int = 6, size: int = 16) -> Truth:
    """labels.csv id,breed (ids without extension); train/<id>.jpg; test/<id>.jpg; sample id +
    one probability column per breed, in alphabetical order."""
    rng = np.random.default_rng(12)
    labels, ids = balanced(len(BREEDS), per_class, rng), hex_ids(rng, len(BREEDS) * per_class, 32)
    for name, k in zip(ids, labels, strict=True):
        hue(root / "train" / f"{name}.jpg", int(k), len(BREEDS), rng, size)
    pd.DataFrame({"id": ids, "breed": [BREEDS[k] for k in labels]}).to_csv(root / "labels.csv", index=False)
    test, test_ids = balanced(len(BREEDS), test_per_class, rng), hex_ids(rng, len(BREEDS) * test_per_class, 32)
    for name, k in zip(test_ids, test, strict=True):
        hue(root / "test" / f"{name}.jpg", int(k), len(BREEDS), rng, size)
    sample = pd.DataFrame({"id": test_ids, **dict.fromkeys(BREEDS, 1 / len(BREEDS))})
    sample.to_csv(root / "sample_submission.csv", index=False)
    return Truth(root / "sample_submission.csv", [BREEDS[k] for k in test], [BREEDS[k] for k in labels])


def aerial_cactus(root: Path, per_class: int = 40, test_per_class: int = 10, size: int = 24) -> Truth:
    """train.csv id,has_cactus (ids keep .jpg); train/; test/; sample id,has_cactus (0.5)."""
    rng = np.random.default_rng(13)
    frames = {}
    for split, count in (("train", per_class), ("test", test_per_class)):
        labels, ids = balanced(2, count, rng), [f"{name}.jpg" for name in hex_ids(rng, 2 * count, 32)]
        for name, k in zip(ids, labels, strict=True):
            shaped(root / split / name, int(k), rng, size)
        frames[split] = pd.DataFrame({"id": ids, "has_cactus": labels})
    frames["train"].to_csv(root / "train.csv", index=False)
    frames["test"].assign(has_cactus=0.5).to_csv(root / "sample_submission.csv", index=False)
    return Truth(root / "sample_submission.csv", frames["test"]["has_cactus"].tolist(), frames["train"]["has_cactus"])


def histopathologic_cancer_detection(root: Path, train_rows: int = 160, test_rows: int = 60, overlap=25) -> Truth:
    """train_labels.csv id,label (ids without extension); train/<id>.tif; test/<id>.tif; sample
    id,label full of integer 0s. The classes overlap: AUC, not accuracy, tells."""
    rng = np.random.default_rng(14)
    frames = {}
    for split, count in (("train", train_rows), ("test", test_rows)):
        labels, ids = rng.integers(0, 2, count), hex_ids(rng, count, 40)
        for name, k in zip(ids, labels, strict=True):
            level = 150 + 40 * k + rng.normal(0, overlap)
            tinted(root / split / f"{name}.tif", (level, 90, 200 - 0.3 * level), rng)
        frames[split] = pd.DataFrame({"id": ids, "label": labels})
    frames["train"].to_csv(root / "train_labels.csv", index=False)
    frames["test"].assign(label=0).to_csv(root / "sample_submission.csv", index=False)
    return Truth(root / "sample_submission.csv", frames["test"]["label"].tolist(), frames["train"]["label"].tolist())


def aptos2019_blindness_detection(root: Path, per_class: int = 24, test_per_class: int = 6, spread: float = 0) -> Truth:
    """train.csv id_code,diagnosis (grades 0-4); test.csv id_code; train_images/<id>.png;
    test_images/; sample id_code,diagnosis of 0s. The grade is the brightness; `spread` (its
    standard deviation per image) makes neighbouring grades overlap, as a retina's do."""
    rng = np.random.default_rng(15)
    frames = {}
    for split, count in (("train", per_class), ("test", test_per_class)):
        grades, ids = balanced(5, count, rng), hex_ids(rng, 5 * count, 12)
        for name, grade in zip(ids, grades, strict=True):
            level = 40 + 45 * grade + (rng.normal(0, spread) if spread else 0)
            tinted(root / f"{split}_images" / f"{name}.png", (level, level * 0.6, 60), rng)
        frames[split] = pd.DataFrame({"id_code": ids, "diagnosis": grades})
    frames["train"].to_csv(root / "train.csv", index=False)
    frames["test"][["id_code"]].to_csv(root / "test.csv", index=False)
    frames["test"].assign(diagnosis=0).to_csv(root / "sample_submission.csv", index=False)
    return Truth(root / "sample_submission.csv", frames["test"]["diagnosis"].tolist(), frames["train"]["diagnosis"])


DISEASES = ["Cassava Bacterial Blight (CBB)", "Cassava Brown Streak Disease (CBSD)",
            "Cassava Green Mottle (CGM)", "Cassava Mosaic Disease (CMD)", "Healthy"]  # fmt: skip


def cassava_leaf_disease_classification(root: Path, per_class: int = 20, test_per_class: int = 5) -> Truth:
    """train.csv image_id,label (image_id '<digits>.jpg', labels 0..4); train_images/;
    test_images/; label_num_to_disease_map.json; sample image_id,label of 4s."""
    rng = np.random.default_rng(16)
    numbers = iter(rng.permutation(10**6) + 10**9)
    frames = {}
    for split, count in (("train", per_class), ("test", test_per_class)):
        labels = balanced(len(DISEASES), count, rng)
        ids = [f"{next(numbers)}.jpg" for _ in labels]
        for name, k in zip(ids, labels, strict=True):
            shaped(root / f"{split}_images" / name, int(k), rng, 20)
        frames[split] = pd.DataFrame({"image_id": ids, "label": labels})
    frames["train"].to_csv(root / "train.csv", index=False)
    frames["test"].assign(label=4).to_csv(root / "sample_submission.csv", index=False)
    (root / "label_num_to_disease_map.json").write_text(json.dumps(dict(enumerate(DISEASES))))
    return Truth(root / "sample_submission.csv", frames["test"]["label"].tolist(), frames["train"]["label"].tolist())


# iWildCam 2019's train categories: integers with gaps (2, 5-7, 9, ... never occur in train)
CATEGORIES = [0, 1, 3, 4, 8, 11]
CAMERA_COLUMNS = ["date_captured", "file_name", "frame_num", "id", "location", "rights_holder", "seq_id"]


def iwildcam_2019_fgvc6(root: Path, per_class: int = 16, test_per_class: int = 4) -> Truth:
    """train.csv category_id,date_captured,file_name,frame_num,id,location,... (category ids
    with gaps, not 0..K-1); test.csv the same without category_id; train_images/<id>.jpg;
    test_images/; sample Id,Predicted of 0s."""
    rng = np.random.default_rng(17)
    frames = {}
    for split, count in (("train", per_class), ("test", test_per_class)):
        labels = np.array(CATEGORIES)[balanced(len(CATEGORIES), count, rng)]
        halves = zip(hex_ids(rng, len(labels)), hex_ids(rng, len(labels)), strict=True)
        ids = [f"{a[:8]}-{a[8:]}-11e9-bcad-{b}" for a, b in halves]
        for name, category in zip(ids, labels, strict=True):
            hue(root / f"{split}_images" / f"{name}.jpg", CATEGORIES.index(category), len(CATEGORIES), rng)
        frames[split] = pd.DataFrame({
            "category_id": labels, "date_captured": "2012-03-17 03:48:44", "file_name": [f"{i}.jpg" for i in ids],
            "frame_num": 1, "id": ids, "location": rng.integers(0, 140, len(ids)), "rights_holder": "Justin Brown",
            "seq_id": hex_ids(rng, len(ids), 32), "seq_num_frames": 3, "width": 1024, "height": 747,
        })  # fmt: skip
    frames["train"].to_csv(root / "train.csv", index=False)
    frames["test"].drop(columns="category_id").to_csv(root / "test.csv", index=False)
    pd.DataFrame({"Id": frames["test"]["id"], "Predicted": 0}).to_csv(root / "sample_submission.csv", index=False)
    train = frames["train"]["category_id"].tolist()
    return Truth(root / "sample_submission.csv", frames["test"]["category_id"].tolist(), train)


# ---------------------------------------------------------------- Leaf Classification: log-loss

LEAVES = ["Acer_Capillipes", "Acer_Circinatum", "Acer_Mono", "Acer_Opalus", "Acer_Palmatum", "Acer_Pictum"]


def leaf_classification(root: Path, per_class: int = 24, test_per_class: int = 4) -> Truth:
    """train.csv id,species,margin1..64,shape1..64,texture1..64 (ids are integers); test.csv
    id + the features; every image, train and test, in images/<id>.jpg (grey leaves); sample id +
    one probability column per species."""
    rng = np.random.default_rng(24)
    features = [f"{kind}{i}" for kind in ("margin", "shape", "texture") for i in range(1, 65)]
    ids = iter(rng.permutation(np.arange(1, 1 + len(LEAVES) * (per_class + test_per_class))).tolist())
    frames = {}
    for split, count in (("train", per_class), ("test", test_per_class)):
        labels = balanced(len(LEAVES), count, rng)
        numbers = [next(ids) for _ in labels]
        for number, k in zip(numbers, labels, strict=True):
            path = root / "images" / f"{number}.jpg"
            shaped(path, int(k), rng, 24)
            Image.open(path).convert("L").save(path, quality=95)
        values = pd.DataFrame(np.round(rng.random((len(labels), len(features))) / 50, 6), columns=features)
        named = pd.DataFrame({"id": numbers, "species": [LEAVES[k] for k in labels]})
        frames[split] = pd.concat([named, values], axis=1)
    frames["train"].to_csv(root / "train.csv", index=False)
    frames["test"].drop(columns="species").to_csv(root / "test.csv", index=False)
    sample = pd.DataFrame({"id": frames["test"]["id"], **dict.fromkeys(LEAVES, 1 / len(LEAVES))})
    sample.to_csv(root / "sample_submission.csv", index=False)
    return Truth(root / "sample_submission.csv", frames["test"]["species"].tolist(), frames["train"]["species"])
