"""Deterministic training (`train.deterministic`): the same data, config and seeds give the same
weights, so that `make reproduce` can re-create a submission bit for bit on the same machine.

Seeds alone (`keras.utils.set_random_seed`, which every fit calls) fix what is drawn; these
switches fix how floating-point sums are ordered:

- TensorFlow: `tf.config.experimental.enable_op_determinism()` picks deterministic kernels (on a
  GPU, cuDNN's atomics-free ones) and makes tf.data ordered. It is process-wide, so every fit sets
  it anew. Its kernels give other numbers than the default ones (both repeatable on a CPU), so a
  run is reproduced with the setting it was trained with. On this 2-core CPU the kit's training
  was bit-identical from process to process even without it, and it cost nothing measurable: a
  steady epoch of the default Fashion-MNIST `cnn` took 42.7 CPU seconds without and 42.5 with,
  three alternated rounds each (`bench/HISTORY.md`, "What deterministic ops cost"); so `auto`
  turns it on where there is no GPU.
- JAX: no runtime switch. XLA on a CPU is deterministic for a given program and thread count; on a
  GPU the equivalent is the XLA flag `--xla_gpu_deterministic_ops=true`, read once when JAX starts
  its backend, so `set_xla_flag` puts it in `XLA_FLAGS` before Keras is imported (`kit.cli`).
- scikit-learn: seeded through every `random_state` and fitted with one BLAS thread
  (`kit.training.sklearn_kind`), so its reductions are ordered already.

What stays outside any switch, and is recorded for `make reproduce` to report: the library
versions, the device and the CPU count (thread pools split reductions by the number of threads).
"""

from __future__ import annotations

import os

XLA_DETERMINISTIC = "--xla_gpu_deterministic_ops=true"


def wanted(mode: str, gpu: bool) -> bool:
    """Whether `train.deterministic=mode` means deterministic ops on this device."""
    return mode == "on" or (mode == "auto" and not gpu)


def set_xla_flag(mode: str) -> None:
    """`train.deterministic=on`: XLA's deterministic GPU ops, for JAX (and TensorFlow's XLA).
    Must run before the backend starts: XLA reads its flags once."""
    flags = os.environ.get("XLA_FLAGS", "")
    if mode == "on" and XLA_DETERMINISTIC not in flags:
        os.environ["XLA_FLAGS"] = f"{flags} {XLA_DETERMINISTIC}".strip()


def apply(mode: str, gpu: bool, backend: str) -> bool:
    """Switch deterministic ops on or off for the next fit; returns whether they are on."""
    on = wanted(mode, gpu)
    if backend == "tensorflow":
        # TensorFlow exports only the switch on; its module also has the switch off, which an
        # earlier fit's setting in the same process needs (a reproduction may mix old and new runs)
        from tensorflow.python.framework import config as tf_config

        if on:
            tf_config.enable_op_determinism()
        else:
            tf_config.disable_op_determinism()
    return on
