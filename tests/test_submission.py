"""Submissions: round trip, every validation failure, atomic writes that never overwrite, one file
for the same rows."""

import json

import numpy as np
import pandas as pd
import pytest

from kit import paths, submission
from kit.config import competitions
from kit.errors import KitError
from kit.submission.record import newest


@pytest.fixture
def cfg():
    return competitions.load_config("digits")


@pytest.fixture
def exp(cfg):
    sample = pd.DataFrame({"ImageId": np.arange(1, 51), "Label": 0})
    return submission.expected(cfg, np.arange(1, 51), sample)


def good_frame(exp):
    return submission.build(exp, np.arange(50) % 10)


def test_round_trip_write_then_read_and_validate(cfg, exp):
    frame = good_frame(exp)
    path, _ = submission.write(frame, exp, cfg.competition.slug, "run1", {"cv_score": 0.9})
    assert path.parent == paths.submissions_dir("digit-recognizer")
    back = submission.read_and_validate(path, exp)
    pd.testing.assert_frame_equal(back, frame)
    record = json.loads(path.with_suffix(".json").read_text())
    assert record["cv_score"] == 0.9 and record["rows"] == 50 and len(record["sha256"]) == 64
    assert newest("digit-recognizer") == path


def test_never_overwrites_an_earlier_submission(cfg, exp):
    first, _ = submission.write(good_frame(exp), exp, cfg.competition.slug, "same", {})
    second, _ = submission.write(submission.build(exp, np.zeros(50, int)), exp, cfg.competition.slug, "same", {})
    assert (first.name, second.name) == ("same.csv", "same-2.csv") and first.exists() and second.exists()
    assert pd.read_csv(first)["Label"].tolist() == (np.arange(50) % 10).tolist()
    assert not list(first.parent.glob(".*.tmp"))  # no temporary files left behind


def test_the_same_rows_again_are_the_same_file_said_so_and_newest(cfg, exp):
    slug = cfg.competition.slug
    first, record = submission.write(good_frame(exp), exp, slug, "20261204-173816-air", {"cv_score": 0.9})
    other, _ = submission.write(submission.build(exp, np.zeros(50, int)), exp, slug, "another-run", {})
    written = first.read_bytes(), first.with_suffix(".json").read_bytes()
    again, again_record = submission.write(good_frame(exp), exp, slug, "20261204-173816-air", {"cv_score": 0.1})
    assert again == first and again_record["unchanged"] is True
    assert again_record["sha256"] == record["sha256"] and again_record["cv_score"] == 0.9  # its own record
    assert (first.read_bytes(), first.with_suffix(".json").read_bytes()) == written
    assert sorted(p.name for p in first.parent.glob("*.csv")) == ["20261204-173816-air.csv", "another-run.csv"]
    assert newest(slug) == first  # `make submit` without FILE takes what predict just named
    # other rows under that name are a new file beside it; with no record beside it, a file is not reused
    third, _ = submission.write(submission.build(exp, np.ones(50, int)), exp, slug, "20261204-173816-air", {})
    assert third.name == "20261204-173816-air-2.csv" and other.exists()
    first.with_suffix(".json").unlink()
    fourth, fourth_record = submission.write(good_frame(exp), exp, slug, "20261204-173816-air", {})
    assert fourth.name == "20261204-173816-air-3.csv" and "unchanged" not in fourth_record


def test_the_same_labels_from_other_probabilities_are_a_new_file(cfg, exp):
    """Labels alone can hide a change (precision, TTA, calibration): the probabilities saved beside
    the file must be the same too for it to be kept."""
    slug = cfg.competition.slug
    probabilities = np.eye(10, dtype=np.float32)[np.arange(50) % 10] * 0.9 + 0.01
    first, _ = submission.write(good_frame(exp), exp, slug, "run", {}, probabilities)
    np.testing.assert_array_equal(np.load(first.with_suffix(".probabilities.npy")), probabilities)
    kept, record = submission.write(good_frame(exp), exp, slug, "run", {}, probabilities.copy())
    assert kept == first and record["unchanged"] is True
    nudged = probabilities.copy()
    nudged[0, 0] += 1e-6  # the same argmax, so the same labels
    other, record = submission.write(good_frame(exp), exp, slug, "run", {}, nudged)
    assert other.name == "run-2.csv" and "unchanged" not in record
    np.testing.assert_array_equal(np.load(other.with_suffix(".probabilities.npy")), nudged)


