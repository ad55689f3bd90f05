"""Replicas of real competitions whose answer is not one class per image: five guesses (Humpback
Whale), a number (PetFinder Pawpularity), tags (Planet, Human Protein Atlas: one grayscale file per
channel). See replicas.py.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from pictures import grey, tinted
from replicas import Truth, balanced, hex_ids

# ---------------------------------------------------------------- Humpback Whale: map@5

WHALES = ["new_whale", "w_0369a5c", "w_1287fbc", "w_23a388d", "w_9b5109b", "w_9c506f6", "w_d3b46e7"]
WHALE_COLOURS = [
    (230, 40, 40), (40, 230, 40), (40, 40, 230), (230, 230, 40), (230, 40, 230), (40, 230, 230), (128, 128, 128),
]  # fmt: skip


def humpback_whale_identification(root: Path, per_class: int = 20, test_per_class: int = 5) -> Truth:
    """train.csv Image,Id (file names with .jpg); train/; test/; sample Image,Id holding five
    space-separated whale ids per row ('new_whale w_23a388d ...')."""
    rng = np.random.default_rng(20)
    frames = {}
    for split, count in (("train", per_class), ("test", test_per_class)):
        labels = balanced(len(WHALES), count, rng)
        names = [f"{name}.jpg" for name in hex_ids(rng, len(labels), 9)]
        for name, k in zip(names, labels, strict=True):
            tinted(root / split / name, WHALE_COLOURS[k], rng)
        frames[split] = pd.DataFrame({"Image": names, "Id": [WHALES[k] for k in labels]})
    frames["train"].to_csv(root / "train.csv", index=False)
    frames["test"].assign(Id=" ".join(WHALES[:5])).to_csv(root / "sample_submission.csv", index=False)
    return Truth(root / "sample_submission.csv", frames["test"]["Id"].tolist(), frames["train"]["Id"].tolist())


# ---------------------------------------------------------------- PetFinder Pawpularity: rmse

PET_COLUMNS = ["Subject Focus", "Eyes", "Face", "Near", "Action", "Accessory",
               "Group", "Collage", "Human", "Occlusion", "Info", "Blur"]  # fmt: skip


def petfinder_pawpularity_score(root: Path, train_rows: int = 160, test_rows: int = 40) -> Truth:
    """train.csv Id,<12 0/1 photo metadata columns>,Pawpularity (integers 1..100); test.csv Id +
    metadata; train/<Id>.jpg; test/; sample Id,Pawpularity (float placeholders). The score is
    the brightness."""
    rng = np.random.default_rng(21)
    frames = {}
    for split, count in (("train", train_rows), ("test", test_rows)):
        scores, ids = rng.integers(1, 101, count), hex_ids(rng, count, 32)
        for name, score in zip(ids, scores, strict=True):
            level = 20 + 2.1 * score
            tinted(root / split / f"{name}.jpg", (level, level * 0.8, 255 - level), rng)
        meta = pd.DataFrame(rng.integers(0, 2, (count, len(PET_COLUMNS))), columns=PET_COLUMNS)
        frames[split] = pd.concat([pd.DataFrame({"Id": ids}), meta, pd.DataFrame({"Pawpularity": scores})], axis=1)
    frames["train"].to_csv(root / "train.csv", index=False)
    frames["test"].drop(columns="Pawpularity").to_csv(root / "test.csv", index=False)
    placeholders = np.round(rng.uniform(1, 100, test_rows), 2)
    pd.DataFrame({"Id": frames["test"]["Id"], "Pawpularity": placeholders}).to_csv(
        root / "sample_submission.csv", index=False
    )
    return Truth(root / "sample_submission.csv", frames["test"]["Pawpularity"].tolist(), frames["train"]["Pawpularity"])


# ---------------------------------------------------------------- Planet: f2 over tags

WEATHER = {"clear": 230, "haze": 130, "cloudy": 30}  # the red level
PLANET_TAGS = ["clear", "cloudy", "haze", "primary", "water"]


def planet_tags(rng) -> list[str]:
    weather = rng.choice(list(WEATHER))
    if weather == "cloudy":
        return ["cloudy"]
    return [weather] + ["primary"] * (rng.random() < 0.7) + ["water"] * (rng.random() < 0.4)


def planet_understanding_the_amazon_from_space(root: Path, train_rows: int = 200, test_rows: int = 50) -> Truth:
    """train_v2.csv image_name,tags ('haze primary'); train-jpg/<name>.jpg; test-jpg/;
    sample_submission_v2.csv image_name,tags with one fixed tag list."""
    rng = np.random.default_rng(22)
    rows = {}
    for split, count in (("train", train_rows), ("test", test_rows)):
        rows[split] = [(f"{split}_{i}", planet_tags(rng)) for i in range(count)]
        for name, tags in rows[split]:
            red = WEATHER[next(t for t in tags if t in WEATHER)]
            colour = (red, 200 * ("primary" in tags), 200 * ("water" in tags))
            tinted(root / f"{split}-jpg" / f"{name}.jpg", colour, rng)
    train = pd.DataFrame({"image_name": [n for n, _ in rows["train"]], "tags": [" ".join(t) for _, t in rows["train"]]})
    train.to_csv(root / "train_v2.csv", index=False)
    pd.DataFrame({"image_name": [n for n, _ in rows["test"]], "tags": "primary clear agriculture road water"}).to_csv(
        root / "sample_submission_v2.csv", index=False
    )
    return Truth(root / "sample_submission_v2.csv", [set(t) for _, t in rows["test"]], train["tags"].tolist())


def planet_in_columns(root: Path, **sizes) -> Truth:
    """Planet with one 0/1 column per tag, in train and sample alike (the sample in its own order)."""
    truth = planet_understanding_the_amazon_from_space(root, **sizes)
    train = pd.read_csv(root / "train_v2.csv")
    for tag in PLANET_TAGS:
        train[tag] = train["tags"].str.split().apply(lambda row, t=tag: int(t in row))
    train.drop(columns="tags").to_csv(root / "train_v2.csv", index=False)
    sample = pd.read_csv(root / "sample_submission_v2.csv")[["image_name"]]
    sample[PLANET_TAGS[::-1]] = 0
    sample.to_csv(root / "sample_submission_v2.csv", index=False)
    return truth


# ---------------------------------------------------------------- Human Protein Atlas: macro-F1 over tags

ORGANELLES = ["0", "7", "16", "25"]  # of the 28 numbered locations: nucleoplasm, ..., cytosol
STAINS = ["red", "green", "blue", "yellow"]  # one grayscale file per stain: <Id>_<stain>.png


def human_protein_atlas_image_classification(root: Path, train_rows: int = 160, test_rows: int = 40) -> Truth:
    """train.csv Id,Target (numbered locations, '16 0'); train/<Id>_red.png, _green, _blue and
    _yellow (grayscale, one per stain, as the real set); test/ likewise; sample Id,Predicted
    ('0'). Each location lights one stain: its file is bright, the others dim."""
    rng = np.random.default_rng(23)
    rows = {}
    for split, count in (("train", train_rows), ("test", test_rows)):
        ids = [f"{a[:8]}-{a[8:]}-11e8-bb{i:02x}" for i, a in enumerate(hex_ids(rng, count))]
        tags = [sorted(rng.choice(ORGANELLES, rng.integers(1, 3), replace=False), key=int) for _ in ids]
        for name, row in zip(ids, tags, strict=True):
            for stain, organelle in zip(STAINS, ORGANELLES, strict=True):
                grey(root / split / f"{name}_{stain}.png", 200 if organelle in row else 40, rng)
        rows[split] = pd.DataFrame({"Id": ids, "Target": [" ".join(t) for t in tags]})
    rows["train"].to_csv(root / "train.csv", index=False)
    rows["test"].assign(Target="0").rename(columns={"Target": "Predicted"}).to_csv(
        root / "sample_submission.csv", index=False
    )
    truth = [set(t.split()) for t in rows["test"]["Target"]]
    return Truth(root / "sample_submission.csv", truth, rows["train"]["Target"].tolist())
