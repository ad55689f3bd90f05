"""kit.data.folders' fault table through `make predict`: any test image may be unreadable, and
the submission still has every id, the unreadable ones given the blind guess, and says how many.

pandas 3 gives an empty frame's columns object dtype, and so the concatenation of a clean train
set's (empty) faults with the test set's: the row numbers then indexed nothing and `make predict`
crashed after training, the very case the blank placeholder exists for.
"""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from living_species_data import make_split, split_rows, write_tables

from kit import cli, paths

SLUG = "living-species"
DAMAGE = {
    "garbage": lambda path: path.write_bytes(b"<html>404 Not Found</html>\n"),
    "empty": lambda path: path.write_bytes(b""),
    "truncated": lambda path: path.write_bytes(path.read_bytes()[:40]),
    "missing": lambda path: path.unlink(),
}


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> tuple[Path, Path]:
    """(data folder, run folder): a clean image-folder data set (no faulty train row: the train
    side's fault table is empty) and a logistic regression trained on it."""
    folder = tmp_path_factory.mktemp("clean-species")
    rng = np.random.default_rng(1)
    train, val, test = split_rows(0.2, rng)
    for split, rows in (("train", train), ("val", val), ("test", test)):
        make_split(folder, split, rows, 16, rng)
    write_tables(folder, train, val, test, "image", "label", "id", True)
    work = tmp_path_factory.mktemp("work")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("KIT_WORKDIR", str(work))
        assert cli.main(["train", "--comp", SLUG, "--data", str(folder), *OPTIONS]) == 0
    return folder, next((work / "artifacts" / SLUG / "runs").iterdir())


OPTIONS = ("--preset", "tiny", "--set", "train.model=logreg data.height=16 data.width=16")


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_unreadable_test_images_get_the_blind_guess_in_a_full_submission(trained, workdir, data):
    folder, run_dir = trained
    sample = pd.read_csv(folder / "sample_submission.csv")
    names = sample["id"].tolist()
    broken = data.draw(st.lists(st.sampled_from(range(len(names))), unique=True, max_size=len(names)), label="broken")
    kinds = data.draw(st.lists(st.sampled_from(sorted(DAMAGE)), min_size=len(broken), max_size=len(broken)))
    kept = {i: (folder / "test" / names[i]).read_bytes() for i in broken}
    try:
        for i, kind in zip(broken, kinds, strict=True):
            DAMAGE[kind](folder / "test" / names[i])
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):
            code = cli.main(["predict", "--comp", SLUG, "--data", str(folder), "--runs", str(run_dir), *OPTIONS])
        assert code == 0
    finally:
        for i, content in kept.items():
            (folder / "test" / names[i]).write_bytes(content)
    path = max(paths.submissions_dir(SLUG).glob("*.csv"), key=lambda p: p.stat().st_mtime_ns)
    frame = pd.read_csv(path)
    assert frame["id"].tolist() == names
    labels = pd.concat([pd.read_csv(folder / f"{split}.csv")["label"] for split in ("train", "val")])
    frequencies = np.bincount(labels, minlength=8) / len(labels)
    probabilities = np.load(path.with_suffix(".probabilities.npy"))
    np.testing.assert_allclose(probabilities[sorted(broken)], np.tile(frequencies, (len(broken), 1)), atol=1e-6)
    assert frame.loc[sorted(broken), "label"].nunique() <= 1
    if broken:
        assert f"{len(broken)} test rows unreadable" in printed.getvalue()
        assert f"{len(broken)} unreadable test images given the training classes' frequencies" in printed.getvalue()
    else:
        assert "no unreadable or missing image files" in printed.getvalue()
