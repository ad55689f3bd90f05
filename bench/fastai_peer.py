"""The fastai peer of `bench/recipe.py`: fastai's idiomatic recipe for Fashion-MNIST, run by the
peer venv's python (bench/fastai-peer.txt; never a dependency of the kit).

    <peer venv>/bin/python bench/fastai_peer.py TRAIN.csv[.bz2] TEST.csv[.bz2] [--split split.npz]

The network is the fastai course's ResNet from scratch (part 2, the "resnets" notebook, miniai's
`ResBlock`/`get_model`): residual blocks of two 3x3 conv + BatchNorm layers (ReLU after the first
and after the sum; a 1x1 conv on the identity path when the width changes, 2x2 average pooling
when the block strides), widths 1 -> 8 -> 16 -> 32 -> 64 -> 128 -> 256, every block after the
first at stride 2 (28 -> 1 pixel), then flatten, a linear layer without bias and BatchNorm1d.
Data: a DataBlock over the CSV's rows, the pixels one uint8 TensorImageBW in memory (an item is
a row of it, scaled to float per batch; `--data pil` makes a PILImageBW per item instead, fastai's
slowest path), CategoryBlock, the 80/20 split given by `--split` (train_0 / val_0 row indices, as
the kit's split.npz; without it a stratified scikit-learn split at seed 42, the kit's rule),
fastai's default batch of 64, flips and a light zoom (`aug_transforms`, max_zoom 1.1, no
rotation, warp or lighting) and normalisation as batch
transforms. `Learner(...).fit_one_cycle(22, 3e-3)` with fastai's defaults (Adam, weight decay
0.01, flattened cross-entropy), then `learn.tta()` (4 augmented views and the plain one) on the
test CSV, scored against its labels. The last line printed is the result, machine-readable:

    RESULT {"seconds": ..., "accuracy": ..., ...}

`seconds` is the script's wall time from its first line (imports and CSV reading included).
"""

import time

STARTED = time.perf_counter()

import argparse  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))  # run with -I: the sibling helper
from torchvision_fix import torchvision_without_ops  # noqa: E402

EPOCHS, LEARNING_RATE, SEED = 22, 3e-3, 42


torchvision_without_ops()
import fastai  # noqa: E402
from fastai.vision.all import (  # noqa: E402
    CategoryBlock,
    DataBlock,
    ImageBlock,
    IndexSplitter,
    IntToFloatTensor,
    Learner,
    Normalize,
    PILImageBW,
    TensorImageBW,
    TransformBlock,
    accuracy,
    aug_transforms,
    set_seed,
)


