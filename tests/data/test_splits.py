"""Stratified holdout and k-fold: seeded, disjoint, covering, recorded."""

import numpy as np
import pytest

from kit.config import DataSection
from kit.data.splits import load_splits, make_splits, save_splits, split_sha256
from kit.errors import KitError

LABELS = np.repeat(np.arange(4), [40, 30, 20, 10])


def test_holdout_is_stratified_and_seeded():
    [(train, val)] = make_splits(LABELS, DataSection(val_fraction=0.2))
    assert len(val) == 20 and np.intersect1d(train, val).size == 0
    assert np.bincount(LABELS[val]).tolist() == [8, 6, 4, 2]
    [(train2, val2)] = make_splits(LABELS, DataSection(val_fraction=0.2))
    np.testing.assert_array_equal(val, val2)
    [(_, val3)] = make_splits(LABELS, DataSection(val_fraction=0.2, seed=1))
    assert not np.array_equal(val, val3)


def test_kfold_covers_every_row_once():
    splits = make_splits(LABELS, DataSection(folds=5))
    assert len(splits) == 5
    all_val = np.concatenate([val for _, val in splits])
    np.testing.assert_array_equal(np.sort(all_val), np.arange(len(LABELS)))
    for train, val in splits:
        assert np.intersect1d(train, val).size == 0 and np.bincount(LABELS[val]).tolist() == [8, 6, 4, 2]


def test_splits_round_trip(tmp_path):
    splits = make_splits(LABELS, DataSection(folds=3))
    save_splits(splits, tmp_path / "split.npz")
    for (a, b), (c, d) in zip(splits, load_splits(tmp_path / "split.npz"), strict=True):
        np.testing.assert_array_equal(a, c)
        np.testing.assert_array_equal(b, d)


def test_bad_split_settings():
    with pytest.raises(KitError, match=r"data\.folds=20: needs 2\.\.10"):
        make_splits(LABELS, DataSection(folds=20))
    with pytest.raises(KitError, match=r"data\.val_fraction=1\.5"):
        make_splits(LABELS, DataSection(val_fraction=1.5))


def test_sets_too_small_to_stratify_get_a_plain_split_or_a_clear_error(capsys):
    labels = np.arange(20) % 10  # 10 classes, 4 rows held out: no room for one of each
    [(train, val)] = make_splits(labels, DataSection(val_fraction=0.2))
    assert len(val) == 4 and sorted(np.concatenate([train, val]).tolist()) == list(range(20))
    assert "cannot be split stratified" in capsys.readouterr().out
    with pytest.raises(KitError, match=r"1 labelled row\(s\): too few to hold out data.val_fraction=0.2"):
        make_splits(np.array([3]), DataSection(val_fraction=0.2))


def test_split_hash_survives_a_save_and_tells_seeds_apart(tmp_path):
    splits = make_splits(LABELS, DataSection(folds=3))
    save_splits(splits, tmp_path / "split.npz")
    assert split_sha256(load_splits(tmp_path / "split.npz")) == split_sha256(splits)
    assert split_sha256(make_splits(LABELS, DataSection(folds=3, seed=7))) != split_sha256(splits)
