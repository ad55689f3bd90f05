"""The fast-path switches: one-cycle schedule, steps per execution (data parallelism: test_distribute)."""

import keras
import numpy as np
import pytest

from kit.config import competitions
from kit.errors import KitError
from kit.training import keras_kind


def cfg_with(*overrides):
    return competitions.load_config("digits", "tiny", list(overrides))


def test_onecycle_warms_up_then_decays_and_replaces_plateau(tmp_path):
    cfg = cfg_with("train.schedule=onecycle", "train.learning_rate=0.01", "train.epochs=10")
    schedule = keras_kind.learning_rate(cfg, steps_per_epoch=10)  # 100 steps, 20 of warm-up
    rates = [float(schedule(step)) for step in (0, 10, 20, 60, 100)]
    assert rates[0] < rates[1] < rates[2] == pytest.approx(0.01)
    assert rates[2] > rates[3] > rates[4] and rates[4] == pytest.approx(0.0, abs=1e-6)
    kinds = {type(c).__name__ for c in keras_kind.callbacks_for(cfg, tmp_path, False)}
    assert "ReduceLROnPlateau" not in kinds
    plateau_cfg = cfg_with("train.schedule=plateau")
    plateau = {type(c).__name__ for c in keras_kind.callbacks_for(plateau_cfg, tmp_path, False)}
    assert "ReduceLROnPlateau" in plateau


def test_steps_per_execution_reaches_the_compiled_model():
    cfg = cfg_with("train.steps_per_execution=4")
    model = keras_kind.build_model(cfg)
    keras_kind.compile_model(model, cfg)
    assert model.steps_per_execution == 4
    y = keras.utils.to_categorical(np.arange(64) % 10, 10)
    history = model.fit(np.zeros((64, 28, 28, 1), "uint8"), y, batch_size=8, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])


@pytest.mark.parametrize("decay", [0.0, 0.5])
def test_weight_decay_shrinks_kernels_but_not_batchnorm(decay):
    """AdamW's decoupled decay: with zero gradients only the decay moves a weight, and it leaves
    BatchNorm's gamma and beta alone."""
    cfg = cfg_with(
        "train.model=cnn", "train.schedule=plateau", "train.learning_rate=0.1", f"train.weight_decay={decay}"
    )
    model = keras_kind.build_model(cfg)
    keras_kind.compile_model(model, cfg)
    kernel = next(v for v in model.trainable_variables if "kernel" in v.path)
    gamma = next(v for v in model.trainable_variables if "gamma" in v.path)
    before = [np.array(kernel), np.array(gamma)]
    model.optimizer.apply_gradients([(keras.ops.zeros_like(v), v) for v in model.trainable_variables])
    assert np.allclose(np.array(kernel), before[0] * (1 - 0.1 * decay))
    assert np.allclose(np.array(gamma), before[1])


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("train.schedule=cosine", "config key 'train.schedule' must be one of plateau, onecycle, got 'cosine'"),
        ("train.distribute=tpu", "config key 'train.distribute' must be one of auto, off, data_parallel, got 'tpu'"),
    ],
)
def test_bad_speed_switches(override, message):
    with pytest.raises(KitError, match=message):  # refused when the config is resolved
        cfg_with(override)


def test_a_checkpoint_holding_code_is_refused_not_run(tmp_path):
    marker = tmp_path / "code-ran"
    inputs = keras.Input((2,))
    # the path is a constant in the lambda's bytecode, which Keras stores in the file
    planted = keras.layers.Lambda(eval(f"lambda x: x + len(str(open({str(marker)!r}, 'w').close()))"))
    keras.Model(inputs, planted(inputs)).save(tmp_path / "best.keras")
    marker.unlink(missing_ok=True)  # building the model ran the lambda once here
    with pytest.raises(KitError, match="best.keras: refused: it holds code"):
        keras_kind.load(tmp_path / "best.keras")
    assert not marker.exists()


CPUINFO = "processor\t: 0\nvendor_id\t: AuthenticAMD\nflags\t\t: fpu sse2 avx2 fma {extra}\n\nprocessor\t: 1\n"


@pytest.mark.parametrize(
    ("extra", "native"), [("avx512f avx512_bf16", True), ("amx_tile amx_bf16", True), ("avx512f avx512bw", False)]
)
def test_bfloat16_is_native_only_with_its_cpu_flags(tmp_path, extra, native):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text(CPUINFO.format(extra=extra))
    assert keras_kind.cpu_has_bfloat16(cpuinfo) is native
    assert keras_kind.cpu_has_bfloat16(tmp_path / "absent") is False  # not Linux


@pytest.mark.parametrize(
    ("gpu", "bfloat16", "onednn", "expected"),
    [
        (True, True, "1", "mixed_float16"),
        (False, True, "1", "mixed_bfloat16"),
        (False, True, "0", "float32"),  # Eigen's kernels have no bfloat16 path: emulated, slower
        (False, False, "1", "float32"),
    ],
)
def test_auto_precision_follows_the_device_and_the_cpu(monkeypatch, gpu, bfloat16, onednn, expected):
    monkeypatch.setattr(keras_kind, "has_gpu", lambda: gpu)
    monkeypatch.setattr(keras_kind, "cpu_has_bfloat16", lambda: bfloat16)
    monkeypatch.setenv("TF_ENABLE_ONEDNN_OPTS", onednn)
    try:
        assert keras_kind.set_precision("auto") == expected
        assert keras.mixed_precision.global_policy().name == expected
        assert keras_kind.set_precision("off") == "float32"  # a user's choice wins over the machine
    finally:
        keras.mixed_precision.set_global_policy("float32")


def test_a_fit_on_arrays_takes_one_pass_of_batches_per_epoch(tmp_path):
    """On TensorFlow the arrays become one endless dataset (kit.data.batches.endless_batches):
    `fit` must stop each epoch after ceil(rows / batch) steps, as Keras does for arrays."""
    from kit.data.pixels import Images
    from kit.training import runs

    rng = np.random.default_rng(0)
    images = Images(rng.integers(0, 255, (130, 28, 28, 1), dtype="uint8"), np.arange(130) % 10, np.arange(130), None)
    cfg = cfg_with("train.batch_size=32", "train.epochs=2")
    seen = []

    class CountSteps(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            seen.append(int(self.model.optimizer.iterations))

    result = runs.fit(
        cfg, images, np.arange(100), np.arange(100, 130), tmp_path / "fold0", extra_callbacks=(CountSteps(),), verbose=0
    )
    assert seen == [4, 8]  # 100 rows in batches of 32: 4 steps an epoch
    assert result.epochs == 2 and result.val_probabilities.shape == (30, 10)
