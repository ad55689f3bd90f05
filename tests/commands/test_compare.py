"""Issue 6: scikit-learn models in the registry, `make compare` and `make learning-curve`.

Tiny fixtures only (the first rows of the embedded sample); the real comparison on the full
Fashion-MNIST is bench/COMPARE.md.
"""

import json
import warnings

import numpy as np
import pandas as pd
import pytest
from conftest import ROOT, run_kit

from kit import config, data, models, paths, predict, submission
from kit.commands import compare
from kit.config import competitions
from kit.data.pixels import Images
from kit.data.splits import subsample_index
from kit.errors import KitError
from kit.training import sklearn_kind

SKLEARN_MODELS = models.names(kind="sklearn")


@pytest.fixture(scope="module")
def cfg():
    return competitions.load_config("fashion", overrides=["train.epochs=1", "train.batch_size=128"])


@pytest.fixture(scope="module")
def images(frames) -> Images:
    train, _ = frames
    pixels = train.drop(columns="label").to_numpy(np.uint8).reshape(-1, 28, 28, 1)
    return Images(pixels, train["label"].to_numpy(), np.arange(1, len(train) + 1), ROOT)


def halves(n: int) -> tuple[np.ndarray, np.ndarray]:
    index = np.arange(n)
    return index[: n * 3 // 4], index[n * 3 // 4 :]


def test_the_issue_baselines_are_registered_as_sklearn_models():
    assert {"logreg", "knn", "svm", "random_forest"} <= set(SKLEARN_MODELS)
    assert set(config.CompareSection().models) <= set(models.names())


@pytest.mark.parametrize("name", SKLEARN_MODELS)
def test_every_classical_model_fits_saves_and_predicts(name, cfg, images, tmp_path):
    # offline here: the embedding baselines' backbone random, as the config says (ImageNet's
    # weights, the default, would be one clear error: tests/models/test_registry.py)
    model_cfg = config.replace(cfg, train={"model": name, "weights": "none"})
    train_index, val_index = halves(len(images))
    result = sklearn_kind.fit(model_cfg, images, train_index, val_index, tmp_path / "fold0")
    assert result.checkpoint == tmp_path / "fold0" / "best.skops" and result.checkpoint.exists()
    assert result.val_probabilities.shape == (len(val_index), 10)
    np.testing.assert_allclose(result.val_probabilities.sum(axis=1), 1.0, rtol=1e-5)
    assert result.scores["accuracy"] > 0.5  # 450 training images; chance is 0.1
    # the saved model predicts the same through the prediction path every run uses
    again = predict.predict_checkpoint(result.checkpoint, model_cfg, images.images[val_index])
    np.testing.assert_allclose(again, result.val_probabilities, atol=1e-6)
    history = pd.read_csv(tmp_path / "fold0" / "history.csv")
    assert list(history.columns) == ["epoch", "accuracy", "loss", "val_accuracy", "val_loss"]
    assert history["val_accuracy"].iloc[0] == pytest.approx(result.scores["accuracy"])
    loaded = sklearn_kind.load(result.checkpoint)
    if name == "knn":  # no parameters: it keeps the rows it fitted
        assert sklearn_kind.parameter_count(loaded) is None and sklearn_kind.kept_rows(loaded) == len(train_index)
    else:
        assert sklearn_kind.parameter_count(loaded) > 0 and sklearn_kind.kept_rows(loaded) == 0


@pytest.mark.parametrize("name", SKLEARN_MODELS)
def test_classical_factories_take_the_keras_signature_and_colour_images(name):
    estimator = models.get(name).factory((8, 8, 3), 4, width=0.5, dropout=0.3)
    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 256, size=(40, 8 * 8 * 3), dtype=np.uint8)
    sklearn_kind.fit_estimator(estimator, pixels, np.arange(40) % 4)  # 40 rows: PCA clamped to 40
    assert sklearn_kind.predict_proba(estimator, pixels.reshape(40, 8, 8, 3), 4).shape == (40, 4)


