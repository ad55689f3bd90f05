"""Submission files: built and validated against the competition's sample submission, written
atomically under `submissions/<slug>/` as `<run>.csv`, never overwriting, each with a JSON record
(what made it: kit.submission.record).

The same `validate` checks a file before `make submit` uploads it.
"""

from __future__ import annotations

import io
import os
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from kit import config, fileio, metrics, paths, targets
from kit.data import classes
from kit.data.pixels import UNREADABLE, plain, read_csv, unreadable
from kit.errors import KitError
from kit.submission.record import read_record

Form = Literal["label", "probabilities", "probability", "topk", "value", "tags", "columns", "grade"]


@dataclass(frozen=True)
class Expected:
    """What a valid submission looks like: column names (the id first), the ids in order, and
    its form: one label per image (`labels` is the allowed domain: class indices or names), one
    probability column per class (`columns[1:]` are the class names, in the sample's order), or
    for two classes the positive class's probability alone."""

    columns: tuple[str, ...]
    ids: np.ndarray
    labels: tuple  # the allowed label values (form "label")
    form: Form = "label"
    classes: tuple[int, ...] = ()  # the class index of each probability column
    clip: float = 0.0  # probabilities written in [clip, 1 - clip] (log-loss: a mistake costs less)
    # the other targets' forms (kit.targets): topk writes k labels; value numbers clipped to
    # value_range (the training range); tags/columns the tags at or above their thresholds;
    # grade the label domain's grade whose interval between thresholds holds the number
    k: int = 0
    value_range: tuple[float, float] | None = None
    thresholds: tuple[float, ...] = ()
    order: tuple[str, ...] = ()  # the sample's column order when its id column is not first


def expected(cfg: config.Config, test_ids: np.ndarray | None, sample: pd.DataFrame | None) -> Expected:
    """From the sample submission when the competition has one, else from the config."""
    if sample is None:  # the shape `make new` chose from the metric (kit.data.no_sample)
        columns = (cfg.submission.id_column, cfg.submission.label_column)
        if cfg.submission.form == "probabilities":
            columns = (cfg.submission.id_column, *cfg.competition.class_names)
        return form_of(cfg, columns, np.asarray(test_ids), None)
    if sample.shape[1] < 2:
        raise KitError(f"sample submission has columns {list(sample.columns)}; it needs an id and a prediction")
    # the id column wherever the sample puts it (`make new` records it): first in `columns`,
    # the sample's own order kept in `order` for the written file
    order = tuple(str(c) for c in sample.columns)
    id_column = cfg.submission.id_column if cfg.submission.id_column in order else order[0]
    columns = (id_column, *(c for c in order if c != id_column))
    found = form_of(cfg, columns, sample[id_column].to_numpy(), sample[columns[1]])
    return replace(found, order=order) if order != columns and len(found.columns) == len(order) else found


def form_of(cfg: config.Config, columns: tuple[str, ...], ids: np.ndarray, values: pd.Series | None) -> Expected:
    """Label, probabilities or probability: `submission.form`, else from the metric and the
    sample's header. A label is written as its class name, or as the integer the name spells
    ('0'..'9'): never decided by the sample's placeholder values (an empty column, all 0)."""
    names = tuple(cfg.competition.class_names)
    if targets.for_config(cfg).form == "grade":  # a label, cut from a number (kit.targets.ordinal)
        return Expected(columns[:2], ids, label_values(names, values, cfg.submission.labels), "grade")
    if targets.for_config(cfg).form:  # top-k, a number, tags: kit.targets decodes them
        return target_form(cfg, columns, ids, names)
    clip = cfg.submission.clip if cfg.competition.metric == "log_loss" else 0.0
    form = cfg.submission.form if cfg.submission.form != "auto" else guess_form(cfg, columns)
    if form == "probabilities":
        missing = [name for name in names if name not in columns[1:]]
        if missing or len(columns) - 1 != len(names):
            raise KitError(
                f"the sample submission's columns {list(columns[1:])} are not the class names "
                f"{list(names)}: set competition.class_names in the sample's order"
            )
        return Expected(columns, ids, (), "probabilities", tuple(names.index(c) for c in columns[1:]), clip)
    if form == "probability":
        if len(names) != 2:
            raise KitError(f"one probability per image needs two classes, not {len(names)}: set submission.form")
        return Expected(columns[:2], ids, (), "probability", (1,), clip)
    return Expected(columns[:2], ids, label_values(names, values, cfg.submission.labels), "label")


