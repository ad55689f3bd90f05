"""The sample submission checked against itself and the test files before anything trains.

Its header decides the submission's form (a column per class means probabilities scored by
log-loss) and its ids name the test images, so a header column that no row fills, or an id that
names no test file, would cost a whole training before the submission could not be written.
"""

from __future__ import annotations

import difflib
from pathlib import Path

import pandas as pd

from kit.data.finder import FileFinder
from kit.data.pixels import read_frame
from kit.errors import KitError

SHOWN_LINE = 2  # the file's line of the first data row (the header is line 1)


def check_columns(path: Path) -> None:
    """Every header column filled by the rows, no row longer than the header."""
    sample = read_frame(path)
    if not isinstance(sample.index, pd.RangeIndex):  # pandas made the extra first values an index
        raise KitError(
            f"{path}: line {SHOWN_LINE} has more values than the header names columns "
            f"({', '.join(map(str, sample.columns))}): name every column in the header"
        )
    # a two-column sample may leave its label empty; past two, each column is a class's probability
    empty = [str(c) for c in sample.columns[1:] if sample[c].isna().all()] if sample.shape[1] > 2 else []
    if empty:
        raise KitError(
            f"{path}: column '{empty[0]}' of the header has no value in any row (line {SHOWN_LINE}: "
            f"{', '.join(map(str, sample.iloc[0].tolist()))}): remove it from the header, "
            "or SET=submission.sample_file=<a corrected copy in the data folder>"
        )


def check_ids(
    path: Path, folder: Path, test_dir: str, allowed_share: float = 0.0, column: str = "", channels: tuple = ()
) -> str:
    """The ids of the sample's id column (`column`, else its first) name files in the test images'
    folder (one per channel, all of them, with `channels`: kit.data.finder). Up to
    `allowed_share` of them may not (a missing file is a data fault: blanked and listed by the
    load, the submission still has its row): then a warning line is returned; more, or all, is
    refused. '' when every id names a file."""
    sample = read_frame(path)
    column = column if column in sample.columns else str(sample.columns[0])
    finder = FileFinder(folder, test_dir, path.name, channels)
    ids = sample[column].astype(str).tolist()
    missing = [(row, value) for row, value in enumerate(ids) if finder.find(value) is None]
    if not missing:
        return ""
    row, value = missing[0]
    names = sorted({p.name for files in finder.listing().values() for p in files})
    wanted = f"{Path(value).name}_{channels[0]}" if channels else Path(value).name
    close = difflib.get_close_matches(wanted, names, n=1, cutoff=0.6)
    nearest = f" (nearest file: {close[0]})" if close else ""
    where = f"{path}: line {row + SHOWN_LINE}, column '{column}': '{value}' names no file in "
    where += f"{folder / test_dir}{nearest}"
    allowed = max(allowed_share * len(ids), 1 if allowed_share else 0)  # one missing file is a fault, not a mistake
    if len(missing) < len(ids) and len(missing) <= allowed:
        return f"warning: {where}; {len(missing)} of {len(ids)} test images missing: predicted from a blank image"
    raise KitError(
        f"{where}; {len(missing)} of {len(ids)} ids do not: the ids must name the "
        "test images (SET=data.test_dir=<folder> if they are elsewhere)"
    )
