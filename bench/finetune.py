"""`make bench` part 4: fine-tuning throughput, the kit (TensorFlow and JAX) beside timm + PyTorch.

For each backbone (the same architecture on both sides, random weights: no network here) at
224 px, the same batch and precision, each side in a process of its own, alternated in one run
(kit on TensorFlow, timm, kit on JAX, timm, ... for `--rounds`): training images per second over
`--steps` timed steps after a warm-up, and the process's peak resident memory (ru_maxrss).

The kit's side is the kit's own fine-tuning path: `keras_kind.build_model` (input scaling, the
KerasHub backbone, the kit's head) with the whole backbone unfrozen by `fine_tune.unfreeze_top`
(BatchNorm frozen, in inference mode, as the kit fine-tunes), `keras_kind.compile_model`
(Adam, the config's jit_compile) under the kit's precision context, and `model.fit` over the
kit's in-memory data path (`keras_kind.training_data`: one endless tf.data pipeline on
TensorFlow, arrays on JAX), no augmentation. timm's side: bench/timm_peer.py, run by the peer
venv's python (bench/fastai-peer.txt), with the same frozen BatchNorm, head, optimizer and data.

    python bench/finetune.py [--models resnet_18_imagenet:resnet18,...] [--precisions bfloat16,float32]
                             [--batch 32] [--steps 8] [--rounds 2] [--sides kit-tf,timm,kit-jax,timm]

Rows go to bench/finetune.csv and a section to bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
# the kit's KerasHub preset : timm's name for the same architecture
MODELS = "resnet_18_imagenet:resnet18,efficientnet_b0_ra_imagenet:efficientnet_b0"
POLICY = {"bfloat16": "mixed_bfloat16", "float32": "off"}  # train.mixed_precision for each precision


def kit_config(model: str, precision: str, batch: int, jit: str):
    from kit.config import competitions

    overrides = [
        f"train.model={model}",
        "train.weights=none",
        f"train.batch_size={batch}",
        f"train.mixed_precision={POLICY[precision]}",
        f"train.jit_compile={jit}",
        "train.learning_rate=1e-4",  # the fine-tuning rate (train.fine_tune_learning_rate)
        "train.schedule=plateau",
        "train.label_smoothing=0.0",
        "train.dropout=0.2",
        "data.height=224",
        "data.width=224",
        "data.channels=3",
        "augment.width_shift_range=0.0",  # timm's side has no augmentation either
        "augment.height_shift_range=0.0",
        "augment.horizontal_flip=false",
    ]
    return competitions.load_config("fashion-mnist", overrides=overrides)


def kit_side(model: str, precision: str, batch: int, steps: int, jit: str) -> dict:
    """The kit's fine-tuning steps in this process (KERAS_BACKEND chosen by the parent)."""
    import keras

    from kit import data, targets  # noqa: F401  (the kit's TensorFlow settings before Keras loads)
    from kit.data.pixels import Images
    from kit.training import device, keras_kind
    from kit.training.fine_tune import find_backbone, unfreeze_top

    cfg = kit_config(model, precision, batch, jit)
    keras.utils.set_random_seed(42)
    rng = np.random.default_rng(42)
    rows = batch * steps
    images = Images(
        rng.integers(0, 256, (rows, 224, 224, 3), dtype=np.uint8),
        rng.integers(0, 10, rows),
        np.arange(rows),
        Path("random"),
    )
    onehot = targets.for_config(cfg).encode(images, cfg)
    index = np.arange(rows)
    x, y, _, _ = keras_kind.training_data(cfg, images, onehot, index, index[:batch])
    with device.training_precision(cfg.train.mixed_precision) as policy:
        network = keras_kind.build_model(cfg)
        backbone = find_backbone(network)
        unfreeze_top(backbone, len(backbone.layers))  # the whole backbone, BatchNorm frozen
        keras_kind.compile_model(network, cfg, steps)
        started = time.perf_counter()
        network.fit(x, y, batch_size=batch, epochs=1, steps_per_epoch=2, verbose=0)  # compile, warm up
        warm, cpu = time.perf_counter(), time.process_time()
        history = network.fit(x, y, batch_size=batch, epochs=1, steps_per_epoch=steps, verbose=0)
        seconds, cpu_seconds = time.perf_counter() - warm, time.process_time() - cpu
    return {
        "images_per_s": round(batch * steps / seconds, 3),
        "images_per_cpu_s": round(batch * steps / cpu_seconds, 3),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "warmup_s": round(warm - started, 1),
        "loss": round(float(history.history["loss"][-1]), 4),
        "policy": policy,
        "jit_compile": jit,
        "trainable_weights": len(network.trainable_weights),
    }


