"""`make new` then `make run` on small replicas of competitions whose label is not one class per
image: Humpback Whale (map@5), PetFinder Pawpularity (rmse), Planet (f2) and Histopathologic
Cancer Detection (roc_auc, a sample of integer 0s). Each submission is checked against the
sample (columns, ids, value types) and scored here with scikit-learn / NumPy, not the kit's
metric code, against the trivial submission's score.

The images are 16x16 PNGs whose colour carries the label, so a few epochs learn it.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import run_kit
from PIL import Image
from sklearn.metrics import fbeta_score, mean_squared_error, roc_auc_score

SIZE = 16


def save(folder: Path, name: str, rgb, rng) -> None:
    """A flat colour plus noise: the colour is the signal."""
    folder.mkdir(parents=True, exist_ok=True)
    pixels = np.clip(np.asarray(rgb, dtype=np.float64) + rng.normal(0, 12, (SIZE, SIZE, 3)), 0, 255)
    Image.fromarray(pixels.astype(np.uint8)).save(folder / name)


def new_and_run(slug: str, folder: Path, metric: str, epochs: int = 8) -> tuple[pd.DataFrame, str]:
    made = run_kit("new", "--comp", slug, "--data", str(folder), "--metric", metric)
    assert made.returncode == 0, made.stderr
    settings = [f"train.epochs={epochs}", "train.batch_size=16"]
    ran = run_kit("run", "--comp", slug, "--data", str(folder), "--set", *settings)
    assert ran.returncode == 0, ran.stderr[-3000:]
    written = sorted((folder.parent / "work" / "submissions" / slug).glob("*.csv"))
    assert len(written) == 1
    return pd.read_csv(written[0], keep_default_na=False), made.stdout


def same_frame_shape(submission: pd.DataFrame, sample: pd.DataFrame) -> None:
    assert list(submission.columns) == list(sample.columns)
    assert submission.iloc[:, 0].tolist() == sample.iloc[:, 0].tolist()


# ---------------------------------------------------------------- Humpback Whale: map@5

WHALES = ["new_whale", "w_0369a5c", "w_1287fbc", "w_23a388d", "w_9b5109b", "w_9c506f6", "w_d3b46e7"]
WHALE_COLOURS = [
    (230, 40, 40), (40, 230, 40), (40, 40, 230), (230, 230, 40), (230, 40, 230), (40, 230, 230), (128, 128, 128),
]  # fmt: skip


def humpback_whale(root: Path, per_class: int = 20, test_per_class: int = 5) -> np.ndarray:
    """train.csv Image,Id (file names with .jpg... here .png), train/, test/, sample Image,Id
    holding five space-separated whale ids per row."""
    rng = np.random.default_rng(0)
    rows, test = [], []
    for split, count in (("train", per_class), ("test", test_per_class)):
        labels = rng.permutation(np.repeat(np.arange(len(WHALES)), count))
        for i, label in enumerate(labels):
            name = f"{rng.integers(16**8):08x}{i:03d}.png"
            save(root / split, name, WHALE_COLOURS[label], rng)
            (rows if split == "train" else test).append((name, label))
    pd.DataFrame({"Image": [n for n, _ in rows], "Id": [WHALES[k] for _, k in rows]}).to_csv(
        root / "train.csv", index=False
    )
    guess = " ".join(WHALES[:5])
    pd.DataFrame({"Image": [n for n, _ in test], "Id": guess}).to_csv(root / "sample_submission.csv", index=False)
    return np.array([k for _, k in test])


def map_at_k(truth: list[str], guesses: list[list[str]], k: int) -> float:
    """Kaggle's MAP@K with one true label: 1/rank of the first correct guess, else 0."""
    pairs = zip(truth, guesses, strict=True)
    scores = [next((1 / (i + 1) for i, g in enumerate(row[:k]) if g == label), 0.0) for label, row in pairs]
    return float(np.mean(scores))


