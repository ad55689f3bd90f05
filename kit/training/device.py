"""The machine a network runs on, and the floating-point precision it runs in.

`train.mixed_precision` names a rule (`auto`, `auto_bfloat16`, `off`) or a Keras dtype policy;
`resolve_policy` turns it into the policy for this machine, probing only what the rule asks
(a GPU, a CPU with native bfloat16, TensorFlow's oneDNN kernels).

Keras' dtype policy is process-wide, and every layer built while it is set keeps it. So a policy
is only ever set inside `policy(...)`, which restores the one before it (also on an exception or
Ctrl-C): a fit in mixed_bfloat16 leaves nothing behind for the prediction after it, which runs
under the policy its run recorded (`recorded_policy`), whatever the process did before.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from pathlib import Path

FLOAT32 = "float32"
# Keras is imported where a policy is set or a device probed: reading which policy a run
# recorded (every `make predict`, scikit-learn runs too) costs TensorFlow's seconds only when needed


def resolve_policy(mode: str) -> str:
    """The Keras policy for `train.mixed_precision`. `auto`: mixed_float16 on a GPU, float32
    elsewhere. `auto_bfloat16`: the same, except mixed_bfloat16 on a CPU whose cores multiply
    bfloat16 themselves (AVX512-BF16 or AMX, with TensorFlow's oneDNN kernels): a training step of
    `air` 1.3x as fast on a Zen 5 EPYC at the same accuracy (docs/performance.md). Opt-in, per
    recipe: a few epochs on a hundred images learnt visibly less reliably in bfloat16."""
    chosen = {"off": lambda: FLOAT32, "auto": gpu_policy, "auto_bfloat16": bfloat16_cpu_policy}
    return chosen[mode]() if mode in chosen else mode  # only the asked-for rule probes the machine


@contextlib.contextmanager
def policy(name: str | None) -> Iterator[str | None]:
    """Keras' global dtype policy is `name` inside the block and the previous one again after it,
    however the block ends. None (no network, or a run that recorded none) leaves it alone."""
    if name is None:
        yield None
        return
    import keras

    previous = keras.mixed_precision.global_policy()
    keras.mixed_precision.set_global_policy(name)
    try:
        yield name
    finally:
        keras.mixed_precision.set_global_policy(previous)


def training_precision(mode: str) -> contextlib.AbstractContextManager[str]:
    """`policy(...)` of `train.mixed_precision` on this machine: what a fit runs in."""
    return policy(resolve_policy(mode))


def recorded_policy(fold_dir: Path) -> str | None:
    """The policy a fold's network trained under: its fold.json, else its run's run.json (a kit
    that recorded it per run only); None when neither names one policy (a scikit-learn fold, a
    run of an older kit: its checkpoint still carries each layer's policy)."""
    for path, keys in ((fold_dir / "fold.json", ("precision",)), (fold_dir.parent / "run.json", KEYS)):
        try:
            record = json.loads(path.read_text())
            for key in keys:
                record = record.get(key)
        except (OSError, ValueError, AttributeError):
            continue
        if isinstance(record, str) and record and "," not in record:  # "a, b": folds differed
            return record
    return None


KEYS = ("environment", "precision")  # where run.json keeps it (kit.provenance.environment)


def gpu_policy() -> str:
    return "mixed_float16" if has_gpu() else FLOAT32


def bfloat16_cpu_policy() -> str:
    """mixed_bfloat16 on a CPU with native bfloat16 (where it would otherwise be emulated, and slower)."""
    import keras

    native = keras.backend.backend() == "tensorflow" and onednn_enabled() and cpu_has_bfloat16()
    return "mixed_bfloat16" if native and not has_gpu() else gpu_policy()


def onednn_enabled() -> bool:
    """TensorFlow's oneDNN CPU kernels, the only ones with a bfloat16 path (on by default: kit/__init__.py)."""
    return os.environ.get("TF_ENABLE_ONEDNN_OPTS", "1").strip().lower() not in ("0", "false", "off")


BFLOAT16_FLAGS = {"avx512_bf16", "amx_bf16"}  # x86 CPU flags of native bfloat16 dot products


def cpu_has_bfloat16(cpuinfo: Path = Path("/proc/cpuinfo")) -> bool:
    """Whether the CPU has native bfloat16 arithmetic (Linux's CPU flags; False where unknown)."""
    try:
        text = cpuinfo.read_text()
    except OSError:  # not Linux: macOS, Windows
        return False
    flags = next((line.split(":", 1)[1].split() for line in text.splitlines() if line.startswith("flags")), [])
    return bool(BFLOAT16_FLAGS & set(flags))


def has_gpu() -> bool:
    import keras

    backend = keras.backend.backend()
    if backend == "jax":
        import jax

        return jax.default_backend() == "gpu"
    if backend == "tensorflow":
        import tensorflow as tf

        return bool(tf.config.list_physical_devices("GPU"))
    return False
