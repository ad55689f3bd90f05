"""What training returns: probabilities leave every model as float32 rows summing to 1."""

import ml_dtypes
import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from kit.training.results import float32_probabilities

DTYPES = [np.float16, ml_dtypes.bfloat16, np.float32, np.float64]


@given(
    st.sampled_from(DTYPES),
    hnp.arrays(np.float64, hnp.array_shapes(min_dims=2, max_dims=2, max_side=300), elements=st.floats(0.001, 1.0)),
)
def test_any_model_output_becomes_float32_rows_summing_to_one(dtype, raw):
    """Softmax rows of any width in any dtype a policy gives (bfloat16 rows summed to 0.99 or
    1.007 in make run) come out float32, each row's classes in the same order and proportion."""
    given_rows = raw.astype(dtype)
    rows = float32_probabilities(given_rows)
    assert rows.dtype == np.float32 and rows.shape == raw.shape
    np.testing.assert_allclose(rows.astype(np.float64).sum(axis=1), 1.0, rtol=0, atol=1e-6)
    wide = given_rows.astype(np.float64)
    np.testing.assert_allclose(rows, wide / wide.sum(axis=1, keepdims=True), rtol=1e-6)


def test_a_row_of_zeros_stays_zeros():
    assert float32_probabilities(np.zeros((1, 3))).tolist() == [[0.0, 0.0, 0.0]]
