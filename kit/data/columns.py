"""What a CSV column holds, read from its values: fractional numbers (probabilities). Layout
inference reads it when no metric is given; a submission's form and value type come from the
metric and the class names instead (a sample's values are placeholders)."""

from __future__ import annotations

import pandas as pd


def is_fractional(values: pd.Series) -> bool:
    """Floats that are not all whole numbers: a sample column of probabilities, not labels. An
    empty column (pandas reads it as NaN floats) holds nothing fractional."""
    numbers = values.dropna()
    return pd.api.types.is_float_dtype(values) and not numbers.empty and not (numbers == numbers.round()).all()
