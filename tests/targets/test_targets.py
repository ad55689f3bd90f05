"""Which target a metric means, and how each decodes into the submission's values."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from kit import config, submission, targets
from kit.errors import KitError


@pytest.mark.parametrize(
    ("metric", "kind"),
    [("map@5", "topk"), ("map@3", "topk"), ("rmse", "regression"), ("mae", "regression"), ("f2", "multilabel")]
    + [("f1_samples", "multilabel"), ("accuracy", "classification"), ("roc_auc", "classification")],
)
def test_auto_reads_the_target_off_the_metric(metric, kind):
    assert targets.kind_of(config.resolve(overrides=[f"competition.metric={metric}"])) == kind


def test_a_named_target_wins_over_the_metric():
    cfg = config.resolve(overrides=["competition.metric=macro_f1", "competition.target=multilabel"])
    assert targets.for_config(cfg).name == "multilabel"


def test_a_metric_that_is_no_map_at_k_is_refused():
    with pytest.raises(KitError, match="map@K"):
        config.resolve(overrides=["competition.metric=map@0"])


def expected(cfg, columns, ids):
    return submission.form_of(cfg, columns, np.asarray(ids), None)


def test_top_k_writes_k_distinct_labels_best_first_and_validates_them():
    names = "competition.class_names=['new_whale', 'w_1', 'w_2', 'w_3']"
    cfg = config.resolve(overrides=["competition.metric=map@3", names])
    exp = expected(cfg, ("Image", "Id"), ["a.jpg", "b.jpg"])
    frame = submission.build(exp, np.array([[0.1, 0.5, 0.3, 0.1], [0.7, 0.0, 0.1, 0.2]]))
    assert frame["Id"].tolist() == ["w_1 w_2 new_whale", "new_whale w_3 w_2"]
    submission.validate(frame, exp)
    with pytest.raises(KitError, match="row 2"):
        submission.validate(frame.assign(Id=["w_1", "w_9"]), exp)


def test_top_k_writes_a_name_with_spaces_with_underscores():
    names = "competition.class_names=['The Eiffel Tower', 'bee', 'The Mona Lisa']"
    cfg = config.resolve(overrides=["competition.metric=map@3", names])
    exp = expected(cfg, ("key_id", "word"), [1, 2])
    frame = submission.build(exp, np.array([[0.5, 0.1, 0.4], [0.1, 0.8, 0.1]]))
    assert frame["word"].tolist() == ["The_Eiffel_Tower The_Mona_Lisa bee", "bee The_Eiffel_Tower The_Mona_Lisa"]
    submission.validate(frame, exp)


def test_regression_writes_numbers_clipped_to_the_training_range():
    cfg = config.resolve(overrides=["competition.metric=rmse", "competition.class_names=['Pawpularity']"])
    exp = expected(cfg, ("Id", "Pawpularity"), ["x", "y", "z"])
    exp = dataclasses.replace(exp, value_range=(1.0, 100.0))
    frame = submission.build(exp, np.array([[-3.0], [42.5], [130.0]]))
    assert frame["Pawpularity"].tolist() == [1.0, 42.5, 100.0]
    submission.validate(frame, exp)
    with pytest.raises(KitError, match="not a number"):
        submission.validate(frame.assign(Pawpularity=["1", "x", "3"]), exp)


def test_tags_are_written_at_their_thresholds_in_one_column_or_as_the_samples_0_1_columns():
    cfg = config.resolve(overrides=["competition.metric=f2", "competition.class_names=['clear', 'haze', 'water']"])
    probabilities = np.array([[0.9, 0.2, 0.35], [0.1, 0.8, 0.1]])
    exp = dataclasses.replace(expected(cfg, ("image_name", "tags"), ["t0", "t1"]), thresholds=(0.5, 0.5, 0.3))
    assert submission.build(exp, probabilities)["tags"].tolist() == ["clear water", "haze"]
    columns = expected(cfg, ("Id", "water", "clear", "haze"), ["t0", "t1"])
    columns = dataclasses.replace(columns, thresholds=(0.5, 0.5, 0.3))
    frame = submission.build(columns, probabilities)
    assert list(frame.columns) == ["Id", "water", "clear", "haze"] and frame["water"].tolist() == [1, 0]
    submission.validate(frame, columns)


def test_binary_probability_is_written_for_auc_whatever_the_sample_holds():
    cfg = config.resolve(overrides=["competition.metric=roc_auc", "competition.class_names=['0', '1']"])
    exp = submission.expected(cfg, None, pd.DataFrame({"id": ["a", "b"], "label": [0, 0]}))
    assert exp.form == "probability"
    assert submission.build(exp, np.array([[0.8, 0.2], [0.3, 0.7]]))["label"].tolist() == [0.2, 0.7]


@pytest.mark.parametrize(("metric", "names", "units"), [("rmse", "['score']", 1), ("f2", "['a', 'b', 'c']", 3)])
def test_every_keras_network_takes_the_targets_head(metric, names, units):
    """Regression: one unit un-scaled to the training values; tags: sigmoids (they need not sum to 1)."""
    from kit import models
    from kit.training.keras_kind import build_model

    truth = np.array([10.0, 30.0, 50.0])
    for name in ("dense", "cnn", "air"):
        assert models.get(name).kind == "keras"
        cfg = config.resolve(
            overrides=[f"competition.metric={metric}", f"competition.class_names={names}", f"train.model={name}"]
        )
        model = build_model(cfg, truth if metric == "rmse" else None)
        out = np.asarray(model.predict(np.random.default_rng(0).integers(0, 255, (4, 28, 28, 1)), verbose=0))
        assert out.shape == (4, units) and np.isfinite(out).all()
        if metric == "rmse":  # a fresh unit predicts near the mean, in the target's units
            assert np.abs(out - truth.mean()).max() < 5 * truth.std()
        else:
            assert ((out > 0) & (out < 1)).all() and not np.allclose(out.sum(axis=1), 1)