@pytest.mark.slow
def test_humpback_whale_map5_writes_five_ids_best_first(tmp_path, competitions_dir):
    folder = tmp_path / "humpback-whale-identification"
    truth = humpback_whale(folder)
    submission, summary = new_and_run("humpback", folder, "MAP@{5}")
    assert "top-5" in summary
    config = tomllib.loads((competitions_dir / "humpback" / "competition.toml").read_text())
    assert config["competition"]["metric"] == "map@5" and config["competition"]["target"] == "topk"
    sample = pd.read_csv(folder / "sample_submission.csv")
    same_frame_shape(submission, sample)
    guesses = [row.split() for row in submission["Id"]]
    assert all(len(row) == 5 and len(set(row)) == 5 and set(row) <= set(WHALES) for row in guesses)
    names = [WHALES[k] for k in truth]
    trivial = map_at_k(names, [row.split() for row in sample["Id"]], 5)  # the sample's own guess
    prior = map_at_k(names, [WHALES[:5]] * len(names), 5)
    assert map_at_k(names, guesses, 5) > max(trivial, prior) + 0.3


# ---------------------------------------------------------------- PetFinder Pawpularity: rmse


def petfinder_pawpularity(root: Path, train_rows: int = 160, test_rows: int = 40) -> np.ndarray:
    """train.csv Id,Subject Focus,...,Pawpularity (integers 1..100), train/<Id>.jpg (here .png),
    test/, sample Id,Pawpularity with float placeholders. Brightness is the score."""
    rng = np.random.default_rng(1)
    frames = {}
    for split, count in (("train", train_rows), ("test", test_rows)):
        scores = rng.integers(1, 101, count)
        ids = [f"{rng.integers(16**12):012x}{i:03d}" for i in range(count)]
        for name, score in zip(ids, scores, strict=True):
            level = 20 + 2.1 * score
            save(root / split, f"{name}.png", (level, level * 0.8, 255 - level), rng)
        frames[split] = pd.DataFrame({"Id": ids, "Subject Focus": rng.integers(0, 2, count), "Pawpularity": scores})
    frames["train"].to_csv(root / "train.csv", index=False)
    sample = pd.DataFrame({"Id": frames["test"]["Id"], "Pawpularity": np.round(rng.uniform(1, 100, test_rows), 2)})
    sample.to_csv(root / "sample_submission.csv", index=False)
    return frames["test"]["Pawpularity"].to_numpy(dtype=np.float64)


@pytest.mark.slow
def test_petfinder_pawpularity_rmse_writes_numbers_in_the_training_range(tmp_path, competitions_dir):
    folder = tmp_path / "petfinder-pawpularity-score"
    truth = petfinder_pawpularity(folder)
    submission, summary = new_and_run("pawpularity", folder, "rmse", epochs=12)
    assert "regression on 'Pawpularity'" in summary
    same_frame_shape(submission, pd.read_csv(folder / "sample_submission.csv"))
    assert pd.api.types.is_float_dtype(submission["Pawpularity"])
    train = pd.read_csv(folder / "train.csv")["Pawpularity"]
    assert submission["Pawpularity"].between(train.min(), train.max()).all()
    rmse = np.sqrt(mean_squared_error(truth, submission["Pawpularity"]))
    trivial = np.sqrt(mean_squared_error(truth, np.full(len(truth), train.mean())))
    assert rmse < 0.6 * trivial


# ---------------------------------------------------------------- Planet: f2 over tags

WEATHER = {"clear": (230, 0), "haze": (130, 0), "cloudy": (30, 0)}  # red level


def planet_tags(rng) -> list[str]:
    weather = rng.choice(list(WEATHER))
    if weather == "cloudy":
        return ["cloudy"]
    tags = [weather] + ["primary"] * (rng.random() < 0.7) + ["water"] * (rng.random() < 0.4)
    return tags


def planet_colour(tags: list[str]) -> tuple[float, float, float]:
    return (WEATHER[next(t for t in tags if t in WEATHER)][0], 200 * ("primary" in tags), 200 * ("water" in tags))


def planet(root: Path, train_rows: int = 200, test_rows: int = 50) -> list[set[str]]:
    """train_v2.csv image_name,tags (`haze primary`), train-jpg/<name>.jpg (here .png), test-jpg/,
    sample_submission_v2.csv image_name,tags with a fixed tag list."""
    rng = np.random.default_rng(2)
    truth = []
    for split, count in (("train", train_rows), ("test", test_rows)):
        names = [f"{split}_{i}" for i in range(count)]
        rows = [planet_tags(rng) for _ in names]
        for name, tags in zip(names, rows, strict=True):
            save(root / f"{split}-jpg", f"{name}.png", planet_colour(tags), rng)
        if split == "train":
            pd.DataFrame({"image_name": names, "tags": [" ".join(t) for t in rows]}).to_csv(
                root / "train_v2.csv", index=False
            )
        else:
            truth = [set(t) for t in rows]
            pd.DataFrame({"image_name": names, "tags": "primary clear agriculture road water"}).to_csv(
                root / "sample_submission_v2.csv", index=False
            )
    return truth