def target_form(cfg: config.Config, columns: tuple[str, ...], ids: np.ndarray, names: tuple) -> Expected:
    """A target's own form; multi-label as the sample writes it: one 0/1 column per tag, or the
    tags in one column."""
    form = targets.for_config(cfg).form
    if form == "tags" and (cfg.submission.form == "columns" or len(columns) > 2 and cfg.submission.form != "tags"):
        missing = [name for name in names if name not in columns[1:]]
        if missing or len(columns) - 1 != len(names):
            raise KitError(f"the sample submission's columns {list(columns[1:])} are not the tags {list(names)}")
        return Expected(columns, ids, names, "columns", tuple(names.index(c) for c in columns[1:]))
    return Expected(columns[:2], ids, names, form, k=metrics.top_k(cfg.competition.metric))


def label_values(names: tuple[str, ...], sample_values: pd.Series | None, setting: str = "auto") -> tuple:
    """What a label submission writes for each class: its name, or the integer the name spells.
    A sample whose labels are class names shows the form outright; placeholders (empty, 0) show
    nothing, so `submission.labels` decides, and `auto` writes names where there is a sample and
    class indices without one (the kit's own format, Digit Recognizer's ImageId,Label)."""
    has_sample = sample_values is not None
    if has_sample and classes.holds_class_names(sample_values, names):
        return classes.label_domain(names)
    if setting == "indices":
        return tuple(range(len(names)))
    if setting == "names" or has_sample or classes.are_integers(names):
        return classes.label_domain(names)
    return tuple(range(len(names)))


def guess_form(cfg: config.Config, columns: tuple[str, ...]) -> Form:
    """One column per class when the header has them; the positive class's probability for two
    classes scored on probabilities (roc_auc, log_loss); else one label per image."""
    if len(columns) > 2:
        return "probabilities"
    binary_probability = cfg.num_classes == 2 and cfg.competition.metric in metrics.PROBABILITY_METRICS
    return "probability" if binary_probability else "label"


def build(exp: Expected, predictions: np.ndarray) -> pd.DataFrame:
    """The submission frame, in the expected id order, from class probabilities (N, classes) or,
    for a label submission, from class indices (N,)."""
    predictions = np.asarray(predictions)
    if len(predictions) != len(exp.ids):
        raise KitError(f"{len(predictions)} predictions for {len(exp.ids)} test ids")
    frame = pd.DataFrame({exp.columns[0]: exp.ids})
    if exp.form in targets.FORMS:
        return frame.assign(**targets.FORMS[exp.form].decode(exp, predictions))
    if exp.form == "label":
        predicted = predictions if predictions.ndim == 1 else predictions.argmax(axis=1)
        frame[exp.columns[1]] = np.asarray(exp.labels, dtype=object if is_names(exp) else np.int64)[predicted]
        return frame[list(exp.order)] if exp.order else frame
    if predictions.ndim != 2:
        raise KitError(f"a {exp.form} submission needs class probabilities, not labels")
    chosen = predictions[:, list(exp.classes)].astype(np.float64)
    if exp.clip:
        chosen = np.clip(chosen, exp.clip, 1 - exp.clip)
        if exp.form == "probabilities":
            chosen /= chosen.sum(axis=1, keepdims=True)
    for position, column in enumerate(exp.columns[1:]):
        frame[column] = chosen[:, position]
    return frame[list(exp.order)] if exp.order else frame


def is_names(exp: Expected) -> bool:
    return bool(exp.labels) and isinstance(exp.labels[0], str)


def validate(frame: pd.DataFrame, exp: Expected, name: str = "submission") -> None:
    """Columns, row count, complete and unique ids, predictions in their domain; else KitError."""
    if tuple(str(c) for c in frame.columns) != (exp.order or exp.columns):
        raise KitError(f"{name}: columns {list(frame.columns)}, expected {list(exp.order or exp.columns)}")
    if len(frame) != len(exp.ids):
        raise KitError(f"{name}: {len(frame)} rows, expected {len(exp.ids)} (one per test image)")
    check_ids(frame, exp, name)
    if exp.form in targets.FORMS:
        targets.FORMS[exp.form].check(frame, exp, name)
    elif exp.form == "label":
        check_labels(frame, exp, name)
    else:
        check_probabilities(frame, exp, name)


def check_ids(frame: pd.DataFrame, exp: Expected, name: str) -> None:
    id_column = exp.columns[0]
    ids = frame[id_column]
    duplicated = ids.duplicated().to_numpy()
    if duplicated.any():
        row = int(np.flatnonzero(duplicated)[0])
        raise KitError(f"{name}: row {row + 1}, column '{id_column}': id {plain(ids.iat[row])!r} appears twice")
    missing = set(exp.ids.tolist()) - set(ids.tolist())
    if missing:
        shown = sorted(missing, key=str)[:5]
        raise KitError(f"{name}: {len(missing)} test ids missing from column '{id_column}', e.g. {shown}")


