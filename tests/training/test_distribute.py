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
    settings = ["train.distribute=data_parallel", "train.batch_size=32", "train.epochs=1", "data.limit=400"]
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
