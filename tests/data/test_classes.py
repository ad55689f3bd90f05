"""Class names travel with probabilities: aligning by name undoes any column order, and different
sets of classes are refused in one line naming both."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from kit.data import classes
from kit.errors import KitError

NAMES = st.lists(st.text("abcdefxyz-", min_size=1, max_size=6), min_size=2, max_size=6, unique=True)


@st.composite
def probabilities_and_order(draw):
    """(names, probabilities with a column per name, a permutation of the columns)."""
    names = draw(NAMES)
    rows = draw(st.integers(1, 5))
    values = draw(st.lists(st.floats(0.01, 1.0), min_size=rows * len(names), max_size=rows * len(names)))
    probabilities = np.array(values).reshape(rows, len(names))
    order = draw(st.permutations(range(len(names))))
    return tuple(names), probabilities / probabilities.sum(axis=1, keepdims=True), list(order)


@given(probabilities_and_order())
def test_aligning_a_permuted_array_by_name_gives_the_original(case):
    names, probabilities, order = case
    permuted, permuted_names = probabilities[:, order], tuple(names[i] for i in order)
    np.testing.assert_array_equal(classes.align(permuted, permuted_names, names, "run b"), probabilities)


@given(NAMES, NAMES)
def test_other_sets_of_classes_are_refused_naming_both(names, others):
    if set(names) == set(others):
        return
    with pytest.raises(KitError) as error:
        classes.align(np.zeros((1, len(names))), names, others, "run b")
    assert str(error.value) == (
        f"run b: its classes {names} are not the classes {others}: "
        "only predictions of the same classes can be combined (competition.class_names)"
    )


def test_a_repeated_name_is_refused():
    with pytest.raises(KitError, match=r"its classes \['a', 'a'\]"):
        classes.align(np.zeros((1, 2)), ("a", "a"), ("a", "b"), "run b")


def test_labels_are_names_unless_every_name_is_an_integer():
    assert classes.label_domain(("0", "1", "2")) == (0, 1, 2)
    assert classes.label_domain(("1", "2", "3", "4", "5")) == (1, 2, 3, 4, 5)
    assert classes.label_domain(("cat", "2")) == ("cat", "2")
    assert classes.label_domain(("01", "02")) == ("01", "02")  # "01" would be written back as 1