def test_config_defines_columns_without_sample(cfg):
    exp = submission.expected(cfg, np.arange(1, 4), None)
    assert exp.columns == ("ImageId", "Label")
    frame = submission.build(exp, np.array([1, 2, 3]))
    assert frame["ImageId"].tolist() == [1, 2, 3]


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (
            lambda f: f.rename(columns={"Label": "label"}),
            r"columns \['ImageId', 'label'\], expected \['ImageId', 'Label'\]",
        ),
        (lambda f: f.head(49), "49 rows, expected 50"),
        (lambda f: f.assign(ImageId=[*range(1, 50), 1]), "row 50, column 'ImageId': id 1 appears twice"),
        (lambda f: f.assign(ImageId=np.arange(2, 52)), r"1 test ids missing from column 'ImageId', e\.g\. \[1\]"),
        (lambda f: f.assign(Label=[10] + [0] * 49), r"row 1, column 'Label': label 10 is not in 0\.\.9"),
        (lambda f: f.assign(Label=[0] * 7 + [-1] + [0] * 42), r"row 8, column 'Label': label -1 is not in 0\.\.9"),
    ],
)
def test_validation_failures(exp, mutate, message, tmp_path):
    path = tmp_path / "bad.csv"
    mutate(good_frame(exp)).to_csv(path, index=False)
    with pytest.raises(KitError, match=message):
        submission.read_and_validate(path, exp)


def test_invalid_frame_is_never_written(cfg, exp):
    with pytest.raises(KitError):
        submission.write(good_frame(exp).head(3), exp, cfg.competition.slug, "bad", {})
    assert not paths.submissions_dir("digit-recognizer").exists() or not any(
        paths.submissions_dir("digit-recognizer").iterdir()
    )


def test_unreadable_or_missing_submission(exp, tmp_path):
    with pytest.raises(KitError, match="file not found"):
        submission.read_and_validate(tmp_path / "none.csv", exp)
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(KitError, match="not a readable CSV"):
        submission.read_and_validate(tmp_path / "empty.csv", exp)


def names_cfg(metric: str, names: list[str]):
    from kit import config

    return config.resolve({"competition": {"class_names": names, "metric": metric}})


def test_text_labels_are_written_back_as_text_whatever_the_dtype():
    cfg = names_cfg("accuracy", ["Black-grass", "Maize"])
    for dtype in ("object", "string", "str"):  # pandas 2 object, the string extension, pandas 3 str
        try:
            values = pd.Series(["Maize", "Maize"], dtype=dtype)
        except TypeError:  # "str" is pandas 3 only
            continue
        exp = submission.expected(cfg, None, pd.DataFrame({"file": ["a.png", "b.png"], "species": values}))
        assert submission.build(exp, np.array([[0.9, 0.1], [0.2, 0.8]]))["species"].tolist() == ["Black-grass", "Maize"]


def test_one_probability_column_per_class_in_the_samples_order_clipped_for_log_loss():
    cfg = names_cfg("log_loss", ["beagle", "collie", "dingo"])
    sample = pd.DataFrame({"id": ["x", "y"], "dingo": 1 / 3, "beagle": 1 / 3, "collie": 1 / 3})
    exp = submission.expected(cfg, None, sample)
    assert (exp.form, exp.columns, exp.classes) == ("probabilities", ("id", "dingo", "beagle", "collie"), (2, 0, 1))
    frame = submission.build(exp, np.array([[1.0, 0.0, 0.0], [0.2, 0.3, 0.5]]))
    assert frame["beagle"].iat[0] < 1 and frame["dingo"].iat[0] == pytest.approx(cfg.submission.clip, rel=0.01)
    np.testing.assert_allclose(frame[["dingo", "beagle", "collie"]].sum(axis=1), 1.0)
    submission.validate(frame, exp)
    frame.loc[1, "collie"] = 1.5
    with pytest.raises(KitError, match="row 2, column 'collie': 1.5 is not a probability in 0..1"):
        submission.validate(frame, exp)
    labels, probabilities = submission.predictions_of(frame.drop(index=1), exp, np.array(["x"]), 3)
    assert labels.tolist() == [0] and probabilities.shape == (1, 3)


def test_a_binary_task_writes_the_positive_class_probability():
    cfg = names_cfg("roc_auc", ["0", "1"])
    exp = submission.expected(cfg, None, pd.DataFrame({"id": ["a.jpg", "b.jpg"], "has_cactus": 0.5}))
    assert exp.form == "probability"
    frame = submission.build(exp, np.array([[0.9, 0.1], [0.3, 0.7]]))
    assert frame["has_cactus"].tolist() == pytest.approx([0.1, 0.7])
    with pytest.raises(KitError, match="needs class probabilities, not labels"):
        submission.build(exp, np.array([0, 1]))


def test_probability_columns_that_are_not_the_class_names_are_refused():
    cfg = names_cfg("log_loss", ["a", "b", "c"])
    with pytest.raises(KitError, match="are not the class names"):
        submission.expected(cfg, None, pd.DataFrame({"id": [1], "a": 0.3, "b": 0.3, "zz": 0.4}))


