"""One progress bar for every long step (decoding images, trials, compared models, prediction).

On a terminal it is tqdm's bar with rate and ETA. Where stderr is not a terminal (a log file, a
Kaggle kernel, CI) a bar redrawn with carriage returns would be one endless line, so it becomes a
plain line every `KIT_PROGRESS_SECONDS` (default 30) and one at the end (a step that ends
sooner writes none):

    decoding train images: 120000/200000 (60%), 02:05 elapsed, 01:23 left, 960.4 images/s

`KIT_PROGRESS=0` turns them off. Steps shorter than `minimum` items show nothing at all.

>>> for item in progress(range(3), "counting", minimum=10):  # too short to show
...     pass
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable

LOG_FORMAT = "{desc}: {n_fmt}/{total_fmt} ({percentage:.0f}%), {elapsed} elapsed, {remaining} left, {rate_fmt}"


def progress(
    iterable: Iterable | None = None, desc: str = "", total: int | None = None, unit: str = "it", minimum: int = 1
):
    """A tqdm bar over `iterable` (or of `total` steps, advanced with `.update(n)`), on stderr."""
    from tqdm.auto import tqdm

    if total is None and iterable is not None and hasattr(iterable, "__len__"):
        total = len(iterable)
    hidden = os.environ.get("KIT_PROGRESS", "1") == "0" or (total is not None and total < minimum)
    stream = sys.stderr
    if hidden or stream.isatty():
        return tqdm(
            iterable, desc=desc, total=total, unit=unit, disable=hidden, file=stream, dynamic_ncols=True, delay=0.5
        )
    seconds = float(os.environ.get("KIT_PROGRESS_SECONDS", "30"))
    return tqdm(
        iterable,
        desc=desc,
        total=total,
        unit=f" {unit}",  # "3.3 images/s"
        file=LineStream(stream),
        delay=seconds,  # a step shorter than that says nothing in a log
        mininterval=seconds,
        maxinterval=max(seconds, 1.0),
        miniters=1,
        bar_format=LOG_FORMAT if total else "{desc}: {n_fmt} {unit}, {elapsed} elapsed, {rate_fmt}",
    )


class LineStream:
    """What tqdm writes, as whole lines: each redraw (after a carriage return) becomes one line,
    the same line twice (a final redraw) is written once."""

    def __init__(self, stream) -> None:
        self.stream, self.last = stream, ""

    def write(self, text: str) -> None:
        for piece in text.replace("\r", "\n").split("\n"):
            piece = " ".join(piece.split())
            if piece and piece != self.last:
                self.stream.write(piece + "\n")
                self.last = piece

    def flush(self) -> None:
        self.stream.flush()
