"""Streaming: batches read from decoded arrays on disk, for image sets that do not fit in memory.

The pixel competitions (at most 70,000 small images) live in memory and go to `model.fit` as
arrays: the fastest path. The living-species photographs do not always fit: 200,000 images at
224x224 are 30 GB. With `data.stream` on, their decoded cache (a `.npy` file, see
`kit.data.folders`) is memory-mapped instead of loaded, and `kit.data.batches.Batches` feeds
Keras one shuffled batch at a time, read by threads ahead of the accelerator (keras.utils.PyDataset's
queue), so only the batches in flight are in memory, on TensorFlow and JAX alike. This module
holds the row bookkeeping and stays free of Keras, so loading and auditing start at once.

>>> import numpy as np
>>> base = np.arange(10).reshape(10, 1, 1, 1).astype("uint8")
>>> view = RowView(base, np.array([7, 2, 5]))
>>> view[np.array([2, 0])].ravel().tolist(), view.shape
([5, 7], (3, 1, 1, 1))
"""

from __future__ import annotations

import numpy as np

from kit.config import Config
from kit.errors import KitError


class RowView:
    """The rows `rows` of an (N, H, W, C) array (often a memory map), without copying them.

    Indexing with ints, slices or integer arrays reads just those rows, in file order (sorted
    reads are sequential on disk) and returns them in the order asked.
    """

    def __init__(self, base: np.ndarray, rows: np.ndarray):
        self.base = base
        self.rows = np.asarray(rows, dtype=np.int64)

    @property
    def shape(self) -> tuple[int, ...]:
        return (len(self.rows), *self.base.shape[1:])

    @property
    def dtype(self):
        return self.base.dtype

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, index):
        chosen = self.rows[index]
        if np.ndim(chosen) == 0:
            return np.asarray(self.base[int(chosen)])
        return read_rows(self.base, chosen)


def read_rows(array, rows: np.ndarray) -> np.ndarray:
    """`array[rows]` read in ascending row order (a memory map then reads the file forwards)."""
    rows = np.asarray(rows, dtype=np.int64)
    if isinstance(array, RowView):  # straight from the base: one sort and one copy per batch
        array, rows = array.base, array.rows[rows]
    order = np.argsort(rows, kind="stable")
    out = np.empty((len(rows), *array.shape[1:]), dtype=array.dtype)
    out[order] = array[rows[order]]
    return out


def take_rows(images, index) -> RowView | np.ndarray:
    """`images[index]` that stays lazy (a RowView) for memory maps and row views."""
    if isinstance(images, RowView):
        return RowView(images.base, images.rows[index])
    if isinstance(images, np.memmap):
        return RowView(images, np.arange(len(images))[index])
    return images[index]


def is_streamed(images) -> bool:
    """True for arrays that are not plainly in memory (memory maps, row views)."""
    return isinstance(images, (RowView, np.memmap))


def stream_wanted(cfg: Config, rows: int) -> bool:
    """`data.stream`: on, off, or auto (image folders whose decoded arrays pass `data.stream_above_mb`)."""
    if cfg.data.stream not in ("auto", "on", "off"):
        raise KitError(f"data.stream '{cfg.data.stream}' is not one of auto, on, off")
    if cfg.data.stream in ("on", "off"):
        return cfg.data.stream == "on"
    megabytes = rows * cfg.data.height * cfg.data.width * cfg.data.channels / 2**20
    return cfg.data.format != "pixels" and megabytes > cfg.data.stream_above_mb
