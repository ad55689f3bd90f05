"""Out-of-fold ensemble scores average the members class by class, whatever order each run lists
its classes in, in its record or in its fold files."""

import io
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from kit import fileio, metrics, oof
from kit.errors import KitError

NAMES = ["cat", "dog", "fox"]
CURRENT = {"competition": {"class_names": NAMES}, "data": {"height": 8}}


def write_run(run_dir, names, probabilities, folds: int = 2, names_in_files: bool = True) -> None:
    """A finished run: config and record naming `names`, folds holding alternate rows."""
    fileio.write_json(run_dir / "config.json", {"competition": {"class_names": names}, "data": {"height": 8}})
    fileio.write_json(
        run_dir / "run.json", {"folds": [{}] * folds} | ({"class_names": names} if names_in_files else {})
    )
    rows = np.arange(len(probabilities))
    for fold in range(folds):
        val_index = rows[fold::folds]
        saved = {"val_index": val_index, "probabilities": probabilities[val_index].astype(np.float32)}
        if names_in_files:
            saved["class_names"] = np.array(names)
        buffer = io.BytesIO()
        np.savez(buffer, **saved)
        fileio.atomic_write(run_dir / f"fold{fold}" / "val.npz", buffer.getvalue())


@st.composite
def oof_case(draw):
    shape = (draw(st.integers(2, 8)), len(NAMES))
    probabilities = draw(arrays(np.float64, shape, elements=st.floats(0.01, 1.0)))
    order = list(draw(st.permutations(range(len(NAMES)))))
    labels = np.array(draw(st.lists(st.integers(0, 2), min_size=shape[0], max_size=shape[0])))
    return probabilities / probabilities.sum(axis=1, keepdims=True), order, labels, draw(st.booleans())


@settings(max_examples=30, deadline=None)
@given(oof_case())
def test_a_run_ensembled_with_itself_in_another_class_order_scores_as_the_run(case):
    probabilities, order, labels, names_in_files = case
    with tempfile.TemporaryDirectory() as folder:
        run, permuted = Path(folder) / "a", Path(folder) / "b"
        write_run(run, NAMES, probabilities)
        write_run(permuted, [NAMES[i] for i in order], probabilities[:, order], names_in_files=names_in_files)
        rows, averaged = oof.shared_rows([run, permuted], len(labels), CURRENT, "accuracy")
        np.testing.assert_allclose(averaged, probabilities[rows], atol=1e-6)
        score, method = oof.ensemble_cv([run, permuted], labels, "log_loss", CURRENT)
    assert method.startswith("out-of-fold")
    assert score == pytest.approx(metrics.score(labels[rows], probabilities[rows], "log_loss")["score"], abs=1e-5)


def test_a_member_of_other_classes_is_refused(tmp_path):
    write_run(tmp_path / "a", NAMES, np.full((4, 3), 1 / 3))
    write_run(tmp_path / "b", ["cat", "dog", "emu"], np.full((4, 3), 1 / 3))
    with pytest.raises(KitError, match=r"run b: its classes \['cat', 'dog', 'emu'\] are not the classes"):
        oof.shared_rows([tmp_path / "a", tmp_path / "b"], 4, CURRENT)


def test_each_members_temperature_is_applied_for_log_loss(tmp_path):
    probabilities = np.array([[0.6, 0.3, 0.1], [0.2, 0.7, 0.1]])
    write_run(tmp_path / "a", NAMES, probabilities, folds=1)
    write_run(tmp_path / "b", NAMES, probabilities, folds=1)
    record = fileio.read_json(tmp_path / "b" / "run.json") | {"calibration": {"temperature": 0.5}}
    fileio.write_json(tmp_path / "b" / "run.json", record)
    _, plain = oof.shared_rows([tmp_path / "a", tmp_path / "b"], 2, CURRENT, "accuracy")
    _, scaled = oof.shared_rows([tmp_path / "a", tmp_path / "b"], 2, CURRENT, "log_loss")
    np.testing.assert_allclose(plain, probabilities, atol=1e-6)
    sharpened = probabilities**2 / (probabilities**2).sum(axis=1, keepdims=True)  # T = 0.5
    np.testing.assert_allclose(scaled, (probabilities + sharpened) / 2, atol=1e-6)


def test_one_log_loss_runs_cv_is_that_of_its_scaled_probabilities(tmp_path):
    write_run(tmp_path / "a", NAMES, np.full((4, 3), 1 / 3))
    fitted = {"temperature": 0.5, "log_loss_before": 0.9, "log_loss_after": 0.6, "rows": 4}
    fileio.write_json(tmp_path / "a" / "run.json", {"score": 0.9, "calibration": fitted})
    assert oof.ensemble_cv([tmp_path / "a"], np.zeros(4), "log_loss", CURRENT)[0] == 0.6
    assert oof.ensemble_cv([tmp_path / "a"], np.zeros(4), "accuracy", CURRENT) == (0.9, "validation")


def test_images_signature_reads_saved_lists_as_tuples_and_a_missing_key_as_its_default():
    from kit import config

    resolved = config.public_dict(config.resolve({"data": {"format": "images", "height": 8}}))
    saved = {"data": {"format": "images", "height": 8}}  # a run saved before data.channel_files existed
    assert oof.images_signature(saved) == oof.images_signature(resolved)
    files = {"format": "images", "height": 8, "channel_files": ["red", "green", "blue"], "channels": 3}
    stacked = config.public_dict(config.resolve({"data": files}))  # tuples here, lists in config.json
    assert oof.images_signature({"data": files}) == oof.images_signature(stacked)
    assert oof.images_signature({"data": files}) != oof.images_signature(resolved)
