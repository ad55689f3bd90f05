"""Build the embedded Fashion-MNIST sample committed in `sample/` from the full data set.

    python competitions/fashion-mnist/make_sample.py [SOURCE_DIR]

SOURCE_DIR holds `fashion-mnist_train.csv(.gz)` and `fashion-mnist_test.csv(.gz)` in Kaggle's
layout (default: ../shared/data/fashion-mnist). The sample is stratified by label and seeded, so
rebuilding it gives the same files: 9,500 training and 1,900 test images, 950 and 190 per class,
bzip2-compressed (4.8 MB, under the 5 MB budget; gzip would take 6.4 MB).
Fashion-MNIST is (c) Zalando Research, MIT licence: https://github.com/zalandoresearch/fashion-mnist
"""

from __future__ import annotations

import bz2
import sys
from pathlib import Path

import pandas as pd
from sklearn.model_selection import train_test_split

HERE = Path(__file__).resolve().parent
SIZES = {"fashion-mnist_train.csv": 9_500, "fashion-mnist_test.csv": 1_900}
SEED = 20170825  # the day Fashion-MNIST was published


def sample_file(source: Path, name: str, size: int) -> None:
    path = source / name if (source / name).exists() else source / f"{name}.gz"
    frame = pd.read_csv(path)
    sample, _ = train_test_split(frame, train_size=size, stratify=frame["label"], random_state=SEED)
    target = HERE / "sample" / f"{name}.bz2"
    target.parent.mkdir(exist_ok=True)
    target.write_bytes(bz2.compress(sample.sort_index().to_csv(index=False).encode(), compresslevel=9))
    print(f"{target}: {size} rows, {target.stat().st_size / 1e6:.2f} MB")


def main() -> None:
    source = Path(sys.argv[1]) if len(sys.argv) > 1 else HERE.parents[2] / "shared" / "data" / "fashion-mnist"
    for name, size in SIZES.items():
        sample_file(source, name, size)


if __name__ == "__main__":
    main()
