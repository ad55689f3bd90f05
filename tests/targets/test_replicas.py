"""`make new` alone on the corpus' replicas whose label is not one class per image (tests/corpus/
target_replicas.py): the target and the submission form each implies, stated in the summary.
The corpus (tests/corpus/test_corpus.py) runs them and scores what they write.
"""

from __future__ import annotations

import pandas as pd
from conftest import run_kit
from replicas import histopathologic_cancer_detection
from target_replicas import (
    PLANET_TAGS,
    human_protein_atlas_image_classification,
    humpback_whale_identification,
    petfinder_pawpularity_score,
    planet_in_columns,
    planet_understanding_the_amazon_from_space,
)

from kit.data.infer import infer


def test_make_new_states_each_target_and_its_form(tmp_path):
    humpback_whale_identification(tmp_path / "whales", per_class=3, test_per_class=1)
    whales = infer(tmp_path / "whales", "MAP@{5}")
    assert whales.sections["competition"]["target"] == "topk" and whales.sections["submission"]["form"] == "topk"
    assert whales.sections["competition"]["metric"] == "map@5"

    petfinder_pawpularity_score(tmp_path / "paw", train_rows=20, test_rows=4)
    paw = infer(tmp_path / "paw", "rmse")
    assert paw.sections["competition"]["class_names"] == ["Pawpularity"]  # never 100 classes
    assert paw.sections["submission"]["form"] == "value"

    planet_understanding_the_amazon_from_space(tmp_path / "planet", train_rows=30, test_rows=4)
    tags = infer(tmp_path / "planet")  # no METRIC=: tag sets are multi-label, f2 said to be a guess
    assert tags.sections["competition"]["metric"] == "f2" and tags.sections["submission"]["form"] == "tags"
    assert tags.sections["competition"]["class_names"] == ["clear", "cloudy", "haze", "primary", "water"]
    assert sum("guess" in line for line in tags.summary) == 1

    histopathologic_cancer_detection(tmp_path / "histo", train_rows=20, test_rows=4)
    assert infer(tmp_path / "histo", "AUC").sections["submission"]["form"] == "probability"
    assert infer(tmp_path / "histo", "LogLoss").sections["submission"]["form"] == "probability"
    assert infer(tmp_path / "histo", "accuracy").sections["submission"]["form"] == "label"


def test_one_0_1_column_per_tag_is_a_multi_label_table(tmp_path):
    planet_in_columns(tmp_path / "planet", train_rows=30, test_rows=4)
    names = PLANET_TAGS
    found = infer(tmp_path / "planet", "f2")
    assert found.sections["submission"]["form"] == "columns"
    assert found.sections["competition"]["class_names"] == names[::-1]  # the sample's order


def test_a_score_column_without_metric_is_guessed_a_regression(tmp_path):
    petfinder_pawpularity_score(tmp_path / "paw", train_rows=20, test_rows=4)
    train = pd.read_csv(tmp_path / "paw" / "train.csv")
    train.assign(Pawpularity=train["Pawpularity"] + 0.25).to_csv(tmp_path / "paw" / "train.csv", index=False)
    found = infer(tmp_path / "paw")
    assert found.sections["competition"]["metric"] == "rmse" and found.sections["competition"]["target"] == "regression"


def test_human_protein_atlas_numbered_tags_under_macro_f1_are_multi_label(tmp_path):
    """train.csv Id,Target ('16 0'), sample Id,Predicted: macro-F1 over tags, not over combinations;
    the numbered tags in numeric order."""
    human_protein_atlas_image_classification(tmp_path, train_rows=40, test_rows=4)
    found = infer(tmp_path, "MacroFScore")
    assert found.sections["competition"]["target"] == "multilabel" and found.sections["submission"]["form"] == "tags"
    assert found.sections["competition"]["class_names"] == ["0", "7", "16", "25"]


def test_make_new_says_tags_or_a_number_not_classes(tmp_path, competitions_dir):
    planet_understanding_the_amazon_from_space(tmp_path / "planet", train_rows=30, test_rows=4)
    petfinder_pawpularity_score(tmp_path / "paw", train_rows=20, test_rows=4)
    planet = run_kit("new", "--comp", "planet", "--data", str(tmp_path / "planet"), "--metric", "f2")
    assert "\n  tags: clear, cloudy, haze, primary, water\n" in planet.stdout and "classes:" not in planet.stdout
    paw = run_kit("new", "--comp", "paw", "--data", str(tmp_path / "paw"), "--metric", "rmse")
    assert "\n  a number (regression): Pawpularity\n" in paw.stdout and "classes:" not in paw.stdout
