"""What training returns, and the interface every model kind implements.

A model kind is a class of `kit.training.kinds` (`KerasKind`, `SklearnKind`) with the methods of
`ModelKind`; `kit.training.kinds` picks one from the registry's `kind` or from a checkpoint's file
name. Nothing else in the kit branches on the kind of a model.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np


@dataclass
class FoldResult:
    checkpoint: Path
    val_index: np.ndarray
    val_probabilities: np.ndarray
    scores: dict[str, float]
    epochs: int
    seconds: float
    deterministic: bool | None = None  # trained with deterministic ops (kit.training.determinism)
    precision: str | None = None  # the Keras dtype policy a network trained under (kit.training.device)


@dataclass
class RunResult:
    run_dir: Path
    folds: list[FoldResult] = field(default_factory=list)
    calibration: dict | None = None  # a log-loss run's temperature (kit.training.calibration)

    @property
    def score(self) -> float:
        """Mean validation score over folds (the CV score recorded with submissions)."""
        return float(np.mean([fold.scores["score"] for fold in self.folds]))


def float32_probabilities(probabilities) -> np.ndarray:
    """Class probabilities as every consumer receives them: float32, each row summing to 1.

    A network under a mixed policy may hand back float16 or bfloat16 (scikit-learn refuses
    bfloat16, and 8 bits of mantissa leave rows summing to 0.99 or 1.007); even float32 softmax
    rows miss 1 by a few ulps. Dividing by the row sum in float64, then rounding each entry once,
    leaves every row within 1e-7 of 1 (each entry's rounding error is relative to its size, and
    the entries sum to 1). A row of zeros (a model that gave nothing) is left as it is.

    >>> float32_probabilities(np.array([[0.25, 0.25], [3.0, 1.0]], dtype="float16")).tolist()
    [[0.5, 0.5], [0.75, 0.25]]
    """
    wide = np.asarray(probabilities, dtype=np.float64)
    sums = wide.sum(axis=-1, keepdims=True)
    return np.divide(wide, sums, out=wide.copy(), where=sums > 0).astype(np.float32)


class ModelKind(Protocol):
    """fit, load, predict and count parameters for one kind of model (`fitted_index`: the rows
    `fit` really trains on, as some kinds subsample); what `fit` takes for Optuna to prune a trial
    (`pruning_callbacks`, passed back as `extra_callbacks`) and what frees a fit's leftovers (`clear`)."""

    name: str  # the registry's kind: keras, sklearn
    CHECKPOINT: str  # the file name of a fold's saved model: best.keras, best.skops

    def fit(
        self,
        cfg,
        images,
        train_index,
        val_index,
        fold_dir: Path,
        resume: bool = False,
        extra_callbacks: tuple = (),
        verbose: int | str = "auto",
    ) -> FoldResult: ...

    def fitted_index(self, cfg, labels: np.ndarray, train_index: np.ndarray) -> np.ndarray: ...

    def load(self, path: Path) -> Any: ...

    def predict(self, model: Any, cfg, images: np.ndarray) -> np.ndarray: ...

    def parameter_count(self, model: Any) -> int | None: ...

    def pruning_callbacks(self, trial: Any, monitor: str) -> list: ...

    def clear(self) -> None: ...
