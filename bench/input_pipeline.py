"""The image-folder input pipeline (living-species): decoding, and streaming batches from the cache.

    .venv/bin/python bench/input_pipeline.py [--count 1500] [--side 500] [--workers 1 2 4]

Writes `count` noisy JPEGs of side x 3/4 side pixels (a phone photo scaled down, like the
living-species images) into a temporary folder, then measures, in images per second:
  - decoding them to 64x64 and 224x224 RGB (kit.data.folders.decode_all) with 1, 2, 4 threads;
  - reading shuffled training batches back from the memory-mapped cache (kit.data.batches.Batches,
    what `data.stream=on` feeds to `fit`), against gathering the same batches from an array in
    memory (the `data.stream=off` path), one thread, warm page cache.
A section goes to bench/RESULTS.md and a row to bench/input_pipeline.csv (`make bench` runs it).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench import environment, write_results  # noqa: E402
from kit.data.batches import Batches  # noqa: E402
from kit.data.folders import decode_all  # noqa: E402


def write_photos(folder: Path, count: int, side: int) -> list[Path]:
    rng = np.random.default_rng(0)
    base = Image.fromarray(rng.integers(0, 255, (6, 8, 3), dtype=np.uint8)).resize((side, side * 3 // 4))
    files = []
    for i in range(count):
        noisy = np.asarray(base, dtype=np.int16) + rng.integers(-20, 21, (side * 3 // 4, side, 3))
        path = folder / f"{i:06d}.jpg"
        Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8)).save(path, quality=90)
        files.append(path)
    return files


def epoch_rate(images, batch: int = 64, epochs: int = 3) -> float:
    """Images/s of the best of `epochs` shuffled epochs of batches read from `images`."""
    batches = Batches(
        images, np.arange(len(images)), batch, onehot=np.zeros((len(images), 8), "float32"), shuffle=True, workers=1
    )
    best = 0.0
    for _ in range(epochs):
        started = time.perf_counter()
        for index in range(len(batches)):
            batches[index]
        best = max(best, len(images) / (time.perf_counter() - started))
        batches.on_epoch_end()
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1500)
    parser.add_argument("--side", type=int, default=500)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    args = parser.parse_args()
    row = environment() | {"photos": args.count, "photo_size": f"{args.side}x{args.side * 3 // 4}"}
    with tempfile.TemporaryDirectory() as tmp:
        files = write_photos(Path(tmp), args.count, args.side)
        for size in ((64, 64, 3), (224, 224, 3)):
            side = f"{size[0]}x{size[1]}"
            for workers in args.workers:
                started = time.perf_counter()
                decoded = decode_all(files, size, workers)
                row[f"decode_{side}_threads{workers}_per_s"] = len(files) / (time.perf_counter() - started)
                print(f"decode to {side}, {workers} threads: {row[f'decode_{side}_threads{workers}_per_s']:.0f}/s")
            cache = Path(tmp) / f"cache-{side}.npy"
            np.save(cache, decoded.images)
            in_memory, mapped = np.load(cache), np.load(cache, mmap_mode="r")
            # two alternated rounds, best of each: a load change on a shared machine hits both
            rounds = [(epoch_rate(in_memory), epoch_rate(mapped)) for _ in range(2)]
            memory_rates, mapped_rates = zip(*rounds, strict=True)
            row[f"batches_{side}_in_memory_per_s"] = max(memory_rates)
            row[f"batches_{side}_streamed_per_s"] = max(mapped_rates)
            print(
                f"batches of {side}: in memory {row[f'batches_{side}_in_memory_per_s']:.0f}/s, "
                f"streamed {row[f'batches_{side}_streamed_per_s']:.0f}/s"
            )
    write_results(row, "input_pipeline.csv", title="input pipeline")


if __name__ == "__main__":
    main()
