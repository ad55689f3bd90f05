"""Prediction rows follow the sample submission's ids, whatever order the test file lists them in;
runs are ensembled class by class, whatever order each lists its classes in."""

import json
import tempfile
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import replicas
import tomli_w
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from kit import cli, config, fileio, paths, predict, tracker
from kit.data import classes
from kit.errors import KitError
from kit.predict import in_sample_order
from kit.training import calibration, catalog


def test_rows_follow_the_samples_ids():
    probabilities = np.eye(3)  # row i predicts class i
    reordered = in_sample_order(probabilities, np.array([5, 3, 4]), np.array([3, 4, 5]))
    assert reordered.argmax(axis=1).tolist() == [1, 2, 0]


def test_other_ids_keep_the_file_order():
    probabilities = np.eye(3)
    assert in_sample_order(probabilities, np.array(["a", "b", "c"]), np.array([1, 2, 3])) is probabilities


# ---------------------------------------------------------------- ensembles by class name

NAMES = ("cat", "dog", "fox", "owl")


@st.composite
def runs_and_order(draw):
    """Two runs' test probabilities (columns in NAMES' order) and a permutation of the classes."""
    shape = (draw(st.integers(1, 6)), len(NAMES))
    runs = [draw(arrays(np.float64, shape, elements=st.floats(0.01, 1.0))) for _ in range(2)]
    runs = [run / run.sum(axis=1, keepdims=True) for run in runs]
    return runs, list(draw(st.permutations(range(len(NAMES)))))


def fake_runs(folder: Path, monkeypatch, runs: list[tuple[tuple[str, ...], np.ndarray]]) -> list[Path]:
    """Run folders whose records name their class order; predicting one returns its array."""
    found = {}
    for i, (names, probabilities) in enumerate(runs):
        run_dir = folder / f"run{i}"
        fileio.write_json(run_dir / "config.json", {"competition": {"class_names": list(names)}})
        fileio.write_json(run_dir / "run.json", {"class_names": list(names)})
        found[run_dir] = probabilities.astype(np.float32)
    monkeypatch.setattr(predict, "predict_run", lambda run_dir, *args, **kwargs: found[run_dir])
    monkeypatch.setattr(predict, "test_images_for", lambda cfg, loaded, run_dir: None)
    return list(found)


def ensembled(runs, metric: str = "accuracy", monkeypatch=None) -> np.ndarray:
    cfg = config.resolve({"competition": {"class_names": list(NAMES), "metric": metric}})
    with tempfile.TemporaryDirectory() as folder:
        return predict.ensemble(cfg, None, fake_runs(Path(folder), monkeypatch, runs))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(runs_and_order())
def test_permuting_one_runs_class_order_leaves_the_ensemble_unchanged(monkeypatch, case):
    (first, second), order = case
    permuted_names = tuple(NAMES[i] for i in order)
    together = ensembled([(NAMES, first), (NAMES, second)], monkeypatch=monkeypatch)
    permuted = ensembled([(NAMES, first), (permuted_names, second[:, order])], monkeypatch=monkeypatch)
    np.testing.assert_allclose(permuted, together, rtol=0, atol=1e-7)
    assert permuted.argmax(axis=1).tolist() == together.argmax(axis=1).tolist()
    # a run ensembled with itself in another class order is that run, by name
    itself = ensembled([(NAMES, first), (permuted_names, first[:, order])], monkeypatch=monkeypatch)
    np.testing.assert_allclose(itself, first, rtol=0, atol=1e-7)


def test_a_run_of_other_classes_is_refused_naming_both_sets(monkeypatch):
    runs = [(NAMES, np.full((2, 4), 0.25)), (("cat", "dog", "fox", "emu"), np.full((2, 4), 0.25))]
    with pytest.raises(KitError, match=r"run run1: its classes \['cat', 'dog', 'fox', 'emu'\] are not the classes"):
        ensembled(runs, monkeypatch=monkeypatch)