def conv(ni: int, nf: int, stride: int = 1, act: bool = True, ks: int = 3) -> nn.Sequential:
    layers = [nn.Conv2d(ni, nf, ks, stride=stride, padding=ks // 2, bias=False), nn.BatchNorm2d(nf)]
    return nn.Sequential(*layers, *([nn.ReLU()] if act else []))


class ResBlock(nn.Module):
    def __init__(self, ni: int, nf: int, stride: int = 1):
        super().__init__()
        self.convs = nn.Sequential(conv(ni, nf), conv(nf, nf, stride=stride, act=False))
        self.idconv = nn.Identity() if ni == nf else nn.Conv2d(ni, nf, 1)  # the course's: no norm
        self.pool = nn.Identity() if stride == 1 else nn.AvgPool2d(2, ceil_mode=True)
        self.act = nn.ReLU()

    def forward(self, x):
        return self.act(self.convs(x) + self.idconv(self.pool(x)))


def get_model(nfs=(8, 16, 32, 64, 128, 256), classes: int = 10) -> nn.Sequential:
    layers = [ResBlock(1, nfs[0])]
    layers += [ResBlock(nfs[i], nfs[i + 1], stride=2) for i in range(len(nfs) - 1)]
    layers += [nn.Flatten(), nn.Linear(nfs[-1], classes, bias=False), nn.BatchNorm1d(classes)]
    return nn.Sequential(*layers)


def read(path: str) -> tuple[np.ndarray, np.ndarray]:
    frame = pd.read_csv(path)
    pixels = frame.drop(columns="label").to_numpy(np.uint8).reshape(-1, 28, 28)
    return pixels, frame["label"].to_numpy()


def validation_rows(labels: np.ndarray, split: str | None) -> np.ndarray:
    if split:
        with np.load(split) as saved:
            return saved["val_0"]
    from sklearn.model_selection import train_test_split

    index = np.arange(len(labels))
    return np.sort(train_test_split(index, test_size=0.2, stratify=labels, random_state=SEED)[1])


def image_block(pixels: np.ndarray, data: str) -> TransformBlock:
    """tensor: the pixels stay one uint8 TensorImageBW in memory, an item is a row of it, and
    IntToFloatTensor scales whole batches (fastai's ImageBlock minus its per-item PIL step);
    pil: fastai's ImageBlock(PILImageBW), a PIL image made and converted per item (the slowest)."""
    if data == "pil":
        return ImageBlock(PILImageBW)
    return TransformBlock(batch_tfms=IntToFloatTensor)


def image_getter(pixels: np.ndarray, data: str):
    if data == "pil":
        return lambda row: PILImageBW.create(pixels[row])
    images = TensorImageBW(torch.from_numpy(pixels)[:, None])  # (N, 1, 28, 28) uint8, as ToTensor makes
    return images.__getitem__  # indexing keeps the TensorImageBW type (the batch transforms dispatch on it)


def main() -> None:
    parser = argparse.ArgumentParser(description="fastai's Fashion-MNIST ResNet, the bench's peer")
    parser.add_argument("train")
    parser.add_argument("test")
    parser.add_argument("--split", help="npz with val_0 (row indices of the training CSV)")
    parser.add_argument("--epochs", type=int, default=EPOCHS)
    parser.add_argument("--data", choices=("tensor", "pil"), default="tensor", help="the items' data path")
    args = parser.parse_args()
    set_seed(SEED)
    train_pixels, train_labels = read(args.train)
    test_pixels, test_labels = read(args.test)
    pixels = np.concatenate([train_pixels, test_pixels])  # items are row numbers into this
    labels = np.concatenate([train_labels, test_labels])
    val = validation_rows(train_labels, args.split)
    scaled = train_pixels[np.setdiff1d(np.arange(len(train_labels)), val)] / 255.0
    block = DataBlock(
        blocks=(image_block(pixels, args.data), CategoryBlock),
        get_x=image_getter(pixels, args.data),
        get_y=lambda row: labels[row],
        splitter=IndexSplitter(val),
        batch_tfms=[
            *aug_transforms(max_rotate=0.0, max_zoom=1.1, max_lighting=0.0, max_warp=0.0),
            Normalize.from_stats(scaled.mean(), scaled.std()),
        ],
    )
    dls = block.dataloaders(np.arange(len(train_labels)))
    learn = Learner(dls, get_model(), metrics=accuracy)
    with learn.no_bar():  # the recorder prints a line per epoch instead of progress bars
        learn.fit_one_cycle(args.epochs, LEARNING_RATE)
        val_accuracy = float(learn.recorder.values[-1][-1])  # tta's inference clears the recorder
        predictions, _ = learn.tta(dl=dls.test_dl(np.arange(len(train_labels), len(labels))))
    predicted = np.asarray(dls.vocab)[predictions.argmax(1).numpy()]
    score = float((predicted == test_labels).mean())
    result = {
        "seconds": round(time.perf_counter() - STARTED, 1),
        "accuracy": score,
        "epochs": args.epochs,
        "val_accuracy": val_accuracy,
        "train": len(train_labels) - len(val),
        "val": len(val),
        "test": len(test_labels),
        "fastai": fastai.__version__,
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "data": args.data,
    }
    print("RESULT " + json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