def test_a_capped_model_warns_and_fits_on_a_stratified_subsample(cfg, images, tmp_path, capsys):
    model_cfg = config.replace(cfg, train={"model": "knn", "max_train_rows": 100})
    train_index, val_index = halves(len(images))
    result = sklearn_kind.fit(model_cfg, images, train_index, val_index, tmp_path / "fold0")
    assert "warning: knn: fitting on a stratified subsample of 100 of 450 training rows" in capsys.readouterr().out
    fitted = sklearn_kind.load(result.checkpoint).named_steps["model"]
    assert fitted.n_samples_fit_ == 100
    assert len(set(fitted.classes_)) == 10  # stratified: every class kept


def test_subsamples_are_stratified_where_possible_and_never_fail():
    labels, index = np.arange(100) % 10, np.arange(100)
    assert (np.bincount(labels[subsample_index(labels, index, 50, 0)]) == 5).all()
    for rows in (5, 97, 100, 1000):  # fewer rows than classes, a remainder smaller than them, all
        assert len(subsample_index(labels, index, rows, 0)) == min(rows, 100)


def test_default_caps_apply_only_to_the_models_that_need_them(cfg, images):
    labels, index = np.arange(100_000) % 10, np.arange(100_000)
    capped = config.replace(cfg, train={"model": "svm"})
    assert len(sklearn_kind.fitted_index(capped, labels, index)) == 30_000
    uncapped = config.replace(cfg, train={"model": "svm", "max_train_rows": -1})
    assert len(sklearn_kind.fitted_index(uncapped, labels, index)) == 100_000
    logreg = config.replace(cfg, train={"model": "logreg"})
    assert len(sklearn_kind.fitted_index(logreg, labels, index)) == 100_000
    with pytest.raises(KitError, match="max_train_rows=-5"):
        sklearn_kind.row_cap(config.replace(cfg, train={"max_train_rows": -5}))


def test_compare_writes_one_row_per_model_with_every_column(cfg, images, workdir):
    names = ["logreg", "knn", "svm", "random_forest", "dense"]
    overrides = ["svm:train.max_train_rows=200", "dense:train.epochs=4"]
    small = config.replace(cfg, compare={"overrides": overrides})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # lbfgs stops at max_iter on this tiny set
        table, folder = compare.compare(small, images, names, test=images.take(np.arange(100)))
    assert list(table["model"]) == names
    assert list(table.columns[: len(compare.COLUMNS)]) == list(compare.COLUMNS)
    filled = [
        "accuracy",
        "macro_f1",
        "macro_precision",
        "macro_recall",
        "train_seconds",
        "predict_seconds_per_1000",
        "train_rows",
    ]
    assert table[filled].notna().all().all()
    assert table["accuracy"].between(0.3, 1).all()  # chance is 0.1
    assert table["test_accuracy"].notna().all()
    rows = table.set_index("model")
    assert rows.loc["svm", "subsampled"] == "yes: 200 of 540 rows"
    assert rows.loc["svm", "train_rows"] == 200
    assert (rows.drop(index="svm")["subsampled"] == "no").all()
    # k-NN learns no parameters: it keeps its training rows, and says so
    assert pd.isna(rows.loc["knn", "parameters"]) and rows.loc["knn", "kept_rows"] == 540
    assert rows.drop(index="knn")["parameters"].notna().all() and (rows.drop(index="knn")["kept_rows"] == 0).all()
    assert rows.loc["dense", "kind"] == "keras" and rows.loc["dense", "parameters"] == 101_770
    assert rows.loc["dense", "epochs"] == 4  # its compare.overrides item
    assert rows.loc[["logreg", "knn", "svm", "random_forest"], "epochs"].isna().all()  # one fit, no epochs
    assert (rows.loc[["logreg", "knn", "svm", "random_forest"], "accuracy"] > 0.6).all()
    assert folder.parent == paths.artifacts_dir("fashion-mnist") / "compare"
    saved = pd.read_csv(folder / "results.csv")
    assert list(saved["model"]) == names and set(compare.COLUMNS) <= set(saved.columns)
    markdown = (folder / "results.md").read_text()
    assert all(f"| {name} " in markdown for name in names) and "macro_precision" in markdown
    knn_row = next(line for line in markdown.splitlines() if line.startswith("| knn "))
    assert "none (keeps 540 rows)" in knn_row and "| —" in knn_row and "nan" not in markdown
    assert "101,770" in markdown and "kept_rows" not in markdown
    assert (folder / "compare.png").stat().st_size > 10_000
    assert config.load_saved(folder / "config.json").compare.overrides == tuple(overrides)
    # every model's folder is a run the prediction path can use
    assert predict.predict_run(folder / "runs" / "svm", images.images[:7]).shape == (7, 10)
    run = json.loads((folder / "runs" / "svm" / "run.json").read_text())
    assert run["model"] == "svm" and run["score"] == pytest.approx(rows.loc["svm", "accuracy"])


