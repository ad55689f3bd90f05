"""`make new`: a competition's configuration read off its files alone.

Four layouts are recognised, in this order (kit.data.infer_layout reads the image ones):

    pixels          CSVs whose columns are pixel0.. (Digit Recognizer, Kannada-MNIST, Fashion-MNIST)
    images          a CSV of image ids or paths with a label column, plus image folders, the images
                    in sub-folders of any depth (Dog Breeds, Aerial Cactus, APTOS, Landmarks)
    class_folders   train/<class name>/.../<image> and a test folder (Plant Seedlings, State Farm)
    file_names      train/<class>.<n>.jpg and a test folder (Dogs vs. Cats)

From the files it infers the id and label columns, the class names (in the order the sample
submission uses when it names them), the image size and channels (from a sample of the images),
the submission's form (one label column, one probability column per class, or one probability
for a binary task) and a metric to fall back on. Every value comes with the file it was read
from, which `kit.commands.new` writes as a comment beside it. What cannot be inferred is one
`KitError` naming the `SET=` key that settles it; the values SET= names are in place before
inference starts (`settled`). Every image file under the folder is counted (kit.data.census).
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from kit.data.columns import is_fractional
from kit.data.finder import IMAGE_SUFFIXES
from kit.data.folders import LABEL_NAMES
from kit.data.infer_layout import (
    SIZE_PROBES,
    count_images,
    csv_files,
    data_finder,
    image_table,
    image_test_dir,
    infer_path_layout,
    label_by_elimination,
    path_layout,
    sample_id_column,
    set_image_size,
)
from kit.data.infer_target import known_metric, settle_target
from kit.data.inferred import Inferred
from kit.data.no_sample import form_from_metric, without_sample
from kit.data.pixels import COMPRESSED, read_csv, read_frame
from kit.errors import KitError

__all__ = ["Inferred", "infer"]

PIXEL_COLUMN = re.compile(r"^pixel_?\d+$", re.IGNORECASE)
SAMPLE_NAMES = ("sample_submission.csv", "sampleSubmission.csv", "sample_submission_file.csv")


def infer(folder: Path, metric: str = "", metric_source: str = "METRIC=", settled: dict | None = None) -> Inferred:
    """Everything `competition.toml` needs, from the files in `folder` (the metric from
    `metric_source` when given: METRIC=, or Kaggle's competition record). `settled`: the
    values SET= names (`section.key` -> value), in place before anything is inferred."""
    if not folder.is_dir():
        raise KitError(f"data folder {folder} does not exist (DATA=)")
    found = Inferred(settled=dict(settled or {}))
    given = found.given("submission.sample_file")
    sample_path = (folder / given if given else None) if given is not None else find_sample(folder)
    if sample_path is not None and not sample_path.is_file():
        raise KitError(f"{sample_path}: no such file (submission.sample_file)")
    sample = read_frame(sample_path) if sample_path else None
    pixel_files = pixel_csvs(folder) if found.given("data.format", "pixels") == "pixels" else []
    if pixel_files:
        infer_pixels(found, folder, pixel_files, sample, sample_path)
    else:
        infer_images(found, folder, sample, sample_path)
    metric = known_metric(metric)  # Kaggle's names too: 'MAP@{5}', 'AUC', 'RMSE'
    choose_metric(found, metric, sample_path, metric_source)
    if metric:
        binary_form_from_metric(found, metric)
    settle_target(found, folder, sample)  # top-k, a number, tags: kit.data.infer_target
    if sample is None and not pixel_files:  # the submission's shape from the metric, stated
        form_from_metric(found, found.sections["competition"]["metric"])
    return found


def infer_images(found: Inferred, folder: Path, sample, sample_path) -> None:
    """An image-folder layout (kit.data.infer_layout): a CSV naming the images first, then
    labels in the paths; then the submission's form and the census of every image file."""
    table = (
        None
        if found.given("data.format") in ("class_folders", "file_names")
        else image_table(found, folder, sample_path)
    )
    if table is not None:
        names, train, labelled = infer_image_table(found, folder, table, sample, sample_path)
    elif (layout := path_layout(found, folder)) is not None:
        names, train, labelled = infer_path_layout(found, folder, *layout)
    else:
        raise KitError(
            f"{folder}: no pixel CSV, no CSV naming image files, no class folders and no images named "
            "<class>.<n>: is this an image-classification competition's folder? (SET=data.format=... "
            "and SET=data.train_dir=... name the layout)"
        )
    if sample is None:  # kit.data.no_sample: the shape from the metric, once it is known
        test = without_sample(found, folder)
    else:  # its id column wherever it stands; the prediction columns follow it
        column = sample_id_column(found, folder, sample, sample_path)
        finder = data_finder(found, folder, found.sections["data"]["test_dir"], sample_path.name)
        test = [finder.locate(str(v)) for v in sample[column]]
        sample = sample[[column, *(c for c in sample.columns if c != column)]]
        image_submission(found, sample, sample_path, names)
    count_images(found, folder, train, labelled, test)


def binary_form_from_metric(found: Inferred, metric: str) -> None:
    """Two classes and a sample of one prediction column: the metric, not the sample's placeholder
    values, says whether it holds a label or the positive class's probability."""
    from kit.metrics import PROBABILITY_METRICS  # scikit-learn: only when a metric is given

    names = found.sections.get("competition", {}).get("class_names", [])
    form = found.sections.get("submission", {}).get("form")
    if len(names) != 2 or form not in ("label", "probability"):
        return
    wanted = "probability" if metric in PROBABILITY_METRICS else "label"
    if wanted != form:
        found.set("submission.form", wanted, f"{metric} on two classes scores a {wanted}, whatever the sample holds")


# ---------------------------------------------------------------- files


def find_sample(folder: Path) -> Path | None:
    """The sample submission: its usual names first, then any CSV named like one."""
    for name in SAMPLE_NAMES:
        for path in csv_files(folder):
            if path.name.lower().startswith(name.lower()):
                return path
    named = [p for p in csv_files(folder) if "sample" in p.name.lower() or "submission" in p.name.lower()]
    return named[0] if len(named) == 1 else None


def header(path: Path) -> list[str]:
    """A CSV's column names, without reading its rows."""
    try:
        return [str(c) for c in read_csv(path, nrows=0).columns]
    except (ValueError, OSError, EOFError, UnicodeDecodeError) as exc:
        raise KitError(f"{path}: not a readable CSV file ({exc.__class__.__name__}: {exc})") from None


# ---------------------------------------------------------------- pixel CSVs


def pixel_csvs(folder: Path) -> list[tuple[Path, list[str]]]:
    """The CSVs whose columns are mostly pixel0.. (at least an 8x8 image), with their headers."""
    found = []
    for path in csv_files(folder):
        columns = header(path)
        if sum(bool(PIXEL_COLUMN.match(c)) for c in columns) >= 64:
            found.append((path, columns))
    return found


def infer_pixels(found: Inferred, folder: Path, files, sample: pd.DataFrame | None, sample_path) -> None:
    given = found.given("data.label_column")  # SET= names it: only files that have it are labelled
    has_label = (lambda cols: given if given in cols else "") if given else label_in
    labelled = [(p, cols) for p, cols in files if has_label(cols)]
    unlabelled = [(p, cols) for p, cols in files if not has_label(cols)]
    if not labelled:
        raise KitError(f"{folder}: no pixel CSV with a label column: set SET=data.label_column=<column>")
    train_path, train_columns = pick_named(labelled, "train", found.given("data.train_file"))
    others = unlabelled or [f for f in labelled if f[0] != train_path]
    test_path, test_columns = pick_named(others, "test", found.given("data.test_file"))
    label = has_label(train_columns)
    pixels = [c for c in train_columns if PIXEL_COLUMN.match(c)]
    shape = [found.given(f"data.{key}") for key in ("height", "width", "channels")]
    height, width, channels = shape if all(shape) else pixel_shape(len(pixels), train_path)
    found.set("data.format", "pixels", f"{train_path.name}: {len(pixels)} pixel columns")
    found.set("data.train_file", base_name(train_path), "the labelled pixel CSV")
    found.set("data.test_file", base_name(test_path), "the other pixel CSV")
    found.set("data.label_column", label, train_path.name)
    for key, value in (("height", height), ("width", width), ("channels", channels)):
        found.set(f"data.{key}", value, f"{len(pixels)} pixel columns")
    extra = [c for c in test_columns if not PIXEL_COLUMN.match(c) and c != label]
    if extra:  # Kannada-MNIST: test.csv starts with an id column
        found.set("data.id_column", extra[0], f"{test_path.name}'s first non-pixel column")
    if label in test_columns:  # Fashion-MNIST's Kaggle release: the test file is labelled
        found.set("data.test_labels", True, f"{test_path.name} has a '{label}' column")
    names = integer_classes(read_csv(train_path, usecols=[label])[label])
    if not names:
        raise KitError(f"{train_path}: column '{label}' holds labels that are not integers, as pixel CSVs' do")
    found.set("competition.class_names", names, f"{train_path.name}: the labels {names[0]}..{names[-1]}")
    pixel_submission(found, sample, sample_path, test_path, bool(extra))
    found.summary.append(
        f"layout: pixel CSVs ({train_path.name} labelled, {test_path.name}), {height}x{width}x{channels}"
    )


def label_in(columns: list[str]) -> str:
    lowered = {c.lower(): c for c in columns}
    return next((lowered[name] for name in LABEL_NAMES if name in lowered), "")


def pick_named(files: list, word: str, given: str | None = None) -> tuple[Path, list[str]]:
    if given:  # SET=data.<word>_file=...: that file (or its compressed twin) and no other
        files = [f for f in files if base_name(f[0]) == given or f[0].name == given]
    if not files:
        raise KitError(f"no {word} pixel CSV found: set SET=data.{word}_file=<file>")
    named = [f for f in files if word in f[0].name.lower()]
    return (named or files)[0]


def base_name(path: Path) -> str:
    """The name the loader looks for; it finds the compressed twin itself."""
    name = path.name
    for ext in COMPRESSED:
        if name.lower().endswith(".csv" + ext):
            return name[: -len(ext)]
    return name


def pixel_shape(count: int, path: Path) -> tuple[int, int, int]:
    for channels in (1, 3):
        side = int(round((count / channels) ** 0.5))
        if side * side * channels == count:
            return side, side, channels
    raise KitError(
        f"{path}: {count} pixel columns are not a square image: set SET='data.height=H data.width=W data.channels=C'"
    )


def pixel_submission(found: Inferred, sample, sample_path, test_path: Path, has_id_column: bool) -> None:
    if sample is None:
        found.summary.append("no sample submission: ImageId,Label with ids from 1 (as Digit Recognizer)")
        found.set("submission.sample_file", "", "no sample submission found")
        return
    found.set("submission.sample_file", sample_path.name, "the sample submission")
    ids = pd.to_numeric(sample.iloc[:, 0], errors="coerce")
    if not has_id_column and ids.notna().all():
        found.set("submission.id_start", int(ids.iat[0]), f"{sample_path.name}: the first id")
    found.set("submission.form", "label", f"{sample_path.name}: {', '.join(map(str, sample.columns))}")


# ---------------------------------------------------------------- image folders


def infer_image_table(found: Inferred, folder: Path, table, sample, sample_path) -> tuple[list[str], list, list]:
    """A CSV of image ids (or paths) and labels, the images in a folder (sub-folders of any depth)."""
    table_path, frame, train_dir, image_column = table
    train_name = train_dir.relative_to(folder).as_posix()
    label_column = found.given("data.label_column") or pick_label_column(frame, image_column, sample, table_path)
    found.set("data.format", "images", f"{table_path.name} names images in {train_name}/")
    found.set("data.train_file", table_path.name, "the CSV of image labels")
    found.set("data.val_file", "", "one labelled table")
    found.set("data.train_dir", train_name, f"the folder of the images {table_path.name} names")
    named = "ids of channel files" if found.sections["data"].get("channel_files") else "image files"
    found.set("data.image_column", image_column, f"{table_path.name}: its values name {named}")
    found.set("data.label_column", label_column, table_path.name)
    ids = frame[image_column].astype(str).head(5).tolist()
    with_extension = any(Path(v).suffix.lower() in IMAGE_SUFFIXES for v in ids)
    found.summary.append(f"ids {'with' if with_extension else 'without'} extension, e.g. {ids[0]}")
    names = class_names_of(frame[label_column], sample)
    found.set("competition.class_names", names, class_names_source(sample, sample_path, table_path))
    finder = data_finder(found, folder, train_name, table_path.name)
    images = [finder.locate(v) for v in frame[image_column].astype(str)]
    set_image_size(found, images[:SIZE_PROBES])
    test_dir = image_test_dir(found, folder, exclude=train_dir)
    found.set("data.test_dir", test_dir.relative_to(folder).as_posix(), "the other folder of images")
    found.summary.append(
        f"layout: {table_path.name} ({image_column}, {label_column}) + {train_name}/, test {test_dir.name}/"
    )
    labelled = frame[label_column].notna().tolist()
    return names, images, labelled


def pick_label_column(frame: pd.DataFrame, image_column: str, sample, path: Path) -> str:
    others = [str(c) for c in frame.columns if c != image_column]
    # the sample's prediction column when the table has it too (has_cactus, diagnosis), then a
    # usual label name (label, class, target, ...)
    candidates = [] if sample is None else [str(sample.columns[1])]
    candidates.append(label_in(others))
    for name in candidates:
        if name in others:
            return name
    if len(others) == 1:
        return others[0]
    if name := label_by_elimination(frame, others, path.parent, sample):
        return name
    shown = ", ".join(others[:8]) + (f", ... ({len(others)} columns)" if len(others) > 8 else "")
    raise KitError(
        f"{path}: cannot tell which column holds the labels (columns: {shown}): set SET=data.label_column=<column>"
    )


def class_names_of(labels: pd.Series, sample: pd.DataFrame | None) -> list[str]:
    """The sample's probability columns when it has one per class (their order is the
    submission's), else the label values: integers 0..K-1 as text, or names sorted."""
    if sample is not None and sample.shape[1] > 2:
        names = [str(c) for c in sample.columns[1:]]
        if str(labels.name) in names:  # one 0/1 column per tag (multi-label): the columns name them
            return names
        unknown = sorted(set(labels.astype(str)) - set(names))
        if unknown:
            raise KitError(f"labels {unknown[:5]} are not columns of the sample submission")
        return names
    return integer_classes(labels) or sorted(labels.dropna().astype(str).str.strip().unique())


def integer_classes(labels: pd.Series) -> list[str]:
    """Integer labels as the classes they spell, in numeric order: 0..K-1, but also 1..5 or
    iWildCam's 0, 1, 3, 4, 8 (a class per value seen, never one per number up to the largest,
    so the submission writes the labels the training file uses); [] when not all integers."""
    numbers = pd.to_numeric(labels.dropna(), errors="coerce")
    if numbers.empty or numbers.isna().any() or (numbers != numbers.round()).any():
        return []
    return [str(n) for n in sorted(set(numbers.astype(int).tolist()))]


def class_names_source(sample, sample_path, table_path: Path) -> str:
    if sample is not None and sample.shape[1] > 2:
        return f"{sample_path.name}: one probability column per class, in its order"
    return f"{table_path.name}: the label values"


def image_submission(found: Inferred, sample, sample_path, names: list[str]) -> None:
    found.set("submission.sample_file", sample_path.name, "the sample submission")
    columns = ", ".join(map(str, sample.columns))
    if sample.shape[1] > 2:
        found.set("submission.form", "probabilities", f"{sample_path.name}: {sample.shape[1] - 1} class columns")
        return
    values = sample.iloc[:, 1]
    floats = pd.api.types.is_float_dtype(values)  # 0.5 or 0.0 placeholders: a probability
    if len(names) == 2 and (is_fractional(values) or set(names) == {"0", "1"} and floats):
        found.set("submission.form", "probability", f"{sample_path.name}: {columns}, a probability per image")
    else:
        found.set("submission.form", "label", f"{sample_path.name}: {columns}")


# ---------------------------------------------------------------- metric


def choose_metric(found: Inferred, metric: str, sample_path, source: str = "METRIC=") -> None:
    """METRIC= when given; else the usual metric of the submission's form, said to be a guess."""
    if metric:
        found.set("competition.metric", metric, source)
        return
    form = found.sections.get("submission", {}).get("form", "label")
    guess = {"probabilities": "log_loss", "probability": "roc_auc"}.get(form, "accuracy")
    found.set("competition.metric", guess, f"guessed from the submission's form ({form}); METRIC= sets it")
    found.summary.append(f"metric {guess} is a guess: pass METRIC=<the competition's metric> if it differs")
