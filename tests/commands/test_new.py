"""`make new`: a competition set up from its files alone, on replicas of real layouts (tests/corpus:
where each also runs and is scored)."""

from __future__ import annotations

import gzip
import tomllib

import pandas as pd
import pytest
import replicas
from conftest import run_kit

from kit.data.infer import infer
from kit.errors import KitError


def test_plant_seedlings_class_folders_with_text_labels(tmp_path):
    replicas.plant_seedlings(tmp_path)
    found = infer(tmp_path)
    data, submission = found.sections["data"], found.sections["submission"]
    assert (data["format"], data["train_dir"], data["test_dir"]) == ("class_folders", "train", "test")
    assert found.sections["competition"]["class_names"] == sorted(replicas.SPECIES)
    assert (data["height"], data["channels"]) == (16, 3)
    assert submission == {"sample_file": "sample_submission.csv", "form": "label", "id_column": "file"}
    assert found.sections["competition"]["metric"] == "accuracy"  # a guess, said so
    assert any("METRIC=" in line for line in found.summary)


def test_dog_breeds_ids_without_extension_and_a_probability_per_class(tmp_path):
    replicas.dog_breed_identification(tmp_path)
    sample = pd.read_csv(tmp_path / "sample_submission.csv")
    sample[["id", *sample.columns[1:][::-1]]].to_csv(tmp_path / "sample_submission.csv", index=False)
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
    replicas.aptos2019_blindness_detection(tmp_path)
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
    assert f"cactus: wrote {competitions_dir / 'cactus' / 'competition.toml'}\n" in first.stdout
    written = tomllib.loads((competitions_dir / "cactus" / "competition.toml").read_text())
    assert written["train"]["epochs"] == 3 and written["presets"]["quick"]["train"]["epochs"] == 2
    # the sample as it is, kept for `make submit` where the data folder is not (kit.scoring.offline)
    recorded = gzip.decompress((competitions_dir / "cactus" / "recorded_sample.csv.gz").read_bytes())
    assert recorded == (tmp_path / "data" / "sample_submission.csv").read_bytes()
    again = run_kit("new", "--comp", "cactus", "--data", str(tmp_path / "data"))
    assert again.returncode == 2 and "FORCE=1" in again.stderr and "Traceback" not in again.stderr
    bad = run_kit("new", "--comp", "other", "--data", str(tmp_path / "data"), "--metric", "dice")
    assert bad.returncode == 2 and "competition.metric' must be one of" in bad.stderr


def test_data_typed_once_is_found_by_every_later_verb(tmp_path, competitions_dir):
    """DATA= of `make new` is recorded as data.dir: train and run need it no more."""
    folder = tmp_path / "cactus files"
    replicas.aerial_cactus(folder, per_class=12, test_per_class=4, size=16)
    made = run_kit("new", "--comp", "cactus", "--data", str(folder))
    assert made.returncode == 0, made.stderr
    assert "DATA=" not in made.stdout.split("next:")[1]
    written = tomllib.loads((competitions_dir / "cactus" / "competition.toml").read_text())
    assert written["data"]["dir"] == str(folder.resolve())
    trained = run_kit("train", "--comp", "cactus", "--set", "train.epochs=1", "train.batch_size=8")
    assert trained.returncode == 0, trained.stderr
    folder.rename(tmp_path / "moved")
    lost = run_kit("data", "--comp", "cactus")
    assert lost.returncode == 2 and "data.dir" in lost.stderr and "DATA=" in lost.stderr
    assert "make data" not in lost.stderr and "Traceback" not in lost.stderr


def test_no_data_never_sends_an_offline_competition_to_kaggle():
    from kit import config
    from kit.data import data_folder

    offline = config.resolve({"competition": {"slug": "made-up", "kaggle": ""}})
    with pytest.raises(KitError, match="DATA=") as refused:
        data_folder(offline)
    assert "make data" not in str(refused.value)
    on_kaggle = config.resolve({"competition": {"slug": "made-up", "kaggle": "made-up"}})
    with pytest.raises(KitError, match="make data COMP=made-up"):
        data_folder(on_kaggle)