def f2(truth: list[set[str]], predicted: list[set[str]], tags: list[str]) -> float:
    def matrix(rows):
        return np.array([[tag in row for tag in tags] for row in rows], dtype=int)

    return float(fbeta_score(matrix(truth), matrix(predicted), beta=2, average="samples", zero_division=0))


@pytest.mark.slow
def test_planet_f2_writes_space_separated_tags_cut_at_chosen_thresholds(tmp_path, competitions_dir):
    folder = tmp_path / "planet-understanding-the-amazon-from-space"
    truth = planet(folder)
    submission, summary = new_and_run("planet", folder, "f2", epochs=10)
    assert "multi-label, 5 tags" in summary
    sample = pd.read_csv(folder / "sample_submission_v2.csv")
    same_frame_shape(submission, sample)
    tags = ["clear", "cloudy", "haze", "primary", "water"]
    predicted = [set(row.split()) for row in submission["tags"]]
    assert all(row <= set(tags) for row in predicted)
    everything = f2(truth, [set(tags)] * len(truth), tags)  # the best constant guess under F2
    common = f2(truth, [{"clear", "primary"}] * len(truth), tags)
    sample_guess = f2(truth, [set(row.split()) for row in sample["tags"]], tags)
    assert f2(truth, predicted, tags) > max(everything, common, sample_guess) + 0.15


# ---------------------------------------------------------------- Histopathologic: roc_auc


def histopathologic(root: Path, train_rows: int = 160, test_rows: int = 60) -> np.ndarray:
    """train_labels.csv id,label (ids without extension), train/<id>.tif, test/<id>.tif, sample
    id,label full of integer 0s."""
    rng = np.random.default_rng(3)
    truth = None
    for split, count in (("train", train_rows), ("test", test_rows)):
        labels = rng.integers(0, 2, count)
        ids = [f"{rng.integers(16**12):012x}{i:04d}" for i in range(count)]
        for name, label in zip(ids, labels, strict=True):
            level = 150 + 40 * label + rng.normal(0, 25)  # overlapping classes: AUC, not accuracy, tells
            save(root / split, f"{name}.tif", (level, 90, 200 - 0.3 * level), rng)
        if split == "train":
            pd.DataFrame({"id": ids, "label": labels}).to_csv(root / "train_labels.csv", index=False)
        else:
            pd.DataFrame({"id": ids, "label": 0}).to_csv(root / "sample_submission.csv", index=False)
            truth = labels
    return truth


@pytest.mark.slow
def test_histopathologic_auc_writes_probabilities_where_the_sample_holds_zeros(tmp_path, competitions_dir):
    folder = tmp_path / "histopathologic-cancer-detection"
    truth = histopathologic(folder)
    submission, _ = new_and_run("histopathologic", folder, "AUC")
    config = tomllib.loads((competitions_dir / "histopathologic" / "competition.toml").read_text())
    assert config["submission"]["form"] == "probability"
    same_frame_shape(submission, pd.read_csv(folder / "sample_submission.csv"))
    values = submission["label"]
    assert pd.api.types.is_float_dtype(values) and values.between(0, 1).all() and values.nunique() > 10
    assert roc_auc_score(truth, values) > 0.75  # the trivial submission (all 0) scores 0.5


# ---------------------------------------------------------------- make new alone (no training)


def test_make_new_states_each_target_and_its_form(tmp_path):
    from kit.data.infer import infer

    humpback_whale(tmp_path / "whales", per_class=3, test_per_class=1)
    whales = infer(tmp_path / "whales", "MAP@{5}")
    assert whales.sections["competition"]["target"] == "topk" and whales.sections["submission"]["form"] == "topk"
    assert whales.sections["competition"]["metric"] == "map@5"

    petfinder_pawpularity(tmp_path / "paw", train_rows=20, test_rows=4)
    paw = infer(tmp_path / "paw", "rmse")
    assert paw.sections["competition"]["class_names"] == ["Pawpularity"]  # never 100 classes
    assert paw.sections["submission"]["form"] == "value"

    planet(tmp_path / "planet", train_rows=30, test_rows=4)
    tags = infer(tmp_path / "planet")  # no METRIC=: tag sets are multi-label, f2 said to be a guess
    assert tags.sections["competition"]["metric"] == "f2" and tags.sections["submission"]["form"] == "tags"
    assert tags.sections["competition"]["class_names"] == ["clear", "cloudy", "haze", "primary", "water"]
    assert sum("guess" in line for line in tags.summary) == 1

    histopathologic(tmp_path / "histo", train_rows=20, test_rows=4)
    assert infer(tmp_path / "histo", "AUC").sections["submission"]["form"] == "probability"
    assert infer(tmp_path / "histo", "LogLoss").sections["submission"]["form"] == "probability"
    assert infer(tmp_path / "histo", "accuracy").sections["submission"]["form"] == "label"


