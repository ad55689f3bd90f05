"""The replica corpus: each small copy of a real Kaggle image competition (replicas.py,
target_replicas.py) goes through the kit as a user would, `python -m kit new --comp <slug>
--data <folder> --metric <m>` then `run`; the submission must have the sample's exact columns,
ids (in order) and value types, and score, by scikit-learn here (scoring.py), clearly better
than the best trivial submission: `gain` is the least share of the way from the trivial score
to a perfect one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest
import replicas as r
import scoring
import target_replicas as t
from conftest import run_kit


@dataclass
class Replica:
    slug: str  # the real competition's
    build: Callable
    metric: str  # METRIC= as a user types it (Kaggle's own names for some)
    scored: str  # the metric this test computes
    form: str  # scoring.py's forms
    epochs: int = 6
    gain: float = 0.5


CORPUS = [
    Replica("digit-recognizer", r.digit_recognizer, "CategorizationAccuracy", "accuracy", "label", epochs=4),
    Replica("Kannada-MNIST", r.kannada_mnist, "accuracy", "accuracy", "label", epochs=4),
    Replica("plant-seedlings-classification", r.plant_seedlings, "MeanFScoreMicro", "micro_f1", "label"),
    Replica("dogs-vs-cats-redux-kernels-edition", r.dogs_vs_cats, "log_loss", "log_loss", "probability"),
    Replica("state-farm-distracted-driver-detection", r.state_farm, "MulticlassLoss", "log_loss", "probabilities"),
    Replica("dog-breed-identification", r.dog_breed_identification, "log_loss", "log_loss", "probabilities"),
    Replica("aerial-cactus-identification", r.aerial_cactus, "AUC", "roc_auc", "probability"),
    Replica(
        "histopathologic-cancer-detection", r.histopathologic_cancer_detection, "roc_auc", "roc_auc", "probability"
    ),
    Replica(
        "aptos2019-blindness-detection",
        r.aptos2019_blindness_detection,
        "QuadraticWeightedKappa",
        "qwk",
        "label",
        epochs=10,
    ),
    Replica(
        "cassava-leaf-disease-classification", r.cassava_leaf_disease_classification, "accuracy", "accuracy", "label"
    ),
    Replica("iwildcam-2019-fgvc6", r.iwildcam_2019_fgvc6, "MacroFScore", "macro_f1", "label"),
    Replica("humpback-whale-identification", t.humpback_whale_identification, "MAP@{5}", "map@5", "topk"),
    Replica("petfinder-pawpularity-score", t.petfinder_pawpularity_score, "RMSE", "rmse", "value", epochs=12, gain=0.4),
    Replica(
        "planet-understanding-the-amazon-from-space", t.planet_understanding_the_amazon_from_space, "f2", "f2", "tags"
    ),
    Replica(
        "human-protein-atlas-image-classification",
        t.human_protein_atlas_image_classification,
        "macro_f1",
        "macro_f1",
        "tags",
    ),
    # Planet again, the tags as one 0/1 column each in train and sample (the sample in its own order)
    Replica("planet-columns", t.planet_in_columns, "MeanFScoreBeta", "f2", "columns"),
    Replica("leaf-classification", r.leaf_classification, "log_loss", "log_loss", "probabilities", epochs=10),
]


def new_and_run(slug: str, folder, metric: str, epochs: int) -> tuple[pd.DataFrame, str]:
    made = run_kit("new", "--comp", slug, "--data", str(folder), "--metric", metric)
    assert made.returncode == 0, made.stderr
    settings = [f"train.epochs={epochs}", "train.batch_size=16"]
    ran = run_kit("run", "--comp", slug, "--set", *settings)
    assert ran.returncode == 0, ran.stderr[-3000:]
    written = sorted((folder.parent / "work" / "submissions" / slug).glob("*.csv"))
    assert len(written) == 1
    return read(written[0]), made.stdout


def read(path) -> pd.DataFrame:
    return pd.read_csv(path, keep_default_na=False)  # a blank tag list stays '', not NaN


@pytest.mark.slow
@pytest.mark.parametrize("replica", CORPUS, ids=[c.slug for c in CORPUS])
def test_new_then_run_beats_the_trivial_submission(replica, tmp_path, competitions_dir):
    folder = tmp_path / replica.slug
    truth = replica.build(folder)
    submission, summary = new_and_run(replica.slug, folder, replica.metric, replica.epochs)
    said = {"tags": "tags:", "columns": "tags:", "value": "a number (regression):"}.get(replica.form, "classes:")
    assert f"\n  {said} " in summary, summary
    sample, train = read(truth.sample), list(truth.train)
    scoring.check_format(submission, sample, replica.form, train)
    value = scoring.score(replica.scored, truth.test, scoring.predictions(submission, replica.form), replica.form)
    trivial = scoring.trivial_score(replica.scored, truth.test, sample, replica.form, train)
    print(f"\ncorpus {replica.slug} {replica.scored}: {value:.4f}, trivial {trivial:.4f}")
    assert scoring.gain(replica.scored, value, trivial) >= replica.gain, (value, trivial)
    if replica.form == "probabilities":  # calibrated: an accurate model's log-loss is far under log(K)
        probabilities = submission.iloc[:, 1:]
        accuracy = np.mean(probabilities.idxmax(axis=1).to_numpy() == np.array(truth.test))
        if accuracy >= 0.85:
            assert value < 0.5 * np.log(probabilities.shape[1]), (accuracy, value)