def refused_new(folder) -> str:
    made = run_kit("new", "--comp", "cactus", "--data", str(folder))
    assert made.returncode == 2 and "Traceback" not in made.stderr, made.stderr
    assert len(made.stderr.strip().splitlines()) == 1, made.stderr
    return made.stderr


def test_a_header_column_no_row_fills_is_refused_before_anything_trains(tmp_path, competitions_dir):
    folder = tmp_path / "files"
    replicas.aerial_cactus(folder, per_class=4, test_per_class=2, size=16)
    sample = folder / "sample_submission.csv"
    lines = sample.read_text().splitlines()
    sample.write_text("\n".join([lines[0] + ",extra", *lines[1:]]) + "\n")
    err = refused_new(folder)
    assert f"{sample}: column 'extra' of the header has no value in any row (line 2" in err
    assert "remove it from the header" in err
    assert not (competitions_dir / "cactus").exists()


def test_sample_ids_that_name_no_test_image_are_refused(tmp_path, competitions_dir):
    folder = tmp_path / "files"
    replicas.aerial_cactus(folder, per_class=4, test_per_class=2, size=16)
    sample = folder / "sample_submission.csv"
    frame = pd.read_csv(sample)
    first = frame.iloc[0, 0]
    frame.iloc[:, 0] = frame.iloc[:, 0].str.replace(".jpg", "_0.jpg")  # another extension would match
    frame.to_csv(sample, index=False)
    err = refused_new(folder)
    wrong = first.replace(".jpg", "_0.jpg")
    assert f"{sample}: line 2, column 'id': '{wrong}' names no file in {folder / 'test'} (nearest file: {first})" in err
    assert f"{len(frame)} of {len(frame)} ids do not" in err and "SET=data.test_dir" in err
    assert not (competitions_dir / "cactus").exists()


def test_ids_edited_after_new_are_refused_when_the_data_loads(tmp_path, competitions_dir):
    folder = tmp_path / "files"
    replicas.aerial_cactus(folder, per_class=4, test_per_class=2, size=16)
    assert run_kit("new", "--comp", "cactus", "--data", str(folder)).returncode == 0
    sample = folder / "sample_submission.csv"
    frame = pd.read_csv(sample)
    frame.iloc[:, 0] = frame.iloc[:, 0].str.replace(".jpg", "_0.jpg")
    frame.to_csv(sample, index=False)
    trained = run_kit("train", "--comp", "cactus", "--set", "train.epochs=1")
    assert trained.returncode == 2 and "names no file in" in trained.stderr, trained.stderr
    assert not (tmp_path / "work" / "artifacts" / "cactus" / "runs").exists()


def test_one_missing_test_image_is_a_warning_not_a_refusal(tmp_path, competitions_dir):
    folder = tmp_path / "files"
    replicas.aerial_cactus(folder, per_class=4, test_per_class=10, size=16)
    first = pd.read_csv(folder / "sample_submission.csv").iloc[0, 0]
    (folder / "test" / first).unlink()
    made = run_kit("new", "--comp", "cactus", "--data", str(folder))
    assert made.returncode == 0, made.stderr
    assert f"line 2, column 'id': '{first}' names no file" in made.stderr
    assert "1 of 20 test images missing" in made.stderr
    (folder / "test" / pd.read_csv(folder / "sample_submission.csv").iloc[1, 0]).unlink()
    assert "2 of 20 ids do not" in refused_new(folder)


def test_a_data_folder_that_is_not_there_is_one_line(tmp_path, competitions_dir):
    """A mistyped DATA= gave FileNotFoundError's traceback from deep in the layout inference."""
    assert "DATA=" + str(tmp_path / "nope") + ": no such folder" in refused_new(tmp_path / "nope")
    (tmp_path / "files.zip").write_bytes(b"PK")
    assert ": is a file, not a folder (DATA= names the folder" in refused_new(tmp_path / "files.zip")
    assert not (competitions_dir / "cactus").exists()