TAGS = ["clear", "cloudy", "haze", "primary", "water"]


def planet_in_columns(root: Path, **sizes) -> list[set[str]]:
    """Planet with one 0/1 column per tag, in train and sample alike (the sample in its own order)."""
    truth = planet(root, **sizes)
    train = pd.read_csv(root / "train_v2.csv")
    for tag in TAGS:
        train[tag] = train["tags"].str.split().apply(lambda row, t=tag: int(t in row))
    train.drop(columns="tags").to_csv(root / "train_v2.csv", index=False)
    sample = pd.read_csv(root / "sample_submission_v2.csv")[["image_name"]]
    sample[TAGS[::-1]] = 0
    sample.to_csv(root / "sample_submission_v2.csv", index=False)
    return truth


def test_one_0_1_column_per_tag_is_a_multi_label_table(tmp_path):
    from kit.data.infer import infer

    planet_in_columns(tmp_path / "planet", train_rows=30, test_rows=4)
    names = TAGS
    found = infer(tmp_path / "planet", "f2")
    assert found.sections["submission"]["form"] == "columns"
    assert found.sections["competition"]["class_names"] == names[::-1]  # the sample's order


def test_a_score_column_without_metric_is_guessed_a_regression(tmp_path):
    from kit.data.infer import infer

    petfinder_pawpularity(tmp_path / "paw", train_rows=20, test_rows=4)
    train = pd.read_csv(tmp_path / "paw" / "train.csv")
    train.assign(Pawpularity=train["Pawpularity"] + 0.25).to_csv(tmp_path / "paw" / "train.csv", index=False)
    found = infer(tmp_path / "paw")
    assert found.sections["competition"]["metric"] == "rmse" and found.sections["competition"]["target"] == "regression"


def test_human_protein_atlas_numbered_tags_under_macro_f1_are_multi_label(tmp_path):
    """train.csv Id,Target ('16 0'), sample Id,Predicted: macro-F1 over tags, not over combinations."""
    from kit.data.infer import infer

    rng = np.random.default_rng(4)
    folder = tmp_path / "human-protein-atlas-image-classification"
    targets = [" ".join(map(str, sorted(rng.choice(28, rng.integers(1, 4), replace=False)))) for _ in range(40)]
    for i in range(44):
        save(folder / ("train" if i < 40 else "test"), f"p{i:04d}.png", (i * 5, 90, 90), rng)
    pd.DataFrame({"Id": [f"p{i:04d}" for i in range(40)], "Target": targets}).to_csv(folder / "train.csv", index=False)
    pd.DataFrame({"Id": [f"p{i:04d}" for i in range(40, 44)], "Predicted": "0"}).to_csv(
        folder / "sample_submission.csv", index=False
    )
    found = infer(folder, "MacroFScore")
    assert found.sections["competition"]["target"] == "multilabel" and found.sections["submission"]["form"] == "tags"
    assert set(found.sections["competition"]["class_names"]) == {t for row in targets for t in row.split()}


@pytest.mark.slow
def test_planet_with_a_0_1_column_per_tag_writes_the_samples_columns(tmp_path, competitions_dir):
    folder = tmp_path / "planet-columns"
    truth = planet_in_columns(folder)
    submission, _ = new_and_run("planet-columns", folder, "f2")
    sample = pd.read_csv(folder / "sample_submission_v2.csv")
    same_frame_shape(submission, sample)
    assert all(pd.api.types.is_integer_dtype(submission[tag]) and submission[tag].isin((0, 1)).all() for tag in TAGS)
    predicted = [{tag for tag in TAGS if row[tag]} for _, row in submission.iterrows()]
    assert f2(truth, predicted, TAGS) > f2(truth, [set(TAGS)] * len(truth), TAGS) + 0.15
