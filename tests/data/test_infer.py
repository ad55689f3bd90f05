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
