"""A kernel for a KerasHub backbone attaches the preset as a Kaggle Models source and reads it
offline where Kaggle mounts it (/kaggle/input/<model>/keras/<preset>/<version>/). Nothing is
downloaded: the mounted preset is a stand-in saved here from the carried config."""

from __future__ import annotations

import json

import pytest
from conftest import run_kit
from kaggle_helpers import assert_clean_failure, build_kernel
from kaggle_image import pinned, run_kernel
from kaggle_server import USER

from kit.models.hub_presets import PRESETS

MOBILENET = PRESETS["mobilenet_v3_small_100_imagenet"]
SOURCE = "keras/mobilenetv3/keras/mobilenet_v3_small_100_imagenet/1"


def settings(script) -> str:
    return next(line for line in script.read_text().splitlines() if line.startswith("WEIGHTS = "))


def test_the_kernel_names_the_preset_as_a_kaggle_models_source(workdir, monkeypatch, tmp_path):
    monkeypatch.setenv("KAGGLE_USERNAME", USER)
    monkeypatch.setenv("KAGGLEHUB_CACHE", str(tmp_path / "no-cache"))  # nothing local is needed
    script, meta, _ = build_kernel(workdir, "--comp", "digits", "--set", f"train.model={MOBILENET.name}")
    assert MOBILENET.model_source == SOURCE
    assert meta["model_sources"] == [SOURCE] and meta["dataset_sources"] == []
    assert meta["enable_internet"] is False
    assert settings(script) == f"WEIGHTS = {{'model': '{SOURCE}'}}"
    assert not list((workdir / "build").glob("*/kernel/weights.json"))  # nothing to upload

    random = build_kernel(workdir, "--comp", "digits", "--set", f"train.model={MOBILENET.name} train.weights=none")
    assert random[1]["model_sources"] == [] and settings(random[0]) == "WEIGHTS = None"


def test_its_own_weights_file_goes_as_a_dataset_and_a_folder_is_refused(workdir, monkeypatch, tmp_path):
    monkeypatch.setenv("KAGGLE_USERNAME", USER)
    mine = tmp_path / "mine.weights.h5"
    mine.write_bytes(b"weights")
    overrides = f"train.model={MOBILENET.name} train.weights={mine}"
    _, meta, _ = build_kernel(workdir, "--comp", "digits", "--set", overrides)
    assert meta["dataset_sources"] == [f"{USER}/kit-weights-digit-recognizer"] and meta["model_sources"] == []
    refused = run_kit("kernel", "--comp", "digits", "--set", f"train.model={MOBILENET.name} train.weights={tmp_path}")
    assert_clean_failure(refused, "a kernel carries one .weights.h5 file", "train.weights=imagenet attaches")
    assert len(refused.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("mount", ["mobilenetv3/keras", "models/keras/mobilenetv3/keras"])
def test_the_runner_finds_the_attached_model(tmp_path, monkeypatch, mount):
    from kit.commands import kernel_runner as runner

    monkeypatch.setattr(runner, "WEIGHTS", {"model": SOURCE})
    folder = tmp_path / "input" / mount / "mobilenet_v3_small_100_imagenet" / "1"
    folder.mkdir(parents=True)
    with pytest.raises(SystemExit, match=f"no {SOURCE} under .*attach the model"):
        runner.find_weights(tmp_path / "input")  # the folder without its config.json is not the preset
    (folder / "config.json").write_text("{}")
    assert runner.find_weights(tmp_path / "input") == [f"train.weights={folder}"]


@pytest.mark.slow
def test_the_kernel_trains_offline_on_kaggles_image_from_the_mounted_preset(
    kaggle_python, tmp_path, workdir, digits_folder, monkeypatch
):
    """The whole kernel on Kaggle's image (the Kaggle-image venv: keras-hub 0.28, which Kaggle's
    keras-nlp brings), internet closed, the preset where Kaggle mounts an attached model. The
    stand-in preset is saved here by the kit's keras-hub (0.29), as Kaggle Models' files are saved
    by whichever version uploaded them."""
    keras_hub = pytest.importorskip("keras_hub")
    monkeypatch.setenv("KAGGLE_USERNAME", USER)
    overrides = f"train.model={MOBILENET.name} train.image_size=32 train.epochs=1 data.limit=300"
    script, meta, _ = build_kernel(workdir, "--comp", "digits", "--preset", "tiny", "--set", overrides)
    assert meta["model_sources"] == [SOURCE]
    kaggle = tmp_path / "kaggle"
    (kaggle / "input").mkdir(parents=True)
    digits_folder.rename(kaggle / "input" / "digit-recognizer")
    mounted = kaggle / "input" / "mobilenetv3" / "keras" / "mobilenet_v3_small_100_imagenet" / "1"
    keras_hub.models.MobileNetBackbone.from_config(MOBILENET.config).save_to_preset(str(mounted))
    ran = run_kernel(kaggle_python, script, kaggle)
    assert f"weights: {mounted}" in ran.stdout
    record = json.loads((kaggle / "working" / "submission.json").read_text())
    assert record["runs"] and (kaggle / "working" / "submission.csv").is_file()
    assert record["environment"]["versions"]["keras-hub"] == pinned()["keras-hub"]