def run_side(side: str, kit_model: str, timm_model: str, args, python: Path | None) -> dict:
    """One side's measurement in a fresh process; its RESULT line, parsed."""
    common = ["--precision", args.precision_now, "--batch", str(args.batch), "--steps", str(args.steps)]
    if side == "timm":
        command = [str(python), "-I", str(ROOT / "bench" / "timm_peer.py"), timm_model, *common]
        command += ["--compile"] if args.torch_compile else []
        env = dict(os.environ)
    else:
        command = [sys.executable, str(Path(__file__)), "--child", kit_model, "--jit", args.jit, *common]
        env = {**os.environ, "KERAS_BACKEND": {"kit-tf": "tensorflow", "kit-jax": "jax"}[side]}
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    if done.returncode != 0 or "RESULT " not in done.stdout:
        raise SystemExit(f"{side} on {kit_model} failed:\n{done.stdout[-1000:]}\n{done.stderr[-3000:]}")
    result = json.loads(done.stdout.rsplit("RESULT ", 1)[1])
    print(
        f"   {side:7s} {timm_model:16s} {args.precision_now}: {result['images_per_s']:.2f} images/s, "
        f"{result['images_per_cpu_s']:.2f} per CPU second, "
        f"peak RSS {result['peak_rss_mb']:.0f} MB (warm-up {result['warmup_s']} s)",
        flush=True,
    )
    return result


def measure(args, python: Path | None) -> dict:
    """Every side of every model and precision, alternated round by round; medians and ratios."""
    results: dict[tuple, list[dict]] = {}
    for round_number in range(args.rounds):
        print(f"round {round_number + 1} of {args.rounds}", flush=True)
        for precision in args.precisions.split(","):
            args.precision_now = precision
            for pair in args.models.split(","):
                kit_model, timm_model = pair.split(":")
                for side in args.sides.split(","):
                    key = (timm_model, precision, side)
                    results.setdefault(key, []).append(run_side(side, kit_model, timm_model, args, python))
    row = {}
    for (timm_model, precision, side), runs in results.items():
        name = f"{timm_model}_{precision}_{side.replace('-', '_')}"
        row[f"{name}_images_per_s"] = float(np.median([r["images_per_s"] for r in runs]))
        row[f"{name}_images_per_cpu_s"] = float(np.median([r["images_per_cpu_s"] for r in runs]))
        row[f"{name}_peak_rss_mb"] = float(np.median([r["peak_rss_mb"] for r in runs]))
    for (timm_model, precision, side), _ in results.items():
        prefix = f"{timm_model}_{precision}"
        if side != "timm" and f"{prefix}_timm_images_per_s" in row:
            name = f"{prefix}_{side.replace('-', '_')}"
            row[f"{name}_vs_timm"] = row[f"{name}_images_per_s"] / row[f"{prefix}_timm_images_per_s"]
            row[f"{name}_vs_timm_per_cpu_s"] = row[f"{name}_images_per_cpu_s"] / row[f"{prefix}_timm_images_per_cpu_s"]
    timm_runs = [runs[0] for (_, _, side), runs in results.items() if side == "timm"]
    if timm_runs:
        row |= {"torch": timm_runs[0]["torch"], "timm": timm_runs[0]["timm"]}
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default=MODELS, help="kit preset:timm name pairs, comma-separated")
    parser.add_argument("--precisions", default="bfloat16", help="bfloat16 and/or float32, comma-separated")
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--steps", type=int, default=8, help="timed training steps per measurement")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--sides", default="kit-tf,timm,kit-jax,timm", help="the order within a round")
    parser.add_argument("--jit", default="auto", choices=("auto", "on", "off"), help="the kit's train.jit_compile")
    parser.add_argument("--torch-compile", action="store_true", help="timm's side under torch.compile")
    parser.add_argument("--child", help=argparse.SUPPRESS)  # a kit preset: measure the kit's side here
    parser.add_argument("--precision", default="bfloat16", help=argparse.SUPPRESS)
    parser.add_argument("--note", default="", help="a line for RESULTS.md (e.g. what else shared the CPU)")
    args = parser.parse_args()
    if args.child:
        sys.path.insert(0, str(ROOT))
        result = kit_side(args.child, args.precision, args.batch, args.steps, args.jit)
        print("RESULT " + json.dumps(result), flush=True)
        return
    from peer import peer_python

    python = peer_python() if "timm" in args.sides.split(",") else None
    started = time.perf_counter()
    row = measure(args, python)
    row |= {"batch": args.batch, "steps": args.steps, "rounds": args.rounds, "kit_jit_compile": args.jit}
    row |= {"torch_compile": args.torch_compile, "seconds": round(time.perf_counter() - started)}
    if args.note:
        row["note"] = args.note
    from bench import environment, write_results  # Keras loads only now, after the measurements

    write_results(environment() | row, "finetune.csv", title="fine-tuning, kit (TF, JAX) vs timm")


if __name__ == "__main__":
    main()
