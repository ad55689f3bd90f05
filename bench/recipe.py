"""`make bench` part 3: the training recipe, old against new and the fastai peer, side by side in one run.

    1. `make run` on the embedded sample, as a user types it, once per recipe and alternated
       (`--rounds`): total wall seconds and the test accuracy scored on the sample's test labels;
       the recipe `fastai` is the peer instead: bench/fastai_peer.py (fastai's course ResNet,
       `fit_one_cycle(22, 3e-3)`, `learn.tta()`; the pixels in memory as one uint8 tensor,
       fastai's fastest path, or with `fastai-pil` a PIL image made per item, its slowest) on
       the same CSVs and the kit's split, run by the python of a venv of its own
       (bench/fastai-peer.txt) that this script builds once into ~/.cache/kit, timed as a whole
       command the same way;
    2. full Fashion-MNIST: wall seconds from model building to 0.90 / 0.92 / 0.93 test accuracy
       (test set scored after every epoch, no TTA), the best accuracy, and the accuracy of the
       kept checkpoint with the recipe's TTA, each recipe given the same `--budget`.

A recipe is a preset of competitions/fashion-mnist/competition.toml ("" = the default, which is
the new recipe; `classic` is the recipe it replaced) or `fastai` / `fastai-pil` (the peer; sample part only).
Rows go to bench/recipe.csv and a section to bench/RESULTS.md.

    python bench/recipe.py [--data DIR] [--recipes ,classic,fastai] [--budget 600] [--parts sample,full]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# the kit before Keras: its TensorFlow settings (oneDNN kernels, quiet logs) apply only before TensorFlow loads
from kit import data  # noqa: E402, I001
import keras  # noqa: E402

from bench import environment, write_results  # noqa: E402
from peer import peer_python  # noqa: E402
from kit.config import competitions  # noqa: E402
from kit.data.splits import make_splits, save_splits  # noqa: E402
from kit.predict import predict_checkpoint  # noqa: E402
from kit.training import keras_kind  # noqa: E402
from kit.training.runs import fit  # noqa: E402

TARGETS = (0.90, 0.92, 0.93)
# on the full data the default recipe runs as a user would run it there, `PRESET=full`: the same
# recipe with fewer epochs, sized to the 600 s budget on a 2-core CPU (competition.toml)
FULL_DATA_PRESET = {"": "full"}
# the recipe names of the fastai peer: its in-memory tensor path (fastai's fastest for pixels) and
# its per-item PIL path (fastai_peer.py --data)
PEERS = {"fastai": "tensor", "fastai-pil": "pil"}


def label(recipe: str) -> str:
    return recipe or "new"


def make_run(recipe: str) -> dict:
    """`python -m kit run` on the embedded sample, in a fresh work folder; its own printed
    test accuracy (scored on the sample's test labels) and the wall seconds of the command."""
    with tempfile.TemporaryDirectory() as work:
        command = [sys.executable, "-m", "kit", "run", *(["--preset", recipe] if recipe else [])]
        started = time.perf_counter()
        env = {**os.environ, "KIT_WORKDIR": work}
        done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
        seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"make run ({label(recipe)}) failed:\n{done.stderr[-2000:]}")
    accuracy = float(re.search(r"test (?:\w+ [\d.]+, )?accuracy ([\d.]+)", done.stdout).group(1))
    print(f"   make run, {label(recipe)} recipe: {seconds:.0f} s, test accuracy {accuracy:.4f}", flush=True)
    return {"seconds": seconds, "accuracy": accuracy}


def peer_run(python: Path, train: Path, test: Path, split: Path, path: str) -> dict:
    """bench/fastai_peer.py on the sample's CSVs and the kit's split, timed as a whole command
    like `make run` (interpreter start, imports and CSV reading included)."""
    command = [
        str(python),
        "-I",
        str(ROOT / "bench" / "fastai_peer.py"),
        str(train),
        str(test),
        "--split",
        str(split),
        "--data",
        path,
    ]
    with tempfile.TemporaryDirectory() as work:
        started = time.perf_counter()
        done = subprocess.run(command, cwd=work, capture_output=True, text=True)
        seconds = time.perf_counter() - started
    if done.returncode != 0 or "RESULT " not in done.stdout:
        raise SystemExit(f"the fastai peer failed:\n{done.stdout[-1000:]}\n{done.stderr[-2000:]}")
    result = json.loads(done.stdout.rsplit("RESULT ", 1)[1])
    print(f"   fastai peer ({path} path): {seconds:.0f} s, test accuracy with TTA {result['accuracy']:.4f}", flush=True)
    return {"seconds": seconds, "accuracy": result["accuracy"], "script_seconds": result["seconds"]} | {
        name: result[name] for name in ("fastai", "torch")
    }


