"""The fine-tuning recipe's keys measured where they apply to the kit's own network: the
Fashion-MNIST recipe (competitions/fashion-mnist, embedded sample) trained once per variant, one
after another in one process, each scored on the sample's 1,900 test images; the baseline's kept
checkpoint is then predicted with each TTA variant (flips and shifts against crops).

    python bench/recipe_keys.py [--variants base,ema99,...] [--epochs 24] [--seeds 42]

Prints one line per variant and writes a Markdown table (for docs/performance.md) to stdout.
Discriminative rates and progressive resizing need a pretrained KerasHub backbone: not measured here.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kit import config, data  # noqa: E402, I001  (the kit's TensorFlow settings before TensorFlow loads)
from kit.config import competitions  # noqa: E402
from kit.data.splits import make_splits  # noqa: E402
from kit.predict import predict_checkpoint  # noqa: E402
from kit.training.runs import fit  # noqa: E402

VARIANTS = {
    "base": [],
    "warmup0": ["train.warmup_fraction=0"],
    "warmup10": ["train.warmup_fraction=0.1"],
    "ema99": ["train.ema=0.99"],
    "ema999": ["train.ema=0.999"],
    "mixup02": ["augment.mixup=0.2"],
    "cutmix1": ["augment.cutmix=1.0"],
    "accum2": ["train.gradient_accumulation=2"],
}
# TTA on the baseline's checkpoint: (views, crop fraction); the recipe's own is 8 views, no crops
TTA = {"none": (1, 0.0), "flip": (2, 0.0), "recipe8": (8, 0.0), "crops7_0.875": (7, 0.875), "crops7_0.9": (7, 0.9)}


def accuracy(cfg, checkpoint: Path, loaded) -> float:
    probabilities = predict_checkpoint(checkpoint, cfg, loaded.test.images)
    return float((probabilities.argmax(1) == loaded.test.labels).mean())


def run(variant: str, seed: int, epochs: int | None) -> dict:
    overrides = [*VARIANTS[variant], f"train.seed={seed}"] + ([f"train.epochs={epochs}"] if epochs else [])
    cfg = competitions.load_config("fashion-mnist", None, overrides)
    loaded = data.load(cfg)
    train_index, val_index = make_splits(loaded.train.labels, cfg.data)[0]
    with tempfile.TemporaryDirectory() as work:
        started = time.perf_counter()
        result = fit(cfg, loaded.train, train_index, val_index, Path(work) / "fold0", verbose=0)
        seconds = time.perf_counter() - started
        row = {
            "variant": variant,
            "seed": seed,
            "seconds": round(seconds),
            "test": accuracy(cfg, result.checkpoint, loaded),
        }
        if variant == "base":
            for name, (views, crop) in TTA.items():
                tta_cfg = config.replace(cfg, predict={"tta": views, "tta_crop": crop})
                row[f"tta_{name}"] = accuracy(tta_cfg, result.checkpoint, loaded)
    print(row, flush=True)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variants", default=",".join(VARIANTS))
    parser.add_argument("--seeds", default="42")
    parser.add_argument("--epochs", type=int, default=0, help="0 = the recipe's own (24)")
    args = parser.parse_args()
    rows = [run(v, int(s), args.epochs) for s in args.seeds.split(",") for v in args.variants.split(",")]
    print("\n| variant | seed | seconds | test accuracy (1,900 images, the recipe's TTA) |\n| --- | --- | --- | --- |")
    for row in rows:
        print(f"| {row['variant']} | {row['seed']} | {row['seconds']} | {row['test']:.4f} |")
    for row in rows:
        for key in (k for k in row if k.startswith("tta_")):
            print(f"| TTA {key[4:]} (seed {row['seed']}) | | | {row[key]:.4f} |")


if __name__ == "__main__":
    main()
