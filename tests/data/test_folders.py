"""Living species: image folders with planted faults, imbalance strategies, the transfer schedule,
and `run` end to end on a synthetic data set in the competition's exact layout."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import backend_available, run_kit
from living_species_data import COUNTS, make_dataset
from PIL import Image
from sklearn.metrics import f1_score

from kit import cli, config, data, oof, paths
from kit.config import competitions
from kit.data.audit import audit
from kit.data.images import decode
from kit.errors import KitError
from kit.targets.classification import label_values  # the classification target reads labels
from kit.training import catalog
from kit.training.resample import class_weights, resample_index

SLUG = "living-species"


@pytest.fixture(scope="module")
def species(tmp_path_factory) -> tuple[Path, dict]:
    folder = tmp_path_factory.mktemp("species")
    return folder, make_dataset(folder)


def load(folder: Path, *overrides: str) -> data.CompetitionData:
    return data.load(competitions.load_config(SLUG, "tiny", list(overrides), str(folder)))


def test_audit_finds_every_planted_fault(species, workdir):
    folder, manifest = species
    loaded = load(folder)
    summary = audit(loaded_cfg(folder), loaded.train, loaded.test, workdir / "audit", faults=loaded.faults)
    found = {Path(name).name: kind for kind, names in summary["file_faults"].items() for name in names}
    planted = {
        name: kind
        for name, kind in manifest["train_faults"].items()
        if kind in ("not_an_image", "empty", "truncated", "missing")
    }
    planted.update(manifest["test_faults"])
    assert found == planted
    assert [pair.split(" = ")[0] for pair in summary["duplicate_pairs"]] == [
        f"train/{name}" for name, kind in manifest["train_faults"].items() if kind.startswith("duplicate")
    ]
    # every good row kept, merged from train.csv and val.csv; the class counts as generated
    assert len(loaded.train) == sum(COUNTS) + 1 - 4  # + the duplicate - the four damaged files
    assert summary["class_counts"]["Magnoliopsida"] == COUNTS[0] + 1 - 4
    assert (workdir / "audit" / "faults.csv").exists() and (workdir / "audit" / "balance.png").exists()
    # test rows are never dropped: the submission needs one per sample id
    assert list(loaded.test.ids) == pd.read_csv(folder / "sample_submission.csv")["id"].tolist()


def loaded_cfg(folder: Path) -> config.Config:
    return competitions.load_config(SLUG, "tiny", [], str(folder))


def test_colour_modes_become_rgb(species):
    folder, manifest = species
    for mode, name in manifest["conversions"].items():
        pixels, fault, _ = decode(folder / "train" / name, (32, 32, 3))
        assert fault == "" and pixels.shape == (32, 32, 3), (mode, fault)
        reference = np.asarray(Image.open(folder / "train" / name).convert("RGB"), dtype=float)
        assert abs(pixels.astype(float).mean() - reference.mean()) < 12, mode


def test_column_names_are_guessed_from_the_sample(tmp_path):
    make_dataset(
        tmp_path,
        scale=0.3,
        image_column="file_id",
        label_column="class_idx",
        id_column="file_id",
        paths_in_csv=False,
    )
    loaded = load(tmp_path)
    assert len(loaded.train) > 0 and loaded.train.ids[0].startswith("c")
    # a configured column that is not there is one error naming the file and the key
    with pytest.raises(KitError, match=r"train\.csv: no 'path' column .*data\.image_column"):
        load(tmp_path, "data.image_column=path")


def test_other_releases_class_names_one_table_other_folder_names(tmp_path):
    manifest = make_dataset(tmp_path, scale=0.3, paths_in_csv=False)
    (tmp_path / "val.csv").unlink()
    (tmp_path / "train").rename(tmp_path / "train_images")
    table = pd.read_csv(tmp_path / "train.csv")
    names = loaded_cfg(tmp_path).competition.class_names
    table["label"] = [names[label] for label in table["label"]]
    table.to_csv(tmp_path / "train.csv", index=True)  # a leading index column, "Unnamed: 0"
    loaded = load(tmp_path)
    damaged = sum(
        kind in ("not_an_image", "empty", "truncated", "missing") for kind in manifest["train_faults"].values()
    )
    assert len(loaded.train) == len(table) - damaged
    assert sorted(set(loaded.train.labels.tolist())) == list(range(8))


def test_rows_with_unusable_labels_are_skipped_and_listed(tmp_path):
    make_dataset(tmp_path, scale=0.3)
    table = pd.read_csv(tmp_path / "train.csv")
    good = table.iloc[-1]["image"]  # readable file, broken labels
    extra = pd.DataFrame({"image": [good, good, good], "label": ["beetle", 8, None]})
    pd.concat([table, extra]).to_csv(tmp_path / "train.csv", index=False)
    loaded = load(tmp_path)
    bad = loaded.faults[loaded.faults.fault == "bad_label"]
    assert bad["row"].tolist() == [len(table) + 1, len(table) + 2, len(table) + 3]
    assert set(bad["split"]) == {"train"} and set(bad["file"]) == {good}


def test_labels_are_read_by_class_name_first():
    """Grades 1..5 named '1'..'5', digits listed in another order: the class of that name; integer
    labels of classes named otherwise ('cat', 'dog'): their index."""
    column = pd.Series([1, 5, 3])
    assert label_values(column, ("1", "2", "3", "4", "5")).tolist() == [0, 4, 2]
    assert label_values(column, ("5", "4", "3", "2", "1")).tolist() == [4, 0, 2]
    assert label_values(pd.Series([0, 1]), ("cat", "dog")).tolist() == [0, 1]
    assert label_values(pd.Series(["dog", "cat"]), ("cat", "dog")).tolist() == [1, 0]


def test_decode_cache_is_reused(species, workdir):
    folder, _ = species
    load(folder)
    cached = sorted((paths.artifacts_dir(SLUG) / "cache").glob("*.npy"))
    assert [p.name.split("-")[0] for p in cached] == ["test", "train"]
    stamps = [p.stat().st_mtime_ns for p in cached]
    again = load(folder)
    assert [p.stat().st_mtime_ns for p in cached] == stamps and len(again.train) > 0


@pytest.mark.parametrize("strategy", ["over", "under"])
def test_resampling_changes_the_class_counts(strategy, tmp_path):
    cfg = config.resolve({"competition": {"class_names": list("abcd")}, "train": {"resample": strategy}})
    labels = np.repeat([0, 1, 2, 3], [40, 20, 8, 4])
    index = resample_index(cfg, labels, np.arange(len(labels)), tmp_path)
    counts = np.bincount(labels[index], minlength=4)
    assert counts.tolist() == ([40] * 4 if strategy == "over" else [4] * 4)
    assert set(index) <= set(range(len(labels)))  # indices of real rows, repeated or dropped
    table = pd.read_csv(tmp_path / "class_distribution.csv")
    assert table["before"].tolist() == [40, 20, 8, 4] and table["after"].tolist() == counts.tolist()
    assert (tmp_path / "class_distribution.png").stat().st_size > 0


def test_class_weights_are_balanced_and_cover_every_class():
    cfg = config.resolve({"competition": {"class_names": list("abcd")}, "train": {"class_weight": "balanced"}})
    weights = class_weights(cfg, np.repeat([0, 1, 2], [60, 30, 10]))
    assert weights == pytest.approx({0: 100 / 180, 1: 100 / 90, 2: 100 / 30, 3: 1.0})
    assert class_weights(config.replace(cfg, train={"class_weight": "none"}), np.zeros(3, int)) is None
    # an unknown strategy never reaches resampling: the config refuses it when it is resolved
    with pytest.raises(KitError, match="'train.resample' must be one of none, over, under, got 'smote'"):
        config.replace(cfg, train={"resample": "smote"})


def transfer_cfg(**train) -> config.Config:
    return config.resolve(
        {
            "competition": {"class_names": list("abcd")},
            "data": {"height": 32, "width": 32, "channels": 3},
            "train": {"model": "mobilenetv2", "weights": "none", "fine_tune_layers": 12, **train},
        }
    )


def test_transfer_schedule_freezes_then_unfreezes_the_top():
    import keras

    from kit.training import fine_tune, keras_kind

    cfg = transfer_cfg(epochs=1, fine_tune_epochs=1, batch_size=8)
    model = keras_kind.build_model(cfg)
    base = fine_tune.find_backbone(model)
    assert base is not None and base.name.startswith("mobilenetv2")
    # stage one: the whole base frozen, the new head (with its L2 penalty) trainable
    assert not base.trainable and not base.trainable_weights
    head = model.get_layer("transfer_mobilenetv2").get_layer("probabilities")
    assert head.trainable and head.kernel_regularizer is not None
    keras_kind.compile_model(model, cfg)
    weights = {layer.name: [w.numpy().copy() for w in layer.weights] for layer in base.layers if layer.weights}
    images = np.random.default_rng(0).integers(0, 255, (16, 32, 32, 3), dtype=np.uint8)
    onehot = np.eye(4, dtype="float32")[np.tile([0, 1, 2, 3], 4)]
    history = fine_tune.fit_stages(
        model, cfg, keras_kind.compile_model, images, onehot, epochs=1, batch_size=8, verbose=0
    )
    assert history.epoch == [0, 1]  # one frozen epoch, one fine-tuning epoch
    assert float(model.optimizer.learning_rate) == pytest.approx(1e-4)
    changed = {
        name
        for name, old in weights.items()
        if any(not np.array_equal(a, w.numpy()) for a, w in zip(old, base.get_layer(name).weights, strict=True))
    }
    top = {layer.name for layer in base.layers[-12:] if layer.weights}
    # only the top layers moved; BatchNorm (statistics included: inference mode) did not
    assert changed and changed <= top
    assert not any(isinstance(base.get_layer(name), keras.layers.BatchNormalization) for name in changed)


@pytest.mark.slow
def test_an_interrupted_fine_tuning_resumes_in_stage_two(tmp_path):
    import keras

    from kit.training import runs

    class Interrupt(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            if epoch == 2:  # the second fine-tuning epoch
                raise KeyboardInterrupt

    cfg = transfer_cfg(epochs=1, fine_tune_epochs=2, batch_size=8)
    rng = np.random.default_rng(0)
    images = data.Images(
        rng.integers(0, 255, (16, 32, 32, 3), dtype=np.uint8), np.tile([0, 1, 2, 3], 4), np.arange(16), tmp_path
    )
    split = (np.arange(12), np.arange(12, 16))
    with pytest.raises(KeyboardInterrupt):
        runs.fit(cfg, images, *split, tmp_path / "fold0", extra_callbacks=(Interrupt(),), verbose=0)

    class CountEpochs(keras.callbacks.Callback):
        ran = 0

        def on_epoch_begin(self, epoch, logs=None):
            CountEpochs.ran += 1

    result = runs.fit(cfg, images, *split, tmp_path / "fold0", resume=True, extra_callbacks=(CountEpochs(),), verbose=0)
    # the backup restored the unfrozen model and its optimizer: only epoch 2 ran again
    assert CountEpochs.ran == 1 and result.epochs == 3
    assert pd.read_csv(tmp_path / "fold0" / "history.csv")["epoch"].tolist() == [0, 1, 2]


def test_unfreeze_top_skips_batchnorm():
    import keras

    from kit.training import fine_tune, keras_kind

    base = fine_tune.find_backbone(keras_kind.build_model(transfer_cfg()))
    unfrozen = fine_tune.unfreeze_top(base, 12)
    top = base.layers[-12:]
    assert all(not layer.trainable for layer in base.layers[:-12])
    assert all(not layer.trainable for layer in top if isinstance(layer, keras.layers.BatchNormalization))
    expected = [layer.name for layer in top if layer.weights and not isinstance(layer, keras.layers.BatchNormalization)]
    assert unfrozen == expected and len(expected) >= 3


def test_missing_imagenet_weights_name_the_file(tmp_path, monkeypatch):
    from keras.src.utils import file_utils

    from kit.training import keras_kind

    def offline(*args, **kwargs):
        raise Exception("URL fetch failure: no network")

    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    monkeypatch.setattr(file_utils, "get_file", offline)
    cfg = transfer_cfg(weights="imagenet")
    cfg = config.replace(cfg, data={"height": 96, "width": 96})
    expected = tmp_path / "keras" / "models" / "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_96_no_top.h5"
    with pytest.raises(KitError, match=f"Copy .* to {expected}.*train.weights=none"):
        keras_kind.build_model(cfg)
    with pytest.raises(KitError, match=r"train.weights=/no/such.h5: file not found"):
        keras_kind.build_model(config.replace(cfg, train={"weights": "/no/such.h5"}))


@pytest.mark.slow
@pytest.mark.parametrize(("backend", "stream"), [("tensorflow", "off"), ("jax", "on")])
def test_run_beats_the_majority_baseline(species, workdir, backend, stream):
    if not backend_available(backend):
        pytest.skip(f"{backend} is not installed")
    folder, manifest = species
    result = run_kit(
        "run",
        "--comp",
        SLUG,
        "--preset",
        "tiny",
        "--data",
        str(folder),
        "--set",
        f"data.stream={stream}",
        backend=backend,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert ("streaming" in result.stdout) == (stream == "on")
    assert "6 train rows skipped" in result.stdout and "unusable image files: 7" in result.stdout
    (path,) = sorted(paths.submissions_dir(SLUG).glob("*.csv"))
    frame, sample = pd.read_csv(path), pd.read_csv(folder / "sample_submission.csv")
    assert list(frame.columns) == list(sample.columns) and frame["id"].tolist() == sample["id"].tolist()
    truth = frame["id"].map(manifest["test_labels"]).to_numpy()
    macro_f1 = f1_score(truth, frame["label"], average="macro")
    majority = f1_score(truth, np.zeros_like(truth), average="macro")
    assert macro_f1 > majority + 0.5, (macro_f1, majority)
    # the unreadable test image: the most frequent training class, not a guess from a blank
    (unreadable,) = manifest["test_faults"]
    assert frame.set_index("id").at[unreadable, "label"] == 0
    record = json.loads(path.with_suffix(".json").read_text())
    assert record["metric"] == "macro_f1" and record["cv_score"] > 0.5


@pytest.mark.parametrize("name", ["rf_colour", "svm_colour"])
def test_colour_baselines_beat_the_majority_baseline(name, species, tmp_path):
    from imblearn.pipeline import Pipeline

    from kit.data.splits import make_splits
    from kit.training import sklearn_kind

    folder, _ = species
    cfg = config.replace(loaded_cfg(folder), train={"model": name})
    train = load(folder).train
    ((train_index, val_index),) = make_splits(train.labels, cfg.data)
    result = sklearn_kind.fit(cfg, train, train_index, val_index, tmp_path / "fold0")
    truth = train.labels[val_index]
    majority = f1_score(truth, np.zeros_like(truth), average="macro")
    assert result.scores["macro_f1"] > majority + 0.5
    # inside the imbalanced-learn pipeline the minority classes are over-sampled to the largest
    fitted = sklearn_kind.load(result.checkpoint)
    features_and_sampler = Pipeline(fitted.steps[:-1])
    flat = train.images[train_index].reshape(len(train_index), -1)
    _, resampled = features_and_sampler.fit_resample(flat, train.labels[train_index])
    assert len(set(np.bincount(resampled).tolist())) == 1


def test_colour_jitter_trains_only_and_survives_a_checkpoint(tmp_path):
    import keras

    from kit.augment import ColourJitter

    images = np.random.default_rng(0).random((8, 6, 6, 3)).astype("float32")
    layer = ColourJitter(0.3, seed=1)
    np.testing.assert_array_equal(np.asarray(layer(images, training=False)), images)
    jittered = np.asarray(layer(images, training=True))
    assert not np.allclose(jittered, images) and jittered.min() >= 0 and jittered.max() <= 1
    # one draw per image, not per pixel: each image's brightness ratio varies across the batch
    assert np.std(jittered.mean(axis=(1, 2, 3)) / images.mean(axis=(1, 2, 3))) > 0.01
    inputs = keras.Input((6, 6, 3))
    model = keras.Model(inputs, ColourJitter(0.3, name="jitter")(inputs))
    model.save(tmp_path / "m.keras")
    assert keras.saving.load_model(tmp_path / "m.keras").get_layer("jitter").strength == 0.3
    with pytest.raises(KitError, match="colour_jitter=1.5"):
        ColourJitter(1.5)


def test_streamed_images_stay_on_disk_and_equal_the_loaded_ones(species, workdir):
    from kit.data.stream import RowView

    folder, _ = species
    in_memory, streamed = load(folder, "data.stream=off"), load(folder, "data.stream=on")
    # the faulty rows are skipped through a view of the memory-mapped cache, not a copy
    assert isinstance(streamed.train.images, RowView) and isinstance(streamed.train.images.base, np.memmap)
    assert isinstance(streamed.test.images, np.memmap) and type(in_memory.train.images) is np.ndarray
    np.testing.assert_array_equal(
        np.asarray(streamed.train.images[np.arange(len(streamed.train))]), in_memory.train.images
    )
    np.testing.assert_array_equal(streamed.test.images, in_memory.test.images)
    # the audit reads the streamed set block by block and finds the same things
    cfg = loaded_cfg(folder)
    assert audit(cfg, streamed.train, streamed.test, workdir / "a", streamed.faults) == audit(
        cfg, in_memory.train, in_memory.test, workdir / "a", in_memory.faults
    ) | {"report": str(workdir / "a")}
    with pytest.raises(KitError, match="config key 'data.stream' must be one of auto, on, off, got 'yes'"):
        load(folder, "data.stream=yes")


def test_batches_cover_every_row_once_per_epoch_in_a_new_order():
    from kit.data.batches import Batches
    from kit.data.stream import RowView

    base = np.arange(50, dtype=np.uint8).reshape(50, 1, 1, 1)
    images = RowView(base, np.arange(50)[::-1])  # row i holds the value 49 - i
    onehot = np.eye(50, dtype="float32")
    index = np.array([3, 3, 7, 10, 11, 20, 21, 22, 40, 41, 42])  # repeats: an over-sampled row
    batches = Batches(images, index, batch_size=4, onehot=onehot, shuffle=True, seed=0, workers=1)
    epochs = []
    for _ in range(2):
        seen = []
        for b in range(len(batches)):
            x, y = batches[b]
            assert x.dtype == np.uint8 and len(x) == len(y) <= 4
            assert (49 - x.ravel() == y.argmax(axis=1)).all()  # labels travel with their images
            seen += y.argmax(axis=1).tolist()
        assert sorted(seen) == sorted(index.tolist())
        epochs.append(seen)
        batches.on_epoch_end()
    assert epochs[0] != epochs[1]
    (x,) = Batches(images, np.arange(5), batch_size=8)[0]  # no labels: images only, in order
    assert x.ravel().tolist() == [49, 48, 47, 46, 45]


def test_a_streamed_fit_learns(species, workdir):
    from kit.data.splits import make_splits
    from kit.training import runs

    folder, _ = species
    cfg = competitions.load_config(SLUG, "tiny", ["data.stream=on", "train.epochs=3"], str(folder))
    images = data.load(cfg, with_test=False).train
    ((train_index, val_index),) = make_splits(images.labels, cfg.data)
    result = runs.fit(cfg, images, train_index, val_index, workdir / "fold0", verbose=0)
    truth = images.labels[val_index]
    majority = f1_score(truth, np.zeros_like(truth), average="macro")
    assert result.scores["macro_f1"] > majority + 0.3 and result.epochs == 3
    assert len(result.val_probabilities) == len(val_index)


def test_auto_streams_only_image_sets_too_large_for_memory():
    from kit.data.stream import stream_wanted

    species_cfg = competitions.load_config(SLUG, overrides=["data.height=224", "data.width=224"])
    assert not stream_wanted(species_cfg, 20_000)  # 2.9 GB decoded: in memory
    assert stream_wanted(species_cfg, 200_000)  # 29 GB: streamed
    assert not stream_wanted(config.replace(species_cfg, data={"stream": "off"}), 200_000)
    digits = competitions.load_config("digits")
    assert not stream_wanted(digits, 10_000_000)  # pixel CSVs are read into memory anyway


@pytest.mark.slow
def test_predict_uses_each_runs_own_settings_and_scores_ensembles_honestly(species, workdir, capsys):
    """Runs at 32x32 (PRESET=tiny) and 40x40 are predicted without PRESET or DATA (both come from
    each run's config); an ensemble of runs on one data set is scored out-of-fold on the rows both
    validated on, one of runs on different images is labelled a mean of members."""
    folder, _ = species
    quick = ["train.epochs=1", "data.folds=2", "data.limit=150"]
    train = ["train", "--comp", SLUG, "--data", str(folder)]
    assert cli.main([*train, "--preset", "tiny", "--set", *quick]) == 0
    assert cli.main([*train, "--set", *quick, "data.height=40", "data.width=40"]) == 0
    assert cli.main([*train, "--preset", "tiny", "--set", *quick, "data.seed=3", "train.seed=7"]) == 0
    small, larger, other_split = catalog.all_runs(SLUG)

    assert cli.main(["predict", "--comp", SLUG]) == 0  # the newest finished run: 32x32, its own data folder
    assert f"using run {other_split.name}" in capsys.readouterr().out

    assert cli.main(["predict", "--comp", SLUG, "--runs", small.name, larger.name]) == 0
    assert f"reading the test images again for {larger.name} (40x40x3)" in capsys.readouterr().out
    assert newest_record()["cv_method"].startswith("mean of members")

    assert cli.main(["predict", "--comp", SLUG, "--runs", small.name, other_split.name]) == 0
    record = newest_record()
    labels = data.load(config.load_saved(small / "config.json"), with_test=False).train.labels
    members = [oof.out_of_fold(run) for run in (small, other_split)]
    rows = np.sort(members[0][0])
    assert record["cv_method"] == f"out-of-fold, on the {len(labels)} rows all 2 runs validated on"
    averaged = sum(probabilities[np.argsort(member_rows)] for member_rows, probabilities in members) / 2
    expected = f1_score(labels[rows], averaged.argmax(axis=1), average="macro")
    assert record["cv_score"] == pytest.approx(expected, abs=1e-6)


def newest_record() -> dict:
    newest = max(paths.submissions_dir(SLUG).glob("*.json"), key=lambda path: path.stat().st_mtime)
    return json.loads(newest.read_text())


def test_numbers_that_are_class_names_map_by_name():
    """Folders 1..12: label '1' is class 0, '12' class 11 (as numbers they would shift by one)."""
    from kit.targets.classification import label_values

    names = tuple(str(n) for n in range(1, 13))
    assert label_values(pd.Series(["1", "12", "7"]), names).tolist() == [0, 11, 6]
    assert label_values(pd.Series([0, 3]), ("0", "1", "2", "3")).tolist() == [0, 3]


def test_number_labels_beside_word_class_names_need_submission_labels(tmp_path):
    """train.csv's 0..k-1 beside words and a sample of 0 placeholders: which the submission
    writes cannot be known, so one line says what to set; a sample of names, or the setting, settles it."""
    from kit import config
    from kit.data.folders import check_label_spelling

    cfg = config.resolve({"competition": {"class_names": ["cat", "dog"]}})
    pd.DataFrame({"id": ["t0.png"], "label": [0]}).to_csv(tmp_path / "sample_submission.csv", index=False)
    column = pd.Series([0, 1, 1])
    with pytest.raises(KitError, match=r"train.csv: labels are class numbers \(0..1\).*submission.labels=indices"):
        check_label_spelling(cfg, tmp_path, tmp_path / "train.csv", column, column.to_numpy(float))
    settled = config.resolve({"competition": {"class_names": ["cat", "dog"]}, "submission": {"labels": "indices"}})
    check_label_spelling(settled, tmp_path, tmp_path / "train.csv", column, column.to_numpy(float))
    pd.DataFrame({"id": ["t0.png"], "label": ["dog"]}).to_csv(tmp_path / "sample_submission.csv", index=False)
    check_label_spelling(cfg, tmp_path, tmp_path / "train.csv", column, column.to_numpy(float))
