"""`make new` for a competition that ships no sample submission (train/, test/ and a train.csv
only): the submission's shape comes from the metric, its column names from the training table.

    accuracy, qwk, F1 ...   id, label           the label spelt as train.csv spells it
    log_loss                id, <class>...      one probability column per class (two: one column)
    roc_auc                 id, label           the positive class's probability (more: one per class)
    map@K                   id, label           K labels, best first (kit.data.infer_target)
    rmse, mae               id, label           a number (kit.data.infer_target)

The id and label columns are the training table's (APTOS: id_code, diagnosis), the ids spelt as
that table spells them (with or without the file's extension). With no table to copy (class
folders, labels in file names) the column names cannot be known: `make new` stops and says what
to set. Every choice is stated in the summary with the key that changes it.
"""

from __future__ import annotations

from pathlib import Path

from kit.data.channels import folder_ids, listed
from kit.data.finder import IMAGE_SUFFIXES, image_files
from kit.data.pixels import read_frame
from kit.errors import KitError

KEYS = "set submission.form, id_column, label_column or ids (competition.toml, or SET= of make new)"


def without_sample(found, folder: Path) -> list[Path]:
    """Set the submission's columns and id spelling on `found` (a kit.data.infer.Inferred) for a
    competition without a sample; the test images it will predict (every file of the test folder)."""
    data = found.sections["data"]
    found.set("submission.sample_file", "", "no sample submission in the data folder")
    if data.get("format") == "images":
        found.set("submission.id_column", data["image_column"], f"no sample: {data['train_file']}'s id column")
        found.set("submission.label_column", data["label_column"], f"no sample: {data['train_file']}'s label column")
    elif found.given("submission.id_column") is None or found.given("submission.label_column") is None:
        raise KitError(
            f"{folder}: no sample submission and no labels table to name its columns: set "
            "SET='submission.id_column=<id column> submission.label_column=<label column>' "
            "(or SET=submission.sample_file=<a sample's file name>)"
        )
    found.set("submission.labels", "names", "no sample: labels written as the training data spells them")
    test_dir = folder / data.get("test_dir", "test")
    test = image_files(test_dir) if test_dir.is_dir() else []
    if not test:
        raise KitError(f"{test_dir}: no test images, and no sample submission naming them (SET=data.test_dir=...)")
    found.set("submission.ids", id_spelling(folder, data), f"spelt as {data.get('train_file', 'the files')} does")
    return test


def id_spelling(folder: Path, data: dict) -> str:
    """'stem' when the training table names its images without the extension (APTOS' id_code),
    else 'file' (the test file's name, as it is)."""
    if data.get("format") != "images":
        return "file"
    ids = read_frame(folder / data["train_file"])[data["image_column"]].astype(str).head(50)
    return "file" if any(Path(v).suffix.lower() in IMAGE_SUFFIXES for v in ids) else "stem"


def form_from_metric(found, metric: str) -> None:
    """One label, one probability column per class, or the positive class's probability: what
    the metric scores (a target other than classification has set its own: kit.data.infer_target);
    stated with the keys that change it."""
    from kit.metrics import PROBABILITY_METRICS  # scikit-learn: only once a metric is known

    names = found.sections["competition"]["class_names"]
    submission = found.sections["submission"]
    if "form" not in submission:
        form = "label"
        if metric in PROBABILITY_METRICS:
            form = "probability" if len(names) == 2 else "probabilities"
        found.set("submission.form", form, f"no sample: what metric {metric} scores")
    form, id_column, label_column = submission["form"], submission["id_column"], submission["label_column"]
    if form == "probabilities":
        shown = f"{id_column},{','.join(names[:4])}{',...' if len(names) > 4 else ''} (a probability per class)"
    elif form == "probability":
        shown = f"{id_column},{label_column} (the probability of class '{names[-1]}')"
    else:
        shown = f"{id_column},{label_column} ({WRITES.get(form, form)})"
    if found.sections["data"].get("channel_files"):
        spelt = "ids as the channel files' <id> (<id>_<channel>)"
    else:
        spelt = f"ids as the test files' {'stems' if submission['ids'] == 'stem' else 'names'}"
    found.summary.append(f"no sample submission: writing {shown}, {spelt}; {KEYS} to change it")


WRITES = {
    "label": "one label per image",
    "topk": "K labels per image, best first",
    "value": "a number per image",
    "tags": "the tags of each image, space-separated",
    "grade": "one grade per image",
}


def stand_in(found, folder: Path):
    """The sample this competition lacks, as `make new` chose its shape: the test files' ids and
    the submission's columns (placeholder values), recorded so that a file can be validated
    where the data folder is not (kit.scoring.offline). None for pixel CSVs (ids by number)."""
    import pandas as pd

    data, submission = found.sections["data"], found.sections.get("submission", {})
    if data.get("format") == "pixels" or "id_column" not in submission:
        return None
    files = image_files(folder / data.get("test_dir", "test"))
    ids = folder_ids(files, submission.get("ids", "file"), listed(data.get("channel_files", ())))
    names = found.sections["competition"]["class_names"]
    columns = names if submission.get("form") == "probabilities" else [submission["label_column"]]
    return pd.DataFrame({submission["id_column"]: ids, **{str(c): "" for c in columns}})
