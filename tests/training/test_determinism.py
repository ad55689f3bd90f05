"""`train.deterministic`: auto is on without a GPU, off with one; TensorFlow's switch follows it."""

import pytest

from kit.config import competitions
from kit.errors import KitError
from kit.training import determinism


def test_auto_means_on_for_a_cpu_and_off_for_a_gpu():
    assert determinism.wanted("auto", gpu=False) is True
    assert determinism.wanted("auto", gpu=True) is False
    assert determinism.wanted("on", gpu=True) is True
    assert determinism.wanted("off", gpu=False) is False


def test_tensorflow_op_determinism_follows_each_fit():
    pytest.importorskip("tensorflow")
    from tensorflow.python.framework import config as tf_config

    try:
        assert determinism.apply("auto", gpu=False, backend="tensorflow") is True
        assert tf_config.is_op_determinism_enabled()
        assert determinism.apply("off", gpu=False, backend="tensorflow") is False
        assert not tf_config.is_op_determinism_enabled()
    finally:
        tf_config.disable_op_determinism()


def test_on_sets_xla_deterministic_gpu_ops_once(monkeypatch):
    monkeypatch.setenv("XLA_FLAGS", "--xla_dump_to=/tmp/x")
    determinism.set_xla_flag("auto")
    assert "deterministic" not in determinism.os.environ["XLA_FLAGS"]
    determinism.set_xla_flag("on")
    determinism.set_xla_flag("on")
    assert determinism.os.environ["XLA_FLAGS"] == "--xla_dump_to=/tmp/x --xla_gpu_deterministic_ops=true"


def test_the_key_takes_only_its_choices():
    assert competitions.load_config("digits").train.deterministic == "auto"
    with pytest.raises(KitError, match="'train.deterministic' must be one of auto, on, off"):
        competitions.load_config("digits", overrides=["train.deterministic=yes"])
