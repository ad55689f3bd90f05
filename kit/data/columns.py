"""What a CSV column holds, read from its values: fractional numbers (probabilities) or text
(class names). Shared by layout inference and the submission's form."""

from __future__ import annotations

import pandas as pd


def is_fractional(values: pd.Series) -> bool:
    """Floats that are not all whole numbers: a sample column of probabilities, not labels."""
    return pd.api.types.is_float_dtype(values) and not (values == values.round()).all()


def is_text(values: pd.Series) -> bool:
    """Labels written as class names: str dtype (pandas 3) or object dtype holding strings."""
    if pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
        return False
    return pd.api.types.is_string_dtype(values) or pd.api.types.infer_dtype(values, skipna=True) == "string"
