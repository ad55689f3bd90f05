"""The fast-path switches: one-cycle schedule, steps per execution, data parallelism."""

import os
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest
from conftest import ROOT, backend_available

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
    plateau = {type(c).__name__ for c in keras_kind.callbacks_for(cfg_with(), tmp_path, False)}
    assert "ReduceLROnPlateau" in plateau


def test_steps_per_execution_reaches_the_compiled_model():
    cfg = cfg_with("train.steps_per_execution=4")
    model = keras_kind.build_model(cfg)
    keras_kind.compile_model(model, cfg)
    assert model.steps_per_execution == 4
    y = keras.utils.to_categorical(np.arange(64) % 10, 10)
    history = model.fit(np.zeros((64, 28, 28, 1), "uint8"), y, batch_size=8, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("train.schedule=cosine", "config key 'train.schedule' must be one of plateau, onecycle, got 'cosine'"),
        ("train.distribute=tpu", "config key 'train.distribute' must be one of off, data_parallel, got 'tpu'"),
    ],
)
def test_bad_speed_switches(override, message):
    with pytest.raises(KitError, match=message):  # refused when the config is resolved
        cfg_with(override)


DATA_PARALLEL = textwrap.dedent("""
    import pathlib, sys
    import jax, keras, numpy as np
    import pandas as pd
    from kit.config import competitions
    from kit.training import keras_kind, runs
    from kit.data.pixels import Images

    class WhereAreTheWeights(keras.callbacks.Callback):
        def on_train_end(self, logs=None):
            print("WEIGHT_DEVICES", len(self.model.trainable_variables[0].value.sharding.device_set))

    assert len(jax.devices()) == 2, jax.devices()
    rng = np.random.default_rng(0)
    labels = np.arange(256) % 10
    images = Images(rng.integers(0, 255, (256, 28, 28, 1), dtype="uint8"), labels, np.arange(256), None)
    for mode in ("off", "data_parallel"):
        cfg = competitions.load_config("digits", "tiny", [f"train.distribute={mode}", "train.batch_size=32",
                                                          "train.model=dense", "train.epochs=3"])
        folder = pathlib.Path(sys.argv[1]) / mode
        result = runs.fit(cfg, images, np.arange(192), np.arange(192, 256), folder, verbose=0,
                           extra_callbacks=(WhereAreTheWeights(),))
        print("LOSS", mode, pd.read_csv(folder / "history.csv")["loss"].round(5).tolist())
""")


@pytest.mark.jax
@pytest.mark.skipif(not backend_available("jax"), reason="JAX is not installed (pip install -e '.[jax]')")
def test_data_parallel_on_two_virtual_cpu_devices_matches_one_device(tmp_path):
    env = {**os.environ, "KERAS_BACKEND": "jax", "XLA_FLAGS": "--xla_force_host_platform_device_count=2"}
    result = subprocess.run(
        [sys.executable, "-c", DATA_PARALLEL, str(tmp_path)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    lines = result.stdout.splitlines()
    assert [x for x in lines if x.startswith("WEIGHT_DEVICES")] == ["WEIGHT_DEVICES 1", "WEIGHT_DEVICES 2"]
    single, parallel = (x.split(" ", 2)[2] for x in lines if x.startswith("LOSS"))
    # the same seed, the same global batch: splitting it over two devices changes nothing
    assert single == parallel and single.count(",") == 2  # three epochs


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