def test_a_log_loss_run_is_scaled_by_its_temperature_and_keeps_its_labels(monkeypatch, tmp_path):
    probabilities = np.array([[0.7, 0.1, 0.1, 0.1], [0.2, 0.5, 0.2, 0.1]])
    (run_dir,) = fake_runs(tmp_path, monkeypatch, [(NAMES, probabilities)])
    fileio.write_json(run_dir / "run.json", {"class_names": list(NAMES), "calibration": {"temperature": 0.5}})
    for metric, temperature in (("log_loss", 0.5), ("accuracy", 1.0)):
        cfg = config.resolve({"competition": {"class_names": list(NAMES), "metric": metric}})
        scaled = predict.ensemble(cfg, None, [run_dir])
        np.testing.assert_allclose(scaled, calibration.scale(probabilities, temperature), atol=1e-6)
        assert scaled.argmax(axis=1).tolist() == [0, 1]


def test_make_predict_ensembles_runs_of_permuted_class_names_by_name(tmp_path, monkeypatch, capsys):
    """Text class names, a sample whose label column is empty: every submission writes names,
    and an ensemble of two runs listing the classes in opposite orders is, class by class, the
    mean of what each run alone predicts (averaged by column, it was wrong on most images)."""
    monkeypatch.setattr(paths, "COMPETITIONS", tmp_path / "competitions")  # `new` writes there
    folder = tmp_path / "plants"
    truth = np.array(replicas.plant_seedlings(folder, per_class=8, test_per_class=2, size=24).test)
    sample = pd.read_csv(folder / "sample_submission.csv").assign(species="")
    sample.to_csv(folder / "sample_submission.csv", index=False)
    assert cli.main(["new", "--comp", "plants", "--data", str(folder), "--metric", "accuracy"]) == 0
    names = sorted(replicas.SPECIES)
    toml = tmp_path / "competitions" / "plants" / "competition.toml"
    for order in (names, names[::-1]):  # the second run trains after the user reordered the classes
        settings = tomllib.loads(toml.read_text())
        settings["competition"]["class_names"] = order
        toml.write_text(tomli_w.dumps(settings))
        assert cli.main(["train", "--comp", "plants", "--data", str(folder), "--set", "train.model=logreg"]) == 0
    first, second = (run.name for run in catalog.all_runs("plants"))
    made = []
    for runs in ([first], [second], [first, second]):
        assert cli.main(["predict", "--comp", "plants", "--runs", *runs]) == 0
        path = max(paths.submissions_dir("plants").glob("*.csv"), key=lambda p: p.stat().st_mtime)
        record = json.loads(path.with_suffix(".json").read_text())
        stored = np.load(path.with_suffix(".probabilities.npy"))
        by_name = classes.align(stored, record["class_names"], names, path.name)
        made.append((pd.read_csv(path)["species"], by_name))
    (labels_a, a), (labels_b, b), (labels_ab, ab) = made
    written = sorted(p.name for p in paths.submissions_dir("plants").glob("*.csv"))
    assert written == sorted([f"{first}.csv", f"{second}.csv", f"{max(first, second)[:15]}-ensemble2.csv"])
    capsys.readouterr()
    assert cli.main(["predict", "--comp", "plants", "--runs", first]) == 0  # the same run, the same settings
    assert (
        f"same rows and probabilities as {first}.csv, written before: kept, not written again"
        in capsys.readouterr().out
    )
    assert sorted(p.name for p in paths.submissions_dir("plants").glob("*.csv")) == written
    assert len(tracker.submissions("plants")) == 3  # tracked once
    np.testing.assert_allclose(ab, (a + b) / 2, atol=1e-6)
    for labels, probabilities in ((labels_a, a), (labels_b, b), (labels_ab, ab)):
        assert labels.tolist() == [names[i] for i in probabilities.argmax(axis=1)]  # names, never indices
        assert (labels == truth).mean() >= 0.75  # each run, and their ensemble, right by name
