"""Prediction rows follow the sample submission's ids, whatever order the test file lists them in."""

import numpy as np

from kit.predict import in_sample_order


def test_rows_follow_the_samples_ids():
    probabilities = np.eye(3)  # row i predicts class i
    reordered = in_sample_order(probabilities, np.array([5, 3, 4]), np.array([3, 4, 5]))
    assert reordered.argmax(axis=1).tolist() == [1, 2, 0]


def test_other_ids_keep_the_file_order():
    probabilities = np.eye(3)
    assert in_sample_order(probabilities, np.array(["a", "b", "c"]), np.array([1, 2, 3])) is probabilities
