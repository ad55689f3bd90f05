"""`make new` for a competition that ships no sample submission: the submission's shape from the
metric, its columns from train.csv, stated; a stop naming the keys where the names cannot be known."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import replicas
from conftest import run_kit
from sklearn.metrics import log_loss

from kit.data.infer import infer
from kit.errors import KitError


def without_sample(builder, root, **sizes) -> dict[str, object]:
    """The replica with its sample removed: each test id's true answer."""
    truth = builder(root, **sizes)
    ids = pd.read_csv(truth.sample, dtype=str).iloc[:, 0]
    truth.sample.unlink()
    return dict(zip(ids, truth.test, strict=True))


@pytest.mark.parametrize(
    ("metric", "form"), [("qwk", "label"), ("log_loss", "probabilities"), ("roc_auc", "probabilities")]
)
def test_the_metric_chooses_the_shape_and_train_csv_names_the_columns(tmp_path, metric, form):
    without_sample(replicas.aptos2019_blindness_detection, tmp_path)
    found = infer(tmp_path, metric=metric)
    submission = found.sections["submission"]
    assert (submission["id_column"], submission["label_column"]) == ("id_code", "diagnosis")
    assert (submission["form"], submission["ids"], submission["sample_file"]) == (form, "stem", "")
    stated = next(line for line in found.summary if line.startswith("no sample submission"))
    assert "id_code," in stated and "submission.form" in stated and "stems" in stated


def test_one_probability_for_two_classes_and_ids_that_keep_their_extension(tmp_path):
    without_sample(replicas.aerial_cactus, tmp_path, size=16)
    found = infer(tmp_path, metric="roc_auc")
    submission = found.sections["submission"]
    assert (submission["form"], submission["ids"], submission["label_column"]) == ("probability", "file", "has_cactus")
    assert any("the probability of class '1'" in line for line in found.summary)


def test_other_targets_keep_their_own_form(tmp_path):
    without_sample(replicas.aptos2019_blindness_detection, tmp_path)
    assert infer(tmp_path, metric="rmse").sections["submission"]["form"] == "value"
    assert infer(tmp_path, metric="map@2").sections["submission"]["form"] == "topk"


def test_class_folders_without_a_sample_stop_naming_the_columns_to_set(tmp_path):
    without_sample(replicas.plant_seedlings, tmp_path, per_class=2, test_per_class=1)
    with pytest.raises(KitError, match="submission.id_column=<id column> submission.label_column=<label column>"):
        infer(tmp_path)
    settled = {"submission.id_column": "file", "submission.label_column": "species"}
    found = infer(tmp_path, settled=settled)
    assert found.sections["submission"]["form"] == "label" and found.sections["submission"]["ids"] == "file"


@pytest.mark.slow
def test_new_then_run_without_a_sample_writes_what_it_stated(tmp_path, competitions_dir):
    folder = tmp_path / "aptos"
    truth = without_sample(replicas.aptos2019_blindness_detection, folder, per_class=20, test_per_class=6)
    made = run_kit("new", "--comp", "aptos", "--data", str(folder), "--metric", "log_loss")
    assert made.returncode == 0, made.stderr
    assert "no sample submission: writing id_code,0,1,2,3,... (a probability per class)" in made.stdout
    # recorded for `make submit` on a machine without the data: the shape it stated, every test id
    recorded = pd.read_csv(competitions_dir / "aptos" / "recorded_sample.csv.gz", dtype={"id_code": str})
    assert list(recorded.columns) == ["id_code", "0", "1", "2", "3", "4"]
    assert sorted(recorded["id_code"]) == sorted(path.stem for path in (folder / "test_images").iterdir())
    ran = run_kit("run", "--comp", "aptos", "--set", "train.epochs=8", "train.batch_size=16")
    assert ran.returncode == 0, ran.stderr[-3000:]
    written = pd.read_csv(next((tmp_path / "work" / "submissions" / "aptos").glob("*.csv")), dtype={"id_code": str})
    assert list(written.columns) == ["id_code", "0", "1", "2", "3", "4"]
    assert sorted(written["id_code"]) == sorted(recorded["id_code"])  # stems, as train.csv spells its ids
    probabilities = written[["0", "1", "2", "3", "4"]].to_numpy()
    assert np.allclose(probabilities.sum(axis=1), 1, atol=1e-6)
    answers = [truth[i] for i in written["id_code"]]
    assert log_loss(answers, probabilities, labels=range(5)) < np.log(5)  # the uniform submission's
