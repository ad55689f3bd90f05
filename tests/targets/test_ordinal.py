"""Ordinal grades (APTOS 2019, qwk) as a regression: thresholds between grades chosen on the
out-of-fold numbers, stored with the run, applied by `make predict`; the submission holds the
grades as the sample spells them. Scores here are scikit-learn's, not the kit's."""

from __future__ import annotations

import dataclasses
import json
import tomllib

import numpy as np
import pandas as pd
import pytest
import replicas
from conftest import run_kit
from sklearn.metrics import cohen_kappa_score

from kit import config, metrics, submission, targets
from kit.errors import KitError
from kit.targets.ordinal import choose_thresholds


def shrunk_predictions(seed: int = 0, rows: int = 600) -> tuple[np.ndarray, np.ndarray]:
    """What a regression of grades predicts out of fold: pulled towards the mean grade (the
    squared loss hedges), with noise, so the rare end grades fall short of their midpoints."""
    rng = np.random.default_rng(seed)
    truth = rng.choice(5, size=rows, p=[0.45, 0.1, 0.25, 0.1, 0.1])
    values = 1.4 + 0.55 * (truth - 1.4) + rng.normal(0, 0.35, rows)
    return truth, values


def qwk(truth, predicted) -> float:
    return float(cohen_kappa_score(truth, predicted, weights="quadratic"))


def test_the_threshold_search_beats_the_midpoints_on_out_of_fold_numbers():
    truth, values = shrunk_predictions()
    chosen = choose_thresholds(truth, values, "qwk", 5)
    assert len(chosen) == 4 and list(chosen) == sorted(chosen)
    at_midpoints = qwk(truth, np.clip(np.round(values), 0, 4))
    at_chosen = qwk(truth, np.searchsorted(chosen, values, side="right"))
    assert at_chosen > at_midpoints + 0.02, (at_midpoints, at_chosen)
    # and they carry over to new rows of the same model (not an overfit of the rows they saw)
    fresh_truth, fresh = shrunk_predictions(seed=1)
    assert qwk(fresh_truth, np.searchsorted(chosen, fresh, side="right")) > qwk(
        fresh_truth, np.clip(np.round(fresh), 0, 4)
    )


def test_a_threshold_search_is_never_worse_than_the_midpoints():
    truth = np.array([0, 1, 2, 3, 4] * 4)
    values = truth + 0.1  # already right at the midpoints
    chosen = choose_thresholds(truth, values, "qwk", 5)
    assert qwk(truth, np.searchsorted(chosen, values, side="right")) == 1.0


def test_a_number_per_image_is_scored_as_its_nearest_grade():
    truth = np.array([0.0, 1, 2, 3, 4])
    scored = metrics.score(truth, np.array([[0.2], [1.4], [2.6], [2.9], [7.0]]), "qwk")
    assert scored["qwk"] == pytest.approx(qwk(truth.astype(int), [0, 1, 3, 3, 4]))


def grade_config(*extra: str):
    names = "competition.class_names=['0', '1', '2', '3', '4']"
    return config.resolve(overrides=["competition.metric=qwk", "competition.target=ordinal", names, *extra])


def test_ordinal_is_chosen_by_the_target_key_and_qwk_alone_stays_classification():
    assert targets.kind_of(config.resolve(overrides=["competition.metric=qwk"])) == "classification"
    assert targets.for_config(grade_config()).name == "ordinal"
    assert targets.for_config(grade_config()).units(grade_config()) == 1


def test_grades_are_cut_at_the_thresholds_and_written_as_the_sample_spells_them():
    sample = pd.DataFrame({"id_code": ["a", "b", "c", "d"], "diagnosis": 0})
    exp = submission.expected(grade_config(), None, sample)
    assert exp.form == "grade" and exp.labels == (0, 1, 2, 3, 4)
    exp = dataclasses.replace(exp, thresholds=(0.3, 1.5, 2.2, 3.8))
    frame = submission.build(exp, np.array([[0.35], [2.1], [2.3], [9.0]]))
    assert frame["diagnosis"].tolist() == [1, 2, 3, 4] and frame["diagnosis"].dtype == np.int64
    submission.validate(frame, exp)
    with pytest.raises(KitError, match="row 2, column 'diagnosis': 1.5 is not a grade"):
        submission.validate(frame.assign(diagnosis=[1, 1.5, 2, 4]), exp)


def test_ordinal_refuses_a_metric_that_does_not_score_grades():
    cfg = grade_config("competition.metric=log_loss")
    frame = pd.DataFrame({"id": ["a"], "grade": [1]})
    with pytest.raises(KitError, match="competition.target=classification"):
        targets.for_config(cfg).read(frame, "grade", cfg)


@pytest.mark.slow
def test_new_then_run_writes_integer_grades_and_predict_reuses_the_runs_thresholds(tmp_path, competitions_dir):
    folder = tmp_path / "aptos"
    truth = replicas.aptos2019_blindness_detection(folder, per_class=20, test_per_class=6, spread=18).test
    made = run_kit(
        "new", "--comp", "aptos", "--data", str(folder), "--metric", "qwk", "--set", "competition.target=ordinal"
    )
    assert made.returncode == 0, made.stderr
    assert "target: ordinal, grades 0 < 1 < 2 < 3 < 4" in made.stdout and "submission: grade" in made.stdout
    assert (
        tomllib.loads((competitions_dir / "aptos" / "competition.toml").read_text())["competition"]["target"]
        == "ordinal"
    )
    ran = run_kit("run", "--comp", "aptos", "--set", "train.epochs=12", "train.batch_size=16")
    assert ran.returncode == 0, ran.stderr[-3000:]
    assert "chosen on 20 out-of-fold rows" in ran.stdout
    submissions = tmp_path / "work" / "submissions" / "aptos"
    written = pd.read_csv(next(submissions.glob("*.csv")))
    sample = pd.read_csv(folder / "sample_submission.csv")
    assert list(written.columns) == list(sample.columns) and written["id_code"].tolist() == sample["id_code"].tolist()
    assert written["diagnosis"].dtype == np.int64 and set(written["diagnosis"]) <= set(range(5))
    assert qwk(truth, written["diagnosis"]) > 0.3  # the trivial submission (all one grade) scores 0

    # `make predict` cuts at the thresholds the run stored: moved past every number, all grade 0
    run_file = next((tmp_path / "work" / "artifacts" / "aptos" / "runs").glob("*/run.json"))
    record = json.loads(run_file.read_text())
    assert (
        len(record["thresholds"]["values"]) == 4
        and record["thresholds"]["score"] >= record["thresholds"]["score_at_midpoints"]
    )
    record["thresholds"]["values"] = [100.0, 101.0, 102.0, 103.0]
    run_file.write_text(json.dumps(record))
    again = run_kit("predict", "--comp", "aptos")
    assert again.returncode == 0, again.stderr[-3000:]
    assert "stored with run" in again.stdout
    newest = max(submissions.glob("*.csv"), key=lambda p: p.stat().st_mtime)
    assert pd.read_csv(newest)["diagnosis"].tolist() == [0] * len(truth)
