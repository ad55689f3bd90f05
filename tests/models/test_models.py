"""Every registered Keras model builds, runs a forward pass, gives probabilities, no NaN."""

import numpy as np
import pytest

from kit import models
from kit.errors import KitError

KERAS_MODELS = models.names(kind="keras")


def test_the_foundation_zoo_is_registered():
    assert {"dense", "dnn", "dnn_dropout", "cnn", "dcnn", "deotte_cnn"} <= set(KERAS_MODELS)


@pytest.mark.parametrize("name", KERAS_MODELS)
@pytest.mark.parametrize("shape", [(28, 28, 1), (32, 32, 3)])
def test_model_forward_pass(name, shape):
    model = models.get(name).factory(shape, 10)
    batch = np.random.default_rng(0).random((3, *shape)).astype("float32")
    out = np.asarray(model(batch, training=False))
    assert out.shape == (3, 10)
    assert np.isfinite(out).all()
    np.testing.assert_allclose(out.sum(axis=1), 1.0, rtol=1e-5)


@pytest.mark.parametrize("name", ["cnn", "dense"])
def test_width_scales_the_parameter_count(name):
    small = models.get(name).factory((28, 28, 1), 10, width=0.5).count_params()
    big = models.get(name).factory((28, 28, 1), 10, width=1.0).count_params()
    assert small < big


def test_unknown_model_lists_the_known_ones():
    with pytest.raises(KitError, match=r"unknown model 'resnet9000' \(known: .*cnn.*deotte_cnn"):
        models.get("resnet9000")


def test_names_read_from_the_source_are_the_registered_ones():
    """`check_name` answers before Keras loads from the `@register("...")` lines: they must be
    every built-in model (a registration written another way would be refused as unknown)."""
    from kit.models.registry import REGISTRY

    models.load_builtin()
    assert models.builtin_names() == {
        name for name, spec in REGISTRY.items() if spec.factory.__module__.startswith("kit.")
    }
