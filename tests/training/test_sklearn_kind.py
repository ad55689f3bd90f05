"""scikit-learn's own warnings as the kit says them: a ConvergenceWarning becomes one line naming
the iteration limit; any other warning passes through unchanged."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression

from kit.training.sklearn_kind import fit_estimator


def noisy_data(rows: int = 200, features: int = 30):
    generator = np.random.default_rng(0)
    return generator.normal(size=(rows, features)), generator.integers(0, 3, rows)


def test_a_solver_at_its_iteration_limit_is_one_line(capsys):
    pixels, labels = noisy_data()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing may escape as a raw warning
        fit_estimator(LogisticRegression(max_iter=2), pixels, labels)
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "LogisticRegression stopped at its iteration limit before converging (max_iter=2)" in err


class Grumbler(ClassifierMixin, BaseEstimator):
    def fit(self, x, y):
        warnings.warn("something the user should see", UserWarning, stacklevel=1)
        return self


def test_other_warnings_pass_through(capsys):
    pixels, labels = noisy_data()
    with pytest.warns(UserWarning, match="something the user should see"):
        fit_estimator(Grumbler(), pixels, labels)
    assert capsys.readouterr().err == ""
