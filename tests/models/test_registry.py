"""What a registry entry carries, and every consumer reading it: each entry with pretrained
weights names a source and a file, and training, fine-tuning, the embedding baselines, kernels and
`make models` agree with it (timm's habit: tests parametrized over the registry)."""

from __future__ import annotations

import numpy as np
import pytest

from kit import cli, config, models
from kit.errors import KitError
from kit.kaggle import kernel_weights
from kit.models.pretrained import backbone_shape
from kit.models.registry import SOURCES, Pretrained, register

PRETRAINED = [name for name in models.names() if models.get(name).pretrained]
# the entries whose weights are one file (KerasHub presets: tests/models/test_hub.py, tests/kaggle/test_kernel_hub.py)
FILES = [name for name in PRETRAINED if models.get(name).pretrained.source == "keras.applications"]
SHAPE = (32, 32, 3)


def cfg_for(name: str, weights: str = "none") -> config.Config:
    return config.resolve(
        {
            "competition": {"slug": "living-species", "class_names": list("abcd")},
            "data": {"height": SHAPE[0], "width": SHAPE[1], "channels": SHAPE[2]},
            "train": {"model": name, "weights": weights},
        }
    )


@pytest.fixture
def empty_keras_cache(tmp_path, monkeypatch):
    """No weights on this machine, and no network: Keras' download fails as it does offline."""
    from keras.src.utils import file_utils

    def offline(*args, **kwargs):
        raise Exception("URL fetch failure: no network")

    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    monkeypatch.setattr(file_utils, "get_file", offline)
    return tmp_path / "keras" / "models"


def test_the_backbones_and_the_embedding_baselines_carry_their_weights():
    assert {"efficientnetv2s", "mobilenetv2", "rf_embed", "svm_embed"} <= set(PRETRAINED)
    assert not {"cnn", "air", "colour_cnn", "logreg", "rf_colour"} & set(PRETRAINED)


@pytest.mark.parametrize("name", PRETRAINED)
def test_every_pretrained_entry_names_a_source_and_a_file(name):
    pretrained = models.get(name).pretrained
    assert pretrained.source in SOURCES and pretrained.backbone
    if pretrained.source == "keras.applications":
        shape = backbone_shape(pretrained, *SHAPE[:2])
        assert pretrained.file_for(shape).endswith(".h5") and "{" not in pretrained.file_for(shape)
        assert pretrained.url_for(shape).startswith("https://") and pretrained.url_for(shape).endswith(
            pretrained.file_for(shape)
        )
    else:
        assert pretrained.preset


@pytest.mark.parametrize("name", FILES)
def test_kernels_carry_the_file_the_entry_names(name, empty_keras_cache):
    pretrained = models.get(name).pretrained
    file = pretrained.file_for(backbone_shape(pretrained, *SHAPE[:2]))
    with pytest.raises(KitError, match=f"{name} needs ImageNet weights.*put {file}"):
        kernel_weights.plan(cfg_for(name, "imagenet"), internet=False)
    empty_keras_cache.mkdir(parents=True)
    (empty_keras_cache / file).write_bytes(b"weights")
    assert kernel_weights.plan(cfg_for(name, "imagenet"), internet=False)["file"] == file
    assert kernel_weights.plan(cfg_for(name, "none"), internet=False) is None


@pytest.mark.parametrize("name", FILES)
def test_training_reads_the_file_the_entry_names(name, empty_keras_cache):
    """Offline without the file, building the model (a network, or the embedding step of a
    scikit-learn pipeline) is one KitError naming the entry's file: train.weights reaches it."""
    from kit.training import keras_kind, sklearn_kind

    spec = models.get(name)
    file = spec.pretrained.file_for(backbone_shape(spec.pretrained, *SHAPE[:2]))
    pixels = np.zeros((4, SHAPE[0] * SHAPE[1] * SHAPE[2]), np.uint8)
    with pytest.raises(KitError, match=f"Copy {file} .*to {empty_keras_cache / file}"):
        if spec.kind == "keras":
            keras_kind.build_model(cfg_for(name, "imagenet"))
        else:
            sklearn_kind.build(cfg_for(name, "imagenet")).fit(pixels, np.arange(4))


@pytest.mark.parametrize("name", models.names(kind="keras"))
def test_fine_tuning_finds_the_backbone_the_entry_names(name):
    from kit.training import fine_tune, keras_kind

    model = keras_kind.build_model(cfg_for(name))
    found = fine_tune.find_backbone(model, fine_tune.backbone_name(cfg_for(name)))
    pretrained = models.get(name).pretrained
    assert (found is not None) == (pretrained is not None)
    if found is not None:
        assert found.name.startswith(pretrained.backbone) and not found.trainable


def test_make_models_says_where_the_weights_come_from(capsys):
    assert cli.main(["models", "--comp", "living-species", "--set", "data.height=32 data.width=32"]) == 0
    lines = capsys.readouterr().out.splitlines()
    for name in PRETRAINED:
        pretrained = models.get(name).pretrained
        at = next(i for i, line in enumerate(lines) if line.split()[0] == name)
        assert (
            f"weights: {pretrained.source} {pretrained.file_for(backbone_shape(pretrained, 32, 32))}" in lines[at + 1]
        )
    assert sum(line.strip().startswith("weights: ") for line in lines) == len(PRETRAINED)  # none for the others


def test_a_pretrained_record_says_what_it_needs():
    with pytest.raises(ValueError, match="need their file name and url"):
        Pretrained("keras.applications", "resnet50")
    with pytest.raises(ValueError, match="preset"):
        Pretrained("kerashub", "resnet")
    with pytest.raises(ValueError, match="one of keras.applications, kerashub"):
        Pretrained("timm", "resnet", preset="x")
    hub = Pretrained(
        "kerashub", "resnet", preset="resnet_50_imagenet", handle="kaggle://keras/resnetv2/keras/resnet_50_imagenet"
    )
    assert hub.handle.startswith("kaggle://")
    with pytest.raises(ValueError, match="takes `weights`"):
        register("no_weights_argument", pretrained=hub)(lambda input_shape, num_classes, width=1.0, dropout=0.0: None)


def test_a_kerashub_preset_without_a_kaggle_models_handle_is_refused_for_a_kernel(monkeypatch):
    """A KerasHub preset travels as a Kaggle Models source (tests/kaggle/test_kernel_hub.py); one
    with no handle to attach is one clear line, not a kernel that cannot find its weights."""
    from kit.models.registry import REGISTRY, ModelSpec

    hub = Pretrained("kerashub", "resnet", preset="resnet_50_imagenet")
    spec = ModelSpec("hub_net", lambda *args, weights="none", **kwargs: None, "keras", "", hub)
    monkeypatch.setitem(REGISTRY, "hub_net", spec)
    with pytest.raises(KitError, match=r"hub_net: KerasHub preset resnet_50_imagenet has no Kaggle Models handle"):
        kernel_weights.model_source(cfg_for("hub_net", "imagenet"))
    assert kernel_weights.model_source(cfg_for("hub_net", "none")) is None


def test_a_summary_is_the_docstrings_first_sentence_whole_not_its_first_line():
    """`make models` printed air's summary cut at a line end ('... conv-BN-ReLU;')."""
    assert models.get("air").summary.endswith("conv-BN-ReLU; global max pooling into the softmax.")
    for name in models.names():
        assert models.get(name).summary.endswith((".", ")")), name
