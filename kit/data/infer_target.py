"""`make new`: what a label is (kit.targets), from the metric and the training table, and the
submission form that goes with it. Runs after the layout and the metric are known.

    map@K                           topk: K labels per image, best first
    rmse, mae                       regression: the label column's numbers, written as numbers
    f2, f1_samples (macro_f1 when   multilabel: tags separated by spaces in one column, or one
    the labels are sets of tags)    0/1 column per tag (then the sample's columns name the tags)
    qwk                             classification, said with the key that makes it ordinal
    target ordinal (SET=)           the grade as a number, cut at thresholds chosen out of fold
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from kit import metrics, targets
from kit.data.layouts import class_order
from kit.data.pixels import read_frame
from kit.errors import KitError
from kit.targets.classification import tokens


def known_metric(metric: str) -> str:
    """The kit's name for METRIC= (Kaggle's own names too: 'MAP@{5}', 'RMSE', 'MeanFScoreBeta')."""
    if not metric or metric in metrics.METRICS or metrics.top_k(metric):
        return metric
    return metrics.from_kaggle(metric) or metric


def settle_target(found, folder: Path, sample: pd.DataFrame | None) -> None:
    """Set competition.target, and the class names and submission form it implies, on `found`
    (a kit.data.infer.Inferred)."""
    table = labelled_table(found, folder)
    if table is not None and found.sources.get("competition.metric", "").startswith("guessed"):
        guess_from_labels(found, table[1])
    metric = found.sections["competition"]["metric"]
    named = found.sections["competition"].get("target", "auto")  # SET=competition.target=..., once SET comes first
    kind = targets.kind_for_metric(metric) if named == "auto" else named
    if kind == "classification" and metric == "macro_f1" and table is not None and holds_tag_sets(table[1]):
        kind = "multilabel"  # Human Protein Atlas: macro-F1 over tags
    if kind == "classification":  # two classes under roc_auc/log_loss: kit.data.infer.binary_form_from_metric
        if metric == "qwk":
            found.summary.append(
                "target: one class per grade; SET=competition.target=ordinal trains the grade as a number "
                "cut at thresholds chosen on out-of-fold predictions (the APTOS 2019 winners' way)"
            )
        return
    found.set("competition.target", kind, f"metric {metric}")
    if kind == "topk":
        k = metrics.top_k(metric)
        found.set("submission.form", "topk", f"metric {metric}: {k} labels per image, best first")
        found.summary.append(f"target: top-{k}, one class per image, {k} guesses written best first")
        spaced = [name for name in found.sections["competition"]["class_names"] if " " in name]
        if spaced:
            found.summary.append(f"class names with spaces are written with '_' ('{spaced[0].replace(' ', '_')}')")
        return
    if table is None:
        layout = found.sections["data"].get("format")
        raise KitError(f"metric {metric} needs a CSV of image ids and their labels (data.format images), not {layout}")
    if kind == "regression":
        regression(found, metric, *table)
    elif kind == "ordinal":
        ordinal(found, metric, *table)
    else:
        multilabel(found, metric, *table, sample)


def labelled_table(found, folder: Path) -> tuple[Path, pd.Series, pd.DataFrame] | None:
    data = found.sections["data"]
    if data.get("format") != "images":
        return None
    path = folder / data["train_file"]
    frame = read_frame(path)
    return path, frame[data["label_column"]], frame


def guess_from_labels(found, labels: pd.Series) -> None:
    """No METRIC=: tags separated by spaces are multi-label (f2, Planet's), fractional numbers a
    regression (rmse): never one class per combination or per value, without a word."""
    numbers = pd.to_numeric(labels, errors="coerce")
    guess = "f2" if holds_tag_sets(labels) else ""
    if not guess and numbers.notna().all() and (numbers != numbers.round()).any():
        guess = "rmse"
    if guess:
        found.summary[:] = [line for line in found.summary if not line.startswith("metric ")]  # the form's guess
        found.set("competition.metric", guess, f"guessed from '{labels.name}'s values; METRIC= sets it")
        found.summary.append(f"metric {guess} is a guess from the labels: pass METRIC=<the competition's metric>")


def holds_tag_sets(labels: pd.Series) -> bool:
    """Labels written as space-separated words in some rows ('haze primary', '0 25')."""
    return labels.astype(str).str.strip().str.contains(" ").mean() > 0.05


def regression(found, metric: str, path: Path, labels: pd.Series, frame: pd.DataFrame) -> None:
    values = pd.to_numeric(labels, errors="coerce")
    if values.notna().mean() < 0.99:
        bad = labels[values.isna()].iloc[0]
        raise KitError(
            f"{path.name}: column '{labels.name}' holds {bad!r}, not a number, but metric {metric} scores numbers: "
            "set SET=data.label_column=<the column of numbers>"
        )
    found.set("competition.class_names", [str(labels.name)], f"{path.name}: '{labels.name}' is the number predicted")
    found.set("submission.form", "value", f"metric {metric}: a number per image")
    found.summary.append(
        f"target: regression on '{labels.name}' ({values.min():g}..{values.max():g}, mean {values.mean():.4g}), "
        "one linear unit, predictions clipped to that range"
    )


def ordinal(found, metric: str, path: Path, labels: pd.Series, frame: pd.DataFrame) -> None:
    """Grades in the order of the class names: integers in their numeric order, or names SET=
    lists in grade order; words sorted by the alphabet are no grade order, so they stop here."""
    from kit.data.classes import are_integers
    from kit.targets.ordinal import scores_labels

    if not scores_labels(metric):
        raise KitError(f"competition.target ordinal writes one grade per image, which metric {metric} does not score")
    names = found.sections["competition"]["class_names"]
    if not are_integers(names) and found.given("competition.class_names") is None:
        raise KitError(
            f"{path.name}: '{labels.name}' holds words ({', '.join(names[:4])}), not integer grades: "
            'set SET="competition.class_names=[...]" listing them in grade order'
        )
    found.set("submission.form", "grade", f"metric {metric}: one grade per image, cut from a number")
    found.summary.append(
        f"target: ordinal, grades {' < '.join(names)}: one linear unit on the grade, cut at thresholds chosen on "
        f"out-of-fold predictions for {metric} (stored with each run)"
    )


def multilabel(found, metric: str, path: Path, labels: pd.Series, frame: pd.DataFrame, sample) -> None:
    columns = [] if sample is None else [str(c) for c in sample.columns[1:]]
    if len(columns) > 1 and all(c in frame.columns for c in columns):  # one 0/1 column per tag
        names, form = columns, "columns"
        source = f"{path.name}: one 0/1 column per tag, in the sample's order"
    else:
        names = class_order({tag for value in labels for tag in tokens(value)})  # '2' before '10'
        form, source = "tags", f"{path.name}: the words of '{labels.name}'"
    if len(names) < 2:
        raise KitError(f"{path.name}: '{labels.name}' holds {len(names)} tag(s); a multi-label target needs two")
    found.set("competition.class_names", names, source)
    found.set("submission.form", form, f"metric {metric}: the tags of each image")
    shown = ", ".join(names[:6]) + (", ..." if len(names) > 6 else "")
    found.summary.append(
        f"target: multi-label, {len(names)} tags ({shown}): sigmoids, per-tag thresholds chosen on "
        f"out-of-fold predictions for {metric}"
    )
