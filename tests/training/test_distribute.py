"""train.distribute: data-parallel training over several devices, tested on two virtual CPUs."""

import os
import re
import subprocess
import sys
import textwrap

import pytest
from conftest import ROOT, backend_available

from kit.config import competitions
from kit.training import distribute


def cfg_with(*overrides):
    return competitions.load_config("digits", "tiny", list(overrides))


def test_the_global_batch_and_learning_rate_scale_with_the_devices():
    cfg = cfg_with("train.batch_size=32", "train.learning_rate=0.001", "train.fine_tune_learning_rate=0.0001")
    assert distribute.global_config(cfg, 1) is cfg
    scaled = distribute.global_config(cfg, 2)
    assert (scaled.train.batch_size, scaled.train.learning_rate) == (64, 0.002)
    assert scaled.train.fine_tune_learning_rate == pytest.approx(0.0002)
    assert distribute.steps_per_epoch(cfg, 480) == 15 and distribute.steps_per_epoch(scaled, 480) == 8


def test_auto_on_one_cpu_stays_off(capsys):
    cfg = cfg_with()
    assert cfg.train.distribute == "auto"  # the default
    spread = distribute.plan(cfg)  # this process sees one CPU and no accelerator
    assert spread.devices == () and spread.replicas == 1 and spread.cfg is cfg
    assert capsys.readouterr().out == ""  # nothing said: training is exactly as with off


def test_auto_spreads_over_two_accelerators(monkeypatch, capsys):
    monkeypatch.setattr(distribute, "accelerator_names", lambda backend: ["/device:GPU:0", "/device:GPU:1"])
    spread = distribute.plan(cfg_with("train.batch_size=32"))
    assert spread.replicas == 2 and spread.cfg.train.batch_size == 64
    assert "data parallel (auto): 2 devices" in capsys.readouterr().out
    monkeypatch.setattr(distribute, "accelerator_names", lambda backend: ["/device:GPU:0"])
    assert distribute.plan(cfg_with()).devices == ()  # one GPU: as with off


# TensorFlow's logical devices must be configured before anything starts its runtime: the kit's
# CLI runs after these lines, in a process of its own
TWO_TF_CPUS = textwrap.dedent("""
    import runpy, sys
    import tensorflow as tf
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    sys.argv = ["kit", *sys.argv[1:]]
    runpy.run_module("kit", run_name="__main__")
""")


def epoch_steps(stdout: str) -> list[int]:
    """The step counts of Keras' one-line-per-epoch progress ('8/8 - 1s - ...')."""
    return [int(m.group(1)) for m in re.finditer(r"^(\d+)/\1 - ", stdout, re.MULTILINE)]


@pytest.mark.slow
def test_make_train_on_two_tensorflow_cpus_uses_both_and_the_global_batch(workdir, digits_folder):
    args = ["train", "--comp", "digits", "--preset", "tiny", "--data", str(digits_folder), "--set"]
    settings = ["train.distribute=data_parallel", "train.batch_size=32", "train.learning_rate=0.001", "train.epochs=1"]
    settings.append("data.limit=400")
    ran = subprocess.run(
        [sys.executable, "-c", TWO_TF_CPUS, *args, *settings],
        cwd=ROOT,
        env={**os.environ, "KERAS_BACKEND": "tensorflow"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert ran.returncode == 0, ran.stdout[-2000:] + ran.stderr[-3000:]
    assert "data parallel (data_parallel): 2 devices" in ran.stdout
    assert "global batch 64 (32 per device), learning rate 0.002 (0.001 x 2)" in ran.stdout
    # 320 training rows (a fifth held out): 5 steps of 64, where one device at 32 would take 10
    assert epoch_steps(ran.stdout) == [5], ran.stdout[-2000:]


DATA_PARALLEL_JAX = textwrap.dedent("""
    import pathlib, sys
    import jax, keras, numpy as np
    import pandas as pd
    from kit.config import competitions
    from kit.training import runs
    from kit.data.pixels import Images

    class WhereAreTheWeights(keras.callbacks.Callback):
        def on_train_end(self, logs=None):
            devices = len(self.model.trainable_variables[0].value.sharding.device_set)
            print("WEIGHTS ON", devices, "DEVICES,", self.params["steps"], "STEPS")

    assert len(jax.devices()) == 2, jax.devices()
    rng = np.random.default_rng(0)
    labels = np.arange(256) % 10
    images = Images(rng.integers(0, 255, (256, 28, 28, 1), dtype="uint8"), labels, np.arange(256), None)
    # one device at the global batch and rate == two devices at half the batch each, scaled
    for name, mode, batch, rate, train_rows, metric in [
        ("one", "off", 64, 0.002, 192, "accuracy"),
        ("two", "data_parallel", 32, 0.001, 192, "accuracy"),
        ("uneven", "data_parallel", 32, 0.001, 191, "log_loss"),  # padded to 192; val rows 63 -> 64
    ]:
        cfg = competitions.load_config("digits", "tiny", [
            f"train.distribute={mode}", f"train.batch_size={batch}", f"train.learning_rate={rate}",
            "train.model=dense", "train.epochs=2", f"competition.metric={metric}"])
        folder = pathlib.Path(sys.argv[1]) / name
        result = runs.fit(cfg, images, np.arange(train_rows), np.arange(193, 256), folder, verbose=0,
                          extra_callbacks=(WhereAreTheWeights(),))
        assert result.val_probabilities.shape == (63, 10), result.val_probabilities.shape
        print("LOSS", name, pd.read_csv(folder / "history.csv")["loss"].round(5).tolist())
""")


@pytest.mark.jax
@pytest.mark.slow
@pytest.mark.skipif(not backend_available("jax"), reason="JAX is not installed (pip install -e '.[jax]')")
def test_data_parallel_on_two_jax_cpus_equals_one_device_at_the_global_batch(tmp_path):
    env = {**os.environ, "KERAS_BACKEND": "jax", "XLA_FLAGS": "--xla_force_host_platform_device_count=2"}
    result = subprocess.run(
        [sys.executable, "-c", DATA_PARALLEL_JAX, str(tmp_path)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    lines = result.stdout.splitlines()
    weights = [x for x in lines if x.startswith("WEIGHTS ON")]
    assert weights == [
        "WEIGHTS ON 1 DEVICES, 3 STEPS",
        "WEIGHTS ON 2 DEVICES, 3 STEPS",
        "WEIGHTS ON 2 DEVICES, 3 STEPS",
    ]
    assert sum("global batch 64 (32 per device), learning rate 0.002 (0.001 x 2)" in x for x in lines) == 2
    one, two, _ = (x.split(" ", 2)[2] for x in lines if x.startswith("LOSS"))
    # the same seed, the same global batch and rate: splitting it over two devices changes nothing
    assert one == two and one.count(",") == 1  # two epochs
