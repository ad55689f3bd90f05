"""The embedding baselines (rf_embed, svm_embed) read train.weights like the networks: a missing
ImageNet file is one clear line (tests/models/test_registry.py), and only an explicit
`train.weights=none` embeds with a random backbone, the same one in every process."""

from __future__ import annotations

import numpy as np
import pytest

from kit import config
from kit.models import image_baselines
from kit.training import sklearn_kind


def cfg_for(model: str, weights: str) -> config.Config:
    return config.resolve(
        {
            "competition": {"class_names": list("ab")},
            "data": {"height": 16, "width": 16, "channels": 3},
            "train": {"model": model, "weights": weights},
        }
    )


@pytest.mark.parametrize("weights", ["none", "/a/file.h5"])
def test_the_embedding_step_gets_train_weights(weights):
    estimator = sklearn_kind.build(cfg_for("svm_embed", weights))
    assert estimator.named_steps["features"].weights == weights


def test_a_random_backbone_is_the_same_in_the_fitting_and_the_predicting_process(monkeypatch):
    """Prediction loads the fitted pipeline in another process and builds the backbone again:
    random weights drawn anew there would give other features to the same fitted forest."""
    pixels = np.random.default_rng(0).integers(0, 255, (6, 16 * 16 * 3), dtype=np.uint8)
    step = sklearn_kind.build(cfg_for("rf_embed", "none")).named_steps["features"]
    first = step.transform(pixels)
    monkeypatch.setattr(image_baselines, "_EMBEDDERS", {})  # as a new process: nothing built yet
    np.testing.assert_array_equal(step.transform(pixels), first)
    assert np.abs(first).sum() > 0
