"""The scikit-learn baselines, registered beside the networks (kind "sklearn").

Each factory returns an unfitted estimator that takes flattened uint8 pixels (N, H*W*C) and scales
them to 0..1 itself, so a saved `best.skops` needs nothing else at prediction time. The signature
matches the Keras factories (`input_shape, num_classes, width, dropout`) so registry-wide tests and
the comparison treat both kinds alike; arguments that mean nothing to a model are ignored.

| name            | model                                                | Fashion-MNIST val (test) |
| --------------- | ---------------------------------------------------- | ------------------------ |
| `logreg`        | multinomial logistic regression on pixels            | 0.863 (0.843)            |
| `knn`           | k=5 nearest neighbours, uniform weights, Euclidean   | 0.857 (0.849)            |
| `svm`           | RBF SVC (C=10) on 80 PCA components, 30k rows        | 0.900 (0.886)            |
| `random_forest` | 100 trees on pixels (`width` scales the tree count)  | 0.881 (0.874)            |

Scores from bench/COMPARE.md (48,000 training rows; published: KNN 0.851, SVC 0.897-0.907).
Training rows are capped per model (`ROW_CAPS`) because fitting or predicting costs grow faster
than the data; `kit.training.sklearn_kind` applies the cap with a warning and `train.max_train_rows` changes it.
"""

from __future__ import annotations

import numpy as np
from sklearn.decomposition import PCA
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer
from sklearn.svm import SVC

from kit.models.registry import register

# Default cap on training rows per model, used when train.max_train_rows is 0. Measured on 2 cores
# with Fashion-MNIST: an RBF SVC's fit grows about quadratically with rows (80 PCA components:
# 4 s at 20k rows, far longer on raw pixels) and its prediction linearly with its support vectors;
# brute-force KNN stores every row and compares each query with all of them (48k rows: 10 s per
# 12k queries). Models not listed have no cap.
ROW_CAPS = {"svm": 30_000, "knn": 50_000}


def to_unit(pixels: np.ndarray) -> np.ndarray:
    """uint8 pixels 0..255 -> float32 0..1 (a module-level function: skops stores it by name)."""
    return np.asarray(pixels, dtype=np.float32) / 255.0


def scaled_pipeline(*steps) -> Pipeline:
    """Scaling to 0..1 first: distances, kernels and regularisation assume that range."""
    return Pipeline([("scale", FunctionTransformer(to_unit)), *steps])


@register("logreg", kind="sklearn")
def logreg(input_shape, num_classes, width=1.0, dropout=0.0):
    """Multinomial logistic regression on 0..1 pixels (lbfgs, 200 iterations)."""
    # 200 iterations: lbfgs stops short of convergence at 100 on 48k Fashion-MNIST rows (0.861)
    return scaled_pipeline(("model", LogisticRegression(max_iter=200)))


@register("knn", kind="sklearn")
def knn(input_shape, num_classes, width=1.0, dropout=0.0):
    """k-nearest neighbours: k=5, uniform weights, Euclidean (the published 0.851 baseline)."""
    # no PCA: the published baseline is on raw pixels and brute force is fast enough here
    return scaled_pipeline(("model", KNeighborsClassifier(n_neighbors=5, weights="uniform", p=2, n_jobs=-1)))


@register("svm", kind="sklearn")
def svm(input_shape, num_classes, width=1.0, dropout=0.0):
    """RBF support vector machine (C=10, gamma='scale') on 80 PCA components."""
    # PCA to 80 components keeps ~90% of the variance of 28x28 images and makes every kernel
    # evaluation ~10x cheaper; libsvm is single-threaded, so this is where the time goes.
    # No probability=True: Platt scaling reruns the fit 5 times; kit.training.sklearn_kind softmaxes
    # the decision function instead.
    # (kit.training.sklearn_kind.fit_estimator lowers the 80 on data sets with fewer rows or pixels)
    return scaled_pipeline(("pca", PCA(80)), ("model", SVC(C=10.0, kernel="rbf")))


@register("random_forest", kind="sklearn")
def random_forest(input_shape, num_classes, width=1.0, dropout=0.0):
    """Random forest of 100 trees on 0..1 pixels, all cores (`width` scales the tree count)."""
    # raw pixels, not PCA: trees split on single pixels well and lose accuracy on rotated components
    trees = max(10, round(100 * width))  # 100: 37 s on 48k rows, 2 cores
    return scaled_pipeline(("model", RandomForestClassifier(trees, n_jobs=-1)))
