"""How fast the image-folder loader decodes photographs (kit.data.folders.decode_all).

    .venv/bin/python bench/decode_images.py [--count 1500] [--side 500] [--workers 1 2 4]

Writes `count` noisy JPEGs of side x 3/4 side pixels (a phone photo scaled down, like the
living-species images) into a temporary folder, then times decoding them to 64x64 and 224x224
RGB with 1, 2 and 4 threads, and re-reading the decoded cache. Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

from kit.data.folders import decode_all


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1500)
    parser.add_argument("--side", type=int, default=500)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        files = write_photos(Path(tmp), args.count, args.side)
        print(f"{args.count} JPEGs of {args.side}x{args.side * 3 // 4}\n")
        print("| target | threads | images/s |\n| --- | --- | --- |")
        for size in ((64, 64, 3), (224, 224, 3)):
            for workers in args.workers:
                started = time.perf_counter()
                decoded = decode_all(files, size, workers)
                rate = len(files) / (time.perf_counter() - started)
                print(f"| {size[0]}x{size[1]} | {workers} | {rate:.0f} |")
            cache = Path(tmp) / "cache.npy"
            np.save(cache, decoded.images)
            started = time.perf_counter()
            np.load(cache)
            print(f"| {size[0]}x{size[1]} | cached .npy | {len(files) / (time.perf_counter() - started):.0f} |")


if __name__ == "__main__":
    main()
