"""Data parallelism (`train.distribute`): the model replicated on every local device, each step's
batch split between them, the gradients summed.

    auto           data_parallel when more than one accelerator (GPU, TPU) is visible, as on
                   Kaggle's 2 x T4 kernels; off otherwise, so a CPU or a single GPU trains exactly
                   as with `off`
    off            one device
    data_parallel  every local device: the accelerators, else the CPUs (one, unless the process
                   was started with several virtual ones, which is how it is tested)

With N replicas `train.batch_size` is the batch of ONE device: the global batch is N times it and
the learning rates (`learning_rate`, `fine_tune_learning_rate`) are scaled linearly by N (Goyal et
al. 2017, "Accurate, Large Minibatch SGD"), so a config tuned on one GPU keeps its memory per
device and its step per example. `global_config` is the one place that does it; the fit and every
count of steps per epoch (the one-cycle schedule's) read the config it returns.

The engines are Keras' own: `keras.distribution.DataParallel` on JAX (one SPMD program, each batch
sharded along its first axis over the devices; batch statistics stay global), and
`tf.distribute.MirroredStrategy` on TensorFlow (a replica per device, gradients all-reduced;
BatchNormalization keeps per-replica statistics). JAX shards a batch only when the device count
divides it, so there the row counts are padded to a multiple of N by repeating at most N-1 rows:
in training they count twice an epoch, in the per-epoch validation monitor too; the fold's final
scores and out-of-fold probabilities are predicted on one device over the exact rows.

Deterministic mode (`train.deterministic`) with several devices: TensorFlow's op determinism and
XLA's deterministic GPU ops still apply, and the all-reduce sums the replicas in a fixed order, so
a run repeats itself on the same machine with the same device count. It does not repeat a run
made on another device count: the global batch, the learning rate and the order of the sums all
change with N. `auto` decides by the devices it sees, so `make reproduce` on a machine with another
number of accelerators trains differently, and says so: a run's environment records the count
(`device`: "2 x gpu").
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

import keras
import numpy as np

from kit import config
from kit.config import Config
from kit.errors import KitError


@dataclass(frozen=True)
class Plan:
    """How one fit is spread: `devices` (empty when off) and the config to train with."""

    devices: tuple[str, ...]
    cfg: Config

    @property
    def replicas(self) -> int:
        return max(1, len(self.devices))

    def scope(self):
        """Build, compile and fit inside this (a no-op on one device)."""
        if not self.devices:
            return contextlib.nullcontext()
        if keras.backend.backend() == "jax":
            return keras.distribution.DataParallel(devices=list(self.devices)).scope()
        import tensorflow as tf

        return tf.distribute.MirroredStrategy(devices=list(self.devices)).scope()

    def batch(self, size: int) -> int:
        """`size` rounded up to a multiple of the device count (a prediction batch JAX can shard)."""
        return -(-size // self.replicas) * self.replicas

    def even(self, index: np.ndarray) -> np.ndarray:
        """`index` padded to a multiple of the device count by repeating its first rows (JAX
        shards only divisible batches; TensorFlow splits any batch, so there it is unchanged)."""
        short = -len(index) % self.replicas
        if not short or keras.backend.backend() != "jax":
            return index
        return np.concatenate([index, np.resize(index, short)])


def global_config(cfg: Config, replicas: int) -> Config:
    """`cfg` for `replicas` devices: the global batch (`train.batch_size` per device times the
    count) and the learning rates scaled by the count; `cfg` itself for one device.

    >>> from kit.config import layers
    >>> scaled = global_config(layers.resolve({}, overrides=["train.batch_size=32"]), 2)
    >>> (scaled.train.batch_size, scaled.train.learning_rate)
    (64, 0.002)
    """
    if replicas == 1:
        return cfg
    train = cfg.train
    return config.replace(
        cfg,
        train={
            "batch_size": train.batch_size * replicas,
            "learning_rate": train.learning_rate * replicas,
            "fine_tune_learning_rate": train.fine_tune_learning_rate * replicas,
        },
    )


def steps_per_epoch(cfg: Config, rows: int) -> int:
    """Optimizer steps in one epoch over `rows` rows, for the config `global_config` returned."""
    return -(-rows // cfg.train.batch_size)


def plan(cfg: Config) -> Plan:
    """The devices `cfg.train.distribute` trains on here, and the config scaled for them."""
    mode = cfg.train.distribute
    if mode == "off":
        return Plan((), cfg)
    backend = keras.backend.backend()
    if backend not in ("jax", "tensorflow"):
        if mode == "auto":
            return Plan((), cfg)
        raise KitError(f"train.distribute={mode} is not supported on the {backend} backend (use jax or tensorflow)")
    accelerators = accelerator_names(backend)
    if mode == "auto" and len(accelerators) < 2:
        return Plan((), cfg)
    devices = tuple(accelerators or cpu_names(backend))
    if len(devices) < 2:  # data_parallel on one device: the same program without the wrapper
        print(f"data parallel: one device here ({devices[0]}): trained as with train.distribute=off")
        return Plan((), cfg)
    scaled = global_config(cfg, len(devices))
    print(
        f"data parallel ({mode}): {len(devices)} devices ({', '.join(devices)}), global batch "
        f"{scaled.train.batch_size} ({cfg.train.batch_size} per device), learning rate "
        f"{scaled.train.learning_rate:g} ({cfg.train.learning_rate:g} x {len(devices)})"
    )
    return Plan(devices, scaled)


def accelerator_names(backend: str) -> list[str]:
    """The GPUs (or TPUs, on JAX) the backend sees, as 'gpu:0' or '/device:GPU:0'; none on a
    CPU-only machine. Listing TensorFlow's devices starts its runtime: only ever at fit time."""
    if backend == "jax":
        import jax

        return [] if jax.default_backend() == "cpu" else keras.distribution.list_devices()
    import tensorflow as tf

    return [d.name for d in tf.config.list_logical_devices("GPU")]


def cpu_names(backend: str) -> list[str]:
    if backend == "jax":
        return keras.distribution.list_devices("cpu")
    import tensorflow as tf

    return [d.name for d in tf.config.list_logical_devices("CPU")]
