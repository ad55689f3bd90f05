"""`make new`'s reading of a binary task: a given metric, not the sample's placeholder values,
decides between a label and the positive class's probability."""

import pandas as pd
import pytest
import replicas

from kit.data.infer import infer


@pytest.mark.parametrize(
    ("placeholder", "metric", "form"),
    [
        (0, "roc_auc", "probability"),
        (0, "log_loss", "probability"),
        (0.0, "accuracy", "label"),
        (0.5, "", "probability"),
    ],
)
def test_a_binary_tasks_form_follows_the_metric(tmp_path, placeholder, metric, form):
    replicas.aerial_cactus(tmp_path, per_class=4, test_per_class=2, size=16)
    sample = pd.read_csv(tmp_path / "sample_submission.csv").assign(has_cactus=placeholder)
    sample.to_csv(tmp_path / "sample_submission.csv", index=False)
    found = infer(tmp_path, metric=metric)
    assert found.sections["submission"]["form"] == form  # no metric: the sample's 0.5 is the evidence


def test_an_empty_label_column_of_two_text_classes_is_a_label(tmp_path):
    """pandas reads an empty column as NaN floats: no value in it is a probability."""
    replicas.aerial_cactus(tmp_path, per_class=4, test_per_class=2, size=16)
    table = pd.read_csv(tmp_path / "train.csv")
    table.assign(has_cactus=table["has_cactus"].map({0: "no", 1: "yes"})).to_csv(tmp_path / "train.csv", index=False)
    sample = pd.read_csv(tmp_path / "sample_submission.csv").assign(has_cactus="")
    sample.to_csv(tmp_path / "sample_submission.csv", index=False)
    found = infer(tmp_path)
    assert found.sections["competition"]["class_names"] == ["no", "yes"]
    assert found.sections["submission"]["form"] == "label"
