"""The corpus' judge: a submission checked against its sample (columns, ids in order, value types
for its form) and scored with scikit-learn / NumPy, never kit.metrics, beside the best trivial
submission for the metric (the sample's own placeholders, a constant, the training prior).

    form           what each row holds                                 scored by
    label          one training label, spelt as train spells it        accuracy micro_f1 macro_f1 qwk
    probability    the positive class's probability                    roc_auc log_loss
    probabilities  one probability column per class (the sample's)     log_loss
    tags           space-separated tags                                f2 macro_f1
    columns        one 0/1 column per tag (the sample's)               f2
    topk           K distinct labels, best first                       map@K
    value          a number                                            rmse
"""

from __future__ import annotations

from collections import Counter

import numpy as np
import pandas as pd
from sklearn.metrics import (
    accuracy_score,
    cohen_kappa_score,
    f1_score,
    fbeta_score,
    log_loss,
    mean_squared_error,
    roc_auc_score,
)
from sklearn.preprocessing import MultiLabelBinarizer

LOWER_IS_BETTER = {"log_loss", "rmse"}


def check_format(submission: pd.DataFrame, sample: pd.DataFrame, form: str, train: list) -> None:
    """The sample's columns in its order, its ids in its order and of its type, and values of the
    type the form writes."""
    assert list(submission.columns) == list(sample.columns)
    ids = sample.columns[0]
    assert submission[ids].tolist() == sample[ids].tolist()
    assert submission[ids].dtype.kind == sample[ids].dtype.kind
    values = submission[sample.columns[1:]]
    if form == "columns":
        assert all(values[c].dtype.kind == "i" and values[c].isin((0, 1)).all() for c in values)
        return
    if form == "probabilities":
        assert all(values[c].dtype.kind == "f" for c in values)
        assert ((values >= 0) & (values <= 1)).all().all() and np.allclose(values.sum(axis=1), 1, atol=1e-3)
        return
    column = values.iloc[:, 0]
    if form == "label":  # the labels as training spells them: integers stay integers, names names
        assert column.dtype.kind == pd.Series(train).dtype.kind
        assert set(column) <= set(train)
    elif form == "probability":
        # probabilities, not hard labels (a 0 or 1 where the model is sure is clipped inside)
        assert column.dtype.kind == "f" and column.between(0, 1, inclusive="neither").all()
    elif form in ("tags", "topk"):
        known = {tag for row in train for tag in str(row).split()}
        rows = [str(row).split() for row in column]
        assert all(set(row) <= known for row in rows)
        if form == "topk":
            assert all(len(row) == len(set(row)) == len(rows[0]) for row in rows)
    elif form == "value":
        assert column.dtype.kind == "f" and column.between(min(train), max(train)).all()


def predictions(submission: pd.DataFrame, form: str):
    """What the metric reads off the submission: a column, a matrix of probabilities, tag sets."""
    if form == "probabilities":
        return submission.iloc[:, 1:]
    if form == "columns":
        return [[tag for tag in submission.columns[1:] if row[tag] == 1] for _, row in submission.iterrows()]
    column = submission.iloc[:, 1]
    if form in ("tags", "topk"):
        return [str(row).split() for row in column]
    return column.tolist()


def score(metric: str, truth: list, predicted, form: str) -> float:
    if metric in ("accuracy", "micro_f1"):
        return float(accuracy_score(list(map(str, truth)), list(map(str, predicted))))
    if metric == "macro_f1" and form in ("tags", "columns"):
        binarizer = MultiLabelBinarizer().fit([*truth, *map(set, predicted)])
        return float(f1_score(binarizer.transform(truth), binarizer.transform(map(set, predicted)), average="macro"))
    if metric == "macro_f1":
        return float(f1_score(list(map(str, truth)), list(map(str, predicted)), average="macro"))
    if metric == "qwk":
        return float(cohen_kappa_score(truth, predicted, weights="quadratic"))
    if metric == "roc_auc":
        return float(roc_auc_score(truth, predicted))
    if metric == "log_loss" and form == "probabilities":
        return float(log_loss(truth, predicted.to_numpy(), labels=list(predicted.columns)))
    if metric == "log_loss":
        return float(log_loss(truth, predicted, labels=[0, 1]))
    if metric == "f2":
        binarizer = MultiLabelBinarizer().fit([*truth, *map(set, predicted)])
        pair = binarizer.transform(truth), binarizer.transform(map(set, predicted))
        return float(fbeta_score(*pair, beta=2, average="samples", zero_division=0))
    if metric.startswith("map@"):
        k, pairs = int(metric[4:]), zip(truth, predicted, strict=True)  # one true label: 1/rank of its guess
        return float(np.mean([next((1 / (i + 1) for i, g in enumerate(row[:k]) if g == t), 0) for t, row in pairs]))
    if metric == "rmse":
        return float(np.sqrt(mean_squared_error(truth, predicted)))
    raise ValueError(metric)


def trivial_submissions(sample: pd.DataFrame, form: str, train: list, metric: str) -> list:
    """The sample as it is, and the constant answers a competitor would try first."""
    rows = len(sample)
    answers = [predictions(sample, form)]
    counts = Counter(map(str, train))
    if form == "label":
        majority = next(t for t in train if str(t) == counts.most_common(1)[0][0])
        answers.append([majority] * rows)
    elif form == "probability":
        answers.append([float(np.mean(train))] * rows)
    elif form == "probabilities":
        prior = [counts.get(str(c), 0) / len(train) for c in sample.columns[1:]]
        answers.append(pd.DataFrame([prior] * rows, columns=sample.columns[1:]))
    elif form in ("tags", "columns"):
        tags = sorted({tag for row in train for tag in str(row).split()})
        answers += [[tags] * rows, [counts.most_common(1)[0][0].split()] * rows]
    elif form == "topk":
        answers.append([[name for name, _ in counts.most_common(int(metric[4:]))]] * rows)
    elif form == "value":
        answers.append([float(np.mean(train))] * rows)
    return answers


def trivial_score(metric: str, truth: list, sample: pd.DataFrame, form: str, train: list) -> float:
    scores = [score(metric, truth, answer, form) for answer in trivial_submissions(sample, form, train, metric)]
    return min(scores) if metric in LOWER_IS_BETTER else max(scores)


def gain(metric: str, value: float, trivial: float) -> float:
    """The share of the way from the trivial score to a perfect one (1, or 0 for a loss)."""
    if metric in LOWER_IS_BETTER:
        return (trivial - value) / trivial
    return (value - trivial) / (1 - trivial)
