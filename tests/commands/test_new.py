"""`make new`: a competition set up from its files alone, on replicas of five real layouts."""

from __future__ import annotations

import tomllib

import numpy as np
import pandas as pd
import pytest
import replicas
from conftest import run_kit

from kit import metrics
from kit.data.infer import infer
from kit.errors import KitError


@pytest.fixture
def competitions_dir(tmp_path, monkeypatch):
    """`make new` writes competitions/<slug>/ here, not into the repository."""
    folder = tmp_path / "competitions"
    folder.mkdir()
    monkeypatch.setenv("KIT_COMPETITIONS", str(folder))
    return folder


def build(name: str, root, frames=None):
    if name == "kannada_mnist":
        return replicas.kannada_mnist(root, *frames)
    return getattr(replicas, name)(root)


def test_plant_seedlings_class_folders_with_text_labels(tmp_path):
    replicas.plant_seedlings(tmp_path)
    found = infer(tmp_path)
    data, submission = found.sections["data"], found.sections["submission"]
    assert (data["format"], data["train_dir"], data["test_dir"]) == ("class_folders", "train", "test")
    assert found.sections["competition"]["class_names"] == sorted(replicas.SPECIES)
    assert (data["height"], data["channels"]) == (40, 3)
    assert submission == {"sample_file": "sample_submission.csv", "form": "label", "id_column": "file"}
    assert found.sections["competition"]["metric"] == "accuracy"  # a guess, said so
    assert any("METRIC=" in line for line in found.summary)


def test_dog_breeds_ids_without_extension_and_a_probability_per_class(tmp_path):
    replicas.dog_breeds(tmp_path)
    found = infer(tmp_path, metric="log_loss")
    data = found.sections["data"]
    assert (data["train_file"], data["image_column"], data["label_column"]) == ("labels.csv", "id", "breed")
    # the class order is the sample's, which is not the alphabet's
    assert found.sections["competition"]["class_names"] == sorted(replicas.BREEDS, reverse=True)
    assert found.sections["submission"]["form"] == "probabilities"
    assert any("without extension" in line for line in found.summary)


def test_aerial_cactus_one_probability_for_a_binary_task(tmp_path):
    replicas.aerial_cactus(tmp_path)
    found = infer(tmp_path)
    assert found.sections["data"]["label_column"] == "has_cactus"
    assert found.sections["competition"]["class_names"] == ["0", "1"]
    assert found.sections["submission"]["form"] == "probability"
    assert found.sections["competition"]["metric"] == "roc_auc"


def test_kannada_pixels_with_an_id_column_from_zero(tmp_path, frames):
    replicas.kannada_mnist(tmp_path, *frames)
    found = infer(tmp_path)
    data = found.sections["data"]
    assert (data["format"], data["train_file"], data["test_file"]) == ("pixels", "train.csv", "test.csv")
    assert (data["height"], data["width"], data["channels"], data["id_column"]) == (28, 28, 1, "id")
    assert found.sections["competition"]["class_names"] == [str(i) for i in range(10)]


def test_aptos_grades(tmp_path):
    replicas.aptos(tmp_path)
    found = infer(tmp_path, metric="qwk")
    data = found.sections["data"]
    assert (data["train_dir"], data["test_dir"], data["image_column"]) == ("train_images", "test_images", "id_code")
    assert found.sections["competition"]["class_names"] == ["0", "1", "2", "3", "4"]


def test_what_cannot_be_inferred_names_the_option(tmp_path):
    (tmp_path / "train").mkdir()
    pd.DataFrame({"a": [1], "b": [2], "c": [3]}).to_csv(tmp_path / "train.csv", index=False)
    with pytest.raises(KitError, match="set SET=data"):
        infer(tmp_path)


def test_new_refuses_to_overwrite_and_set_settles_a_key(tmp_path, competitions_dir):
    replicas.aerial_cactus(tmp_path / "data")
    first = run_kit("new", "--comp", "cactus", "--data", str(tmp_path / "data"), "--set", "train.epochs=3")
    assert first.returncode == 0, first.stderr
    written = tomllib.loads((competitions_dir / "cactus" / "competition.toml").read_text())
    assert written["train"]["epochs"] == 3 and written["presets"]["quick"]["train"]["epochs"] == 2
    again = run_kit("new", "--comp", "cactus", "--data", str(tmp_path / "data"))
    assert again.returncode == 2 and "FORCE=1" in again.stderr and "Traceback" not in again.stderr
    bad = run_kit("new", "--comp", "other", "--data", str(tmp_path / "data"), "--metric", "f2")
    assert bad.returncode == 2 and "competition.metric' must be one of" in bad.stderr


LAYOUTS = [
    # name, slug, metric, the score a trivial submission gets, better is higher
    ("plant_seedlings", "plants", "micro_f1", 1 / 8),
    ("dog_breeds", "dogs", "log_loss", np.log(4)),
    ("aerial_cactus", "cactus", "roc_auc", 0.5),
    ("kannada_mnist", "kannada", "accuracy", 0.1),
    ("aptos", "aptos", "qwk", 0.0),
]


@pytest.mark.slow
@pytest.mark.parametrize(("name", "slug", "metric", "trivial"), LAYOUTS)
def test_new_then_run_writes_the_samples_submission(name, slug, metric, trivial, tmp_path, competitions_dir, frames):
    folder = tmp_path / name
    truth = build(name, folder, frames)
    made = run_kit("new", "--comp", slug, "--data", str(folder), "--metric", metric)
    assert made.returncode == 0, made.stderr
    # batches of 16: at the default 64, four epochs of ~80 images are eight steps, too few to learn
    ran = run_kit("run", "--comp", slug, "--data", str(folder), "--set", "train.epochs=4", "train.batch_size=16")
    assert ran.returncode == 0, ran.stderr
    written = sorted((tmp_path / "work" / "submissions" / slug).glob("*.csv"))
    assert len(written) == 1
    sample = pd.read_csv(folder / "sample_submission.csv")
    submission = pd.read_csv(written[0])
    assert list(submission.columns) == list(sample.columns)
    assert submission.iloc[:, 0].tolist() == sample.iloc[:, 0].tolist()
    probabilities = np.load(written[0].with_suffix(".probabilities.npy"))
    if metric == "log_loss":  # the submission's columns by name: the sample orders them its own way
        probabilities = submission[replicas.BREEDS].to_numpy()
    score = metrics.score(truth, probabilities, metric)["score"]
    assert score < trivial if metric == "log_loss" else score > trivial