def check_labels(frame: pd.DataFrame, exp: Expected, name: str) -> None:
    label_column = exp.columns[1]
    allowed = set(exp.labels)
    labels = frame[label_column]
    bad = ~labels.isin(allowed).to_numpy()
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        first, last = exp.labels[0], exp.labels[-1]
        contiguous = not is_names(exp) and exp.labels == tuple(range(first, last + 1))
        domain = f"{first}..{last}" if contiguous else ", ".join(map(str, exp.labels))
        value = plain(labels.iat[row])
        raise KitError(f"{name}: row {row + 1}, column '{label_column}': label {value!r} is not in {domain}")


def check_probabilities(frame: pd.DataFrame, exp: Expected, name: str) -> None:
    for column in exp.columns[1:]:
        values = pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=np.float64)
        bad = ~(np.isfinite(values) & (values >= 0) & (values <= 1))
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            value = plain(frame[column].iat[row])
            raise KitError(f"{name}: row {row + 1}, column '{column}': {value!r} is not a probability in 0..1")


def predictions_of(frame: pd.DataFrame, exp: Expected, ids: np.ndarray, num_classes: int) -> tuple:
    """(labels, probabilities or None) of a validated submission, rows in the order of `ids`:
    what an offline competition scores against its test labels."""
    rows = frame.set_index(exp.columns[0]).loc[ids]
    if exp.form in ("label", "grade"):
        index = {label: i for i, label in enumerate(exp.labels)}
        return np.array([index[v] for v in rows[exp.columns[1]]]), None
    probabilities = np.zeros((len(ids), num_classes))
    for column, klass in zip(exp.columns[1:], exp.classes, strict=True):
        probabilities[:, klass] = rows[column].to_numpy(dtype=np.float64)
    if exp.form == "probability":
        probabilities[:, 0] = 1 - probabilities[:, 1]
    return probabilities.argmax(axis=1), probabilities


def read_and_validate(path: Path, exp: Expected) -> pd.DataFrame:
    """Read a submission CSV from disk and validate it (what `make submit` does before uploading)."""
    if not path.is_file():
        raise KitError(f"{path}: file not found")
    try:
        frame = read_csv(path, sniffed=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise KitError(f"{path}: not a readable CSV ({exc})") from None
    except UNREADABLE as exc:
        raise unreadable(path, exc) from None
    validate(frame, exp, str(path))
    return frame


def write(
    frame: pd.DataFrame, exp: Expected, slug: str, name: str, record: dict, probabilities: np.ndarray | None = None
) -> tuple[Path, dict]:
    """Validate, then write `<name>.csv`, its `.json` record and (given) its `.probabilities.npy`,
    or `<name>-2.csv`... when that name holds other rows (nothing is overwritten). A file of that
    name with these very rows, and these very probabilities, is not written again: it is returned
    with its own record and `"unchanged": True` (the same labels from other probabilities are a new file)."""
    validate(frame, exp)
    folder = paths.submissions_dir(slug)
    data = frame.to_csv(index=False).encode()
    for attempt in range(1, 100):
        path = folder / f"{name}{'' if attempt == 1 else f'-{attempt}'}.csv"
        if same_file(path, data, probabilities):
            os.utime(path)  # the newest again: `make submit` without FILE takes what predict just named
            return path, read_record(path) | {"unchanged": True}
        try:
            fileio.atomic_write(path, data, exclusive=True)
            break
        except FileExistsError:
            continue
    else:
        raise KitError(f"{folder}: could not find a free file name for {name}")
    record = {
        **record,
        "file": path.name,
        "sha256": fileio.sha256_file(path),
        "rows": len(frame),
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    if probabilities is not None:
        fileio.atomic_write(path.with_suffix(".probabilities.npy"), npy_bytes(probabilities.astype(np.float32)))
    fileio.write_json(path.with_suffix(".json"), record, exclusive=True)
    return path, record


def same_file(path: Path, data: bytes, probabilities: np.ndarray | None) -> bool:
    """Whether `path` (with its record) already holds these rows, and these probabilities when given."""
    if not (path.with_suffix(".json").is_file() and path.is_file() and path.read_bytes() == data):
        return False
    if probabilities is None:
        return True
    saved = path.with_suffix(".probabilities.npy")
    return saved.is_file() and np.array_equal(np.load(saved), probabilities.astype(np.float32))


def npy_bytes(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()
