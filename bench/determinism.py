"""What `train.deterministic=on` costs: the default Fashion-MNIST `cnn` with it off and on.

Each round trains both settings, alternated, each in its own process (TensorFlow's switch is
process-wide), for EPOCHS epochs on the embedded sample's 80% split; it prints the CPU and wall
seconds of every epoch and a hash of the trained weights (equal hashes: repeatable training).
The figures in docs/reproduce.md come from `python bench/determinism.py --rounds 3 --epochs 2`.
"""

from __future__ import annotations

import argparse
import hashlib
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def train_once(mode: str, epochs: int) -> None:
    """One fit in this process; prints one line per epoch and the weights' hash."""
    sys.path.insert(0, str(ROOT))
    import keras
    import numpy as np

    from kit import data
    from kit.config import competitions
    from kit.data.splits import make_splits
    from kit.training import keras_kind

    class EpochTimer(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.wall, self.cpu = time.perf_counter(), time.process_time()

        def on_epoch_end(self, epoch, logs=None):
            wall, cpu = time.perf_counter() - self.wall, time.process_time() - self.cpu
            print(f"{mode} epoch {epoch + 1}: {cpu:.1f} CPU s, {wall:.1f} wall s", flush=True)

    cfg = competitions.load_config("fashion", overrides=[f"train.epochs={epochs}", f"train.deterministic={mode}"])
    train = data.load(cfg, with_test=False).train
    ((train_index, val_index),) = make_splits(train.labels, cfg.data)
    with tempfile.TemporaryDirectory() as folder:
        timer = (EpochTimer(),)
        result = keras_kind.fit(cfg, train, train_index, val_index, Path(folder), extra_callbacks=timer, verbose=0)
        weights = keras_kind.load(result.checkpoint).get_weights()
    digest = hashlib.sha256(b"".join(np.ascontiguousarray(w).tobytes() for w in weights)).hexdigest()
    print(f"{mode} weights {digest[:16]}, validation accuracy {result.scores['accuracy']:.4f}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--mode", help=argparse.SUPPRESS)  # one fit, in a child process
    args = parser.parse_args()
    if args.mode:
        train_once(args.mode, args.epochs)
        return
    for round_number in range(args.rounds):
        for mode in ("off", "on") if round_number % 2 == 0 else ("on", "off"):
            command = [sys.executable, __file__, "--mode", mode, "--epochs", str(args.epochs)]
            subprocess.run(command, check=True, cwd=ROOT)


if __name__ == "__main__":
    main()
