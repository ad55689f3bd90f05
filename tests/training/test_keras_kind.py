"""The fast-path switches: one-cycle schedule, steps per execution (data parallelism: test_distribute)."""

import keras
import numpy as np
import pytest

from kit.config import competitions
from kit.errors import KitError
from kit.training import keras_kind, optimizers


def cfg_with(*overrides):
    return competitions.load_config("digits", "tiny", list(overrides))


def test_onecycle_warms_up_then_decays_and_replaces_plateau(tmp_path):
    cfg = cfg_with(
        "train.schedule=onecycle", "train.learning_rate=0.01", "train.epochs=10", "train.warmup_fraction=0.2"
    )
    schedule = optimizers.learning_rate(cfg, steps_per_epoch=10)  # 100 steps, 20 of warm-up
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