def test_compare_checks_every_name_before_training(cfg, images, workdir):
    with pytest.raises(KitError, match=r"unknown model 'nope' \(known: .*knn.*svm"):
        compare.compare(cfg, images, ["logreg", "nope"])
    bad = config.replace(cfg, compare={"overrides": ["svm-max_train_rows"]})
    with pytest.raises(KitError, match="must look like MODEL:key=value"):
        compare.compare(bad, images, ["svm"])
    assert not (paths.artifacts_dir("fashion-mnist") / "compare").exists()  # nothing trained or written


def test_learning_curve_has_one_row_per_fraction_with_its_validation_score(cfg, images):
    name = "knn"  # seconds; the networks share the fit and prediction path tested above
    model_cfg = config.replace(cfg, train={"model": name})
    table, folder = compare.learning_curve(model_cfg, images, [1.0, 0.25, 0.5])
    assert list(table["fraction"]) == [0.25, 0.5, 1.0]
    assert list(table["examples"]) == [135, 270, 540]
    assert table["val_score"].between(0.1, 1).all() and table["train_score"].between(0.1, 1).all()
    # more data does not hurt much
    assert table["val_score"].iloc[-1] > table["val_score"].iloc[0] - 0.05
    saved = pd.read_csv(folder / "results.csv")
    np.testing.assert_allclose(saved["val_score"], table["val_score"])
    assert (folder / "learning_curve.png").exists() and folder.name.endswith(f"-{name}")


def test_learning_curve_rejects_fractions_outside_zero_to_one(cfg, images):
    with pytest.raises(KitError, match=r"fractions must be in \(0, 1\], got \[0.0, 1.5\]"):
        compare.learning_curve(cfg, images, [0.0, 0.5, 1.5])


@pytest.mark.slow
def test_make_predict_model_svm_writes_a_valid_digits_submission(digits_folder, workdir):
    args = ("--comp", "digits", "--data", str(digits_folder), "--set", "train.model=svm")
    trained = run_kit("train", *args)
    assert trained.returncode == 0, trained.stderr[-3000:]
    assert "svm: fitted on 480 rows" in trained.stdout
    predicted = run_kit("predict", *args)
    assert predicted.returncode == 0, predicted.stderr[-3000:]
    written = sorted(paths.submissions_dir("digit-recognizer").glob("*.csv"))
    assert len(written) == 1 and written[0].name.endswith("-svm.csv")
    cfg = competitions.load_config("digits", data_dir=str(digits_folder))
    loaded = data.load(cfg)
    expected = submission.expected(cfg, loaded.test.ids, loaded.sample_submission)
    frame = submission.read_and_validate(written[0], expected)
    assert len(frame) == 200 and frame["Label"].nunique() > 3


def test_predict_with_a_model_that_has_no_run_says_how_to_make_one(digits_folder):
    args = ("--comp", "digits", "--data", str(digits_folder), "--set", "train.model=knn")
    result = run_kit("predict", *args)
    assert result.returncode == 2
    assert "no knn runs" in result.stderr
    assert "make train COMP=digit-recognizer MODEL=knn" in result.stderr


def test_the_competitions_own_model_is_compared_unless_models_are_named():
    cfg = config.resolve(overrides=["train.model=colour_cnn", "compare.models=['logreg', 'knn']"])
    assert compare.compared_names([], cfg) == ["logreg", "knn", "colour_cnn"]
    assert compare.compared_names(["knn,svm"], cfg) == ["knn", "svm"]
    listed = config.resolve(overrides=["train.model=knn", "compare.models=['logreg', 'knn']"])
    assert compare.compared_names([], listed) == ["logreg", "knn"]


def test_models_at_chance_are_named_in_one_warning(capsys):
    table = pd.DataFrame({"model": ["knn", "dense", "cnn", "regression"], "accuracy": [0.11, 0.1, 0.93, np.nan]})
    compare.name_models_at_chance(table, num_classes=10)
    assert capsys.readouterr().err == "warning: at chance, learned nothing on this data: knn, dense\n"