def compare_sample(recipes: list[str], rounds: int) -> dict:
    print(f"1. make run on the embedded sample, {rounds} alternated round(s)", flush=True)
    with tempfile.TemporaryDirectory() as folder:
        if PEERS.keys() & set(recipes):  # built before anything is timed; the kit's own split of the sample
            python, split = peer_python(), Path(folder) / "split.npz"
            cfg = competitions.load_config("fashion-mnist")
            loaded = data.load(cfg)
            save_splits(make_splits(loaded.train.labels, cfg.data), split)
        results: dict[str, list[dict]] = {recipe: [] for recipe in recipes}
        for _ in range(rounds):
            for recipe in recipes:
                if recipe in PEERS:
                    source = (loaded.train.source, loaded.test.source)
                    results[recipe].append(peer_run(python, *source, split, PEERS[recipe]))
                else:
                    results[recipe].append(make_run(recipe))
    row = {}
    for recipe, runs in results.items():
        for measure in ("seconds", "accuracy", "script_seconds"):
            if measure in runs[0]:
                row[f"sample_{label(recipe)}_{measure}"] = float(np.median([r[measure] for r in runs]))
    for peer in PEERS.keys() & set(recipes):
        row |= {name: results[peer][0][name] for name in ("fastai", "torch")}
    return row


class TestAccuracy(keras.callbacks.Callback):
    """Test accuracy after every epoch, predicted as `make predict` would (the recipe's TTA),
    against the seconds of training since `start`: the probe's own time is left out. Stops the
    fit once the budget is spent."""

    def __init__(self, cfg, x, y, start: float, budget: float):
        super().__init__()
        self.cfg, self.x, self.y, self.start, self.budget = cfg, x, y, start, budget
        self.points, self.probing = [], 0.0

    def on_epoch_end(self, epoch, logs=None):
        probe_started = time.perf_counter()
        seconds = probe_started - self.start - self.probing
        accuracy = float((keras_kind.predict(self.model, self.cfg, self.x).argmax(1) == self.y).mean())
        self.points.append((seconds, accuracy))
        print(f"   epoch {epoch + 1}: {seconds:.0f} s, test accuracy {accuracy:.4f}", flush=True)
        self.probing += time.perf_counter() - probe_started
        if seconds > self.budget:
            self.model.stop_training = True


def full_run(recipe: str, folder: str, budget: float) -> dict:
    """The recipe's own fit (its split, schedule, checkpoint) on the full training set."""
    preset = FULL_DATA_PRESET.get(recipe, recipe)
    cfg = competitions.load_config("fashion-mnist", preset or None, [f"data.dir={folder}"])
    loaded = data.load(cfg)
    train_index, val_index = make_splits(loaded.train.labels, cfg.data)[0]
    print(
        f"2. full Fashion-MNIST, {label(recipe)} recipe (preset '{preset}'): {len(train_index)} training rows",
        flush=True,
    )
    with tempfile.TemporaryDirectory() as work:
        probe = TestAccuracy(cfg, loaded.test.images, loaded.test.labels, time.perf_counter(), budget)
        result = fit(
            cfg, loaded.train, train_index, val_index, Path(work) / "fold0", extra_callbacks=(probe,), verbose=0
        )
        final = predict_checkpoint(result.checkpoint, cfg, loaded.test.images)
    name = label(recipe)
    row = {f"full_{name}_seconds_to_{t}": next((s for s, a in probe.points if a >= t), None) for t in TARGETS}
    row[f"full_{name}_best_accuracy"] = max(a for _, a in probe.points)
    row[f"full_{name}_kept_with_tta"] = float((final.argmax(1) == loaded.test.labels).mean())
    row[f"full_{name}_epochs"] = len(probe.points)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(ROOT.parent / "shared" / "data" / "fashion-mnist"))
    parser.add_argument(
        "--recipes",
        default=",classic,fastai",
        help="presets, comma-separated ('' = the default; fastai, fastai-pil: the peer)",
    )
    parser.add_argument("--budget", type=float, default=600, help="seconds per recipe on the full data")
    parser.add_argument("--rounds", type=int, default=1, help="alternated make run rounds on the sample")
    parser.add_argument("--parts", default="sample,full")
    args = parser.parse_args()
    recipes, parts = args.recipes.split(","), set(args.parts.split(","))
    row = environment() | {"recipes": " vs ".join(label(r) for r in recipes)}
    if "sample" in parts:
        row |= compare_sample(recipes, args.rounds)
    if "full" in parts:
        for recipe in recipes:
            if recipe not in PEERS:  # the peer is measured on the sample only
                row |= full_run(recipe, args.data, args.budget)
    versions = f" · fastai {row['fastai']} · torch {row['torch']}" if "fastai" in row else ""
    write_results(row, "recipe.csv", title="recipe" + versions)


if __name__ == "__main__":
    main()