@pytest.mark.parametrize("placeholder", [np.nan, 0, 0.0, ""], ids=["empty", "zero", "zero-float", "blank"])
def test_text_class_names_are_written_as_names_whatever_the_samples_placeholders(placeholder):
    """The sample's label column says nothing of the value type: an empty column, or 0 for
    every row, are placeholders; text class names are written as names."""
    cfg = names_cfg("accuracy", ["Black-grass", "Charlock", "Maize"])
    sample = pd.DataFrame({"file": ["a.png", "b.png"], "species": [placeholder, placeholder]})
    exp = submission.expected(cfg, None, sample)
    frame = submission.build(exp, np.array([[0.1, 0.2, 0.7], [0.8, 0.1, 0.1]]))
    assert frame["species"].tolist() == ["Maize", "Black-grass"]
    submission.validate(frame, exp)


def test_integer_class_names_are_written_as_the_integers_they_spell():
    for names, written in ((list("0123456789"), [3, 0]), (["1", "2", "3", "4"], [4, 1])):
        sample = pd.DataFrame({"ImageId": [1, 2], "Label": ["", ""]})
        exp = submission.expected(names_cfg("accuracy", names), None, sample)
        probabilities = np.zeros((2, len(names)))
        probabilities[0, 3], probabilities[1, 0] = 1.0, 1.0
        frame = submission.build(exp, probabilities)
        assert frame["Label"].tolist() == written and frame["Label"].dtype.kind == "i"
        submission.validate(frame, exp)


@pytest.mark.parametrize(
    "metric, form", [("roc_auc", "probability"), ("log_loss", "probability"), ("accuracy", "label")]
)
def test_two_classes_take_their_form_from_the_metric_not_the_placeholders(metric, form):
    for placeholder in (0, 0.5, "dog"):
        sample = pd.DataFrame({"id": ["a", "b"], "is_dog": [placeholder, placeholder]})
        assert submission.expected(names_cfg(metric, ["cat", "dog"]), None, sample).form == form


def test_without_a_sample_text_classes_are_written_as_indices():
    """The kit's own format (Digit Recognizer's ImageId,Label), as Fashion-MNIST's test labels."""
    exp = submission.expected(names_cfg("accuracy", ["T-shirt/top", "Trouser", "Pullover"]), np.array([1, 2]), None)
    assert submission.build(exp, np.array([[0.1, 0.2, 0.7], [0.8, 0.1, 0.1]]))["Label"].tolist() == [2, 0]


def test_an_id_column_not_first_keeps_the_samples_column_order(cfg):
    located = competitions.load_config("digits", "", ["submission.id_column=ImageId"])
    sample = pd.DataFrame({"Label": 0, "ImageId": np.arange(1, 6)})
    exp = submission.expected(located, None, sample)
    frame = submission.build(exp, np.array([3, 1, 4, 1, 5]))
    assert list(frame.columns) == ["Label", "ImageId"]
    assert frame["ImageId"].tolist() == [1, 2, 3, 4, 5] and frame["Label"].tolist() == [3, 1, 4, 1, 5]
    submission.validate(frame, exp)
    with pytest.raises(KitError, match="expected \\['Label', 'ImageId'\\]"):
        submission.validate(frame[["ImageId", "Label"]], exp)


def labels_cfg(names: list[str], setting: str):
    from kit import config

    return config.resolve({"competition": {"class_names": names}, "submission": {"labels": setting}})


@pytest.mark.parametrize("setting, written", [("indices", [2, 0]), ("names", ["Maize", "Black-grass"])])
def test_submission_labels_says_what_placeholders_cannot(setting, written):
    """A competition whose train.csv labels are 0..k-1 beside named classes sets it once."""
    cfg = labels_cfg(["Black-grass", "Charlock", "Maize"], setting)
    sample = pd.DataFrame({"file": ["a.png", "b.png"], "species": [0, 0]})
    frame = submission.build(submission.expected(cfg, None, sample), np.array([[0.1, 0.2, 0.7], [0.8, 0.1, 0.1]]))
    assert frame["species"].tolist() == written


def test_a_sample_of_class_names_shows_the_form_whatever_the_setting():
    cfg = labels_cfg(["cat", "dog", "fox"], "indices")
    sample = pd.DataFrame({"id": ["a", "b"], "label": ["fox", "cat"]})
    frame = submission.build(submission.expected(cfg, None, sample), np.array([[0.1, 0.2, 0.7], [0.8, 0.1, 0.1]]))
    assert frame["label"].tolist() == ["fox", "cat"]
