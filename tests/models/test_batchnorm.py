"""kit.models.batchnorm.BatchNorm trains through TensorFlow's fused kernel and gives Keras' numbers:
the same outputs, gradients and moving statistics as keras.layers.BatchNormalization."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from kit.models.batchnorm import BatchNorm

pytestmark = pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="the fused path is TensorFlow's")


def twins(shape, dtype="float32", **options):
    """A BatchNorm and a Keras BatchNormalization with the same non-trivial weights."""
    rng = np.random.default_rng(0)
    options |= {"momentum": 0.9, "dtype": dtype}
    fused, plain = BatchNorm(**options), keras.layers.BatchNormalization(**options)
    fused.build(shape)
    plain.build(shape)
    weights = [rng.normal(1.0, 0.3, w.shape).astype("float32") for w in plain.get_weights()]
    weights[-1] = np.abs(weights[-1])  # the moving variance
    fused.set_weights(weights)
    plain.set_weights(weights)
    return fused, plain


def step(layer, x):
    """Output, gradients (inputs, gamma, beta) of a randomly weighted sum, and the moving statistics after."""
    weights = tf.constant(np.random.default_rng(9).normal(size=x.shape).astype("float32"))
    x = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = layer(x, training=True)
        loss = tf.reduce_sum(tf.cast(y, tf.float32) * weights)  # y is bfloat16 under mixed_bfloat16
    grads = tape.gradient(loss, [x, layer.gamma, layer.beta])
    return [np.asarray(t) for t in (y, *grads, layer.moving_mean, layer.moving_variance)]


@pytest.mark.parametrize("shape", [(8, 7, 7, 16), (2, 3, 3, 4)])
def test_a_training_step_matches_keras(shape):
    x = np.random.default_rng(1).normal(2.0, 3.0, shape).astype("float32")
    fused, plain = twins(shape)
    names = ["output", "d/dx", "d/dgamma", "d/dbeta", "moving mean", "moving variance"]
    for got, want, name in zip(step(fused, x), step(plain, x), names, strict=True):
        np.testing.assert_allclose(got, want, rtol=2e-4, atol=2e-4, err_msg=name)


def test_training_runs_the_fused_kernel_and_inference_the_keras_path():
    fused, _ = twins((4, 5, 5, 3))
    spec = tf.TensorSpec((4, 5, 5, 3), tf.float32)

    def op_types(training: bool) -> set[str]:
        graph = tf.function(lambda x: fused(x, training=training)).get_concrete_function(spec).graph
        return {op.type for op in graph.get_operations()}

    assert "FusedBatchNormV3" in op_types(training=True)
    assert "FusedBatchNormV3" not in op_types(training=False)


def test_what_the_kernel_does_not_cover_takes_keras_path_with_keras_numbers():
    x = np.random.default_rng(2).normal(size=(6, 10)).astype("float32")  # 2-D: a dense layer's output
    fused, plain = twins(x.shape)
    for got, want in zip(step(fused, x), step(plain, x), strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def test_a_model_with_it_saves_and_loads(tmp_path):
    inputs = keras.Input((6, 6, 2))
    model = keras.Model(inputs, BatchNorm(momentum=0.9)(inputs))
    x = np.random.default_rng(3).normal(size=(5, 6, 6, 2)).astype("float32")
    model(x, training=True)
    model.save(tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras")
    assert isinstance(loaded.layers[-1], BatchNorm)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-6)


def test_bfloat16_activations_match_keras_to_their_precision():
    """Under mixed_bfloat16 (`train.mixed_precision=auto` on a CPU with native bfloat16) the fused
    kernel normalises bfloat16 activations with float32 statistics, as Keras' layer does."""
    shape = (8, 7, 7, 16)
    x = np.random.default_rng(1).normal(2.0, 3.0, shape).astype("float32")
    fused, plain = twins(shape, dtype="mixed_bfloat16")
    got, want = step(fused, x), step(plain, x)
    assert got[0].dtype == want[0].dtype == tf.bfloat16.as_numpy_dtype
    assert fused.moving_mean.dtype == "float32"
    names = ["output", "d/dx", "d/dgamma", "d/dbeta", "moving mean", "moving variance"]
    for got_one, want_one, name in zip(got, want, names, strict=True):
        scale = max(1.0, float(np.abs(np.asarray(want_one, "float32")).max()))
        np.testing.assert_allclose(
            np.asarray(got_one, "float32"), np.asarray(want_one, "float32"), atol=0.02 * scale, err_msg=name
        )


def test_a_saved_network_with_batchnorm_loads_in_a_fresh_process(tmp_path):
    """`make predict` in a new process builds no model, so nothing had imported the layer's module:
    every network with BatchNorm (air, cnn, colour_cnn, ...) failed to load with Keras' traceback."""
    import subprocess
    import sys

    from conftest import ROOT

    inputs = keras.Input((4, 4, 2))
    model = keras.Model(inputs, BatchNorm()(inputs))
    model.save(tmp_path / "best.keras")
    code = "import sys, pathlib; from kit.training import keras_kind; keras_kind.load(pathlib.Path(sys.argv[1]))"
    saved = str(tmp_path / "best.keras")
    done = subprocess.run([sys.executable, "-c", code, saved], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
