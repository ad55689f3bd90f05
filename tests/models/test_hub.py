"""KerasHub backbones by preset name: each family builds from the carried config with random
weights (nothing is downloaded), fits a step, saves, loads and predicts with TTA; weights come
from the KerasHub cache, a preset folder or a .weights.h5 file, else one clear line."""

from __future__ import annotations

import numpy as np
import pytest

from kit import config, models
from kit.errors import KitError
from kit.models.hub_presets import PRESETS

keras_hub = pytest.importorskip("keras_hub")

SMALL = {"dinov2_small": 28}  # the side each test builds at: a patch multiple, a few patches


def small_side(name: str) -> int:
    return SMALL.get(name, 32)


def cfg_for(name: str, *more: str):
    return config.resolve(
        {"competition": {"class_names": ["a", "b", "c"]}},
        overrides=[
            f"train.model={name}",
            "train.weights=none",
            f"train.image_size={small_side(name)}",
            "data.height=20",
            "data.width=20",
            "data.channels=3",
            "predict.tta=2",
            "predict.batch_size=4",
            "train.jit_compile=off",
            *more,
        ],
    )


def test_the_listed_presets_are_registered_with_their_kaggle_models_handle():
    for name, preset in PRESETS.items():
        pretrained = models.get(name).pretrained
        assert pretrained.source == "kerashub" and pretrained.preset == name
        assert pretrained.handle == preset.handle and preset.model_source.startswith("keras/")


def test_the_handles_are_the_installed_keras_hubs():
    from keras_hub.src.utils.preset_utils import BUILTIN_PRESETS

    for name, preset in PRESETS.items():
        assert BUILTIN_PRESETS[name]["kaggle_handle"] == preset.handle, name


def test_the_carried_configs_are_what_keras_hubs_converters_build_the_presets_from():
    """The presets were saved from these converters' output; a drift here means a preset's own
    config.json would no longer match the network the kit builds for a bare weights file."""
    from keras_hub.src.utils.timm import convert_efficientnet, convert_mobilenet, convert_resnet
    from keras_hub.src.utils.transformers import convert_dinov2

    def carried(name):
        return {k: v for k, v in PRESETS[name].config.items() if k != "image_shape"}

    assert carried("resnet_18_imagenet") == convert_resnet.convert_backbone_config({"architecture": "resnet18"})
    assert carried("resnet_50_imagenet") == convert_resnet.convert_backbone_config({"architecture": "resnet50"})
    efficientnet = convert_efficientnet.convert_backbone_config({"architecture": "efficientnet_b0"})
    assert carried("efficientnet_b0_ra_imagenet") == efficientnet
    mobilenet = convert_mobilenet.convert_backbone_config({"architecture": "mobilenetv3_small_100"})
    assert carried("mobilenet_v3_small_100_imagenet") == mobilenet
    dinov2 = convert_dinov2.convert_backbone_config(
        {
            **{"model_type": "dinov2", "image_size": 518, "patch_size": 14, "num_hidden_layers": 12},
            **{"hidden_size": 384, "num_attention_heads": 6, "mlp_ratio": 4, "layerscale_value": 1.0},
            **{"use_swiglu_ffn": False, "hidden_dropout_prob": 0.0, "drop_path_rate": 0.0, "apply_layernorm": True},
        }
    )
    dinov2 = {k: list(v) if isinstance(v, tuple) else v for k, v in dinov2.items() if k != "image_shape"}
    assert carried("dinov2_small") == dinov2


def test_resnet_parameters_match_the_presets_published_count():
    """keras-hub lists each preset's parameter count: the carried ResNet configs build exactly it."""
    from keras_hub.src.utils.preset_utils import BUILTIN_PRESETS

    for name in ("resnet_18_imagenet", "resnet_50_imagenet"):
        backbone = keras_hub.models.ResNetBackbone.from_config(PRESETS[name].config)
        assert backbone.count_params() == BUILTIN_PRESETS[name]["metadata"]["params"]


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(PRESETS))
def test_each_family_fits_a_step_saves_loads_and_predicts_with_tta(name, tmp_path):
    from kit.training import keras_kind

    cfg = cfg_for(name)
    model = keras_kind.build_model(cfg)
    keras_kind.compile_model(model, cfg)
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (4, 20, 20, 3)).astype("float32")
    y = np.eye(3, dtype="float32")[[0, 1, 2, 0]]
    history = model.fit(x, y, batch_size=4, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"]).all()
    backbone = model.get_layer(f"head_on_{name}").get_layer(f"hub_{name}")
    assert not backbone.trainable  # stage one: the head learns, the backbone stays as loaded

    path = tmp_path / "best.keras"
    model.save(path)
    loaded = keras_kind.load(path)  # safe_mode: no Lambda layer in the network
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0), atol=1e-5)
    probabilities = keras_kind.predict(loaded, cfg, x)
    assert probabilities.shape == (4, 3) and np.allclose(probabilities.sum(axis=1), 1.0, atol=1e-4)


def test_imagenet_without_the_cache_is_one_line_and_no_download(tmp_path, monkeypatch):
    monkeypatch.setenv("KAGGLEHUB_CACHE", str(tmp_path / "empty"))
    with pytest.raises(KitError, match=r"not in .*keras/resnetv1/keras/resnet_18_imagenet/3 .*does not download"):
        models.get("resnet_18_imagenet").build((32, 32, 3), 3, weights="imagenet")


def test_a_cached_preset_folder_and_a_weights_file_load_their_weights(tmp_path, monkeypatch):
    """A preset saved where kagglehub caches it (a stand-in for the download) is read by
    `imagenet`; its folder and its .weights.h5 file given as train.weights load the same weights."""
    preset = PRESETS["resnet_18_imagenet"]
    monkeypatch.setenv("KAGGLEHUB_CACHE", str(tmp_path / "cache"))
    folder = tmp_path / "cache" / "models" / preset.model_source
    saved = keras_hub.models.ResNetBackbone.from_config(preset.config)
    saved.save_to_preset(str(folder))
    saved.save_weights(str(tmp_path / "resnet18.weights.h5"))
    expected = saved.get_layer("conv1_conv").kernel.numpy()
    spec = models.get("resnet_18_imagenet")
    for weights in ("imagenet", str(folder), str(tmp_path / "resnet18.weights.h5")):
        network = spec.build((32, 32, 3), 3, weights=weights, image_size=32)
        loaded = network.get_layer("hub_resnet_18_imagenet").get_layer("conv1_conv").kernel.numpy()
        np.testing.assert_array_equal(loaded, expected)
    random = spec.build((32, 32, 3), 3, weights="none", image_size=32)
    assert not np.array_equal(random.get_layer("hub_resnet_18_imagenet").get_layer("conv1_conv").kernel, expected)


def test_wrong_weights_and_sizes_are_one_line_each(tmp_path):
    spec = models.get("resnet_18_imagenet")
    with pytest.raises(KitError, match="not found"):
        spec.build((32, 32, 3), 3, weights=str(tmp_path / "missing.weights.h5"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(KitError, match="no config.json"):
        spec.build((32, 32, 3), 3, weights=str(tmp_path / "empty"))
    other = tmp_path / "mobilenet.weights.h5"
    keras_hub.models.MobileNetBackbone.from_config(PRESETS["mobilenet_v3_small_100_imagenet"].config).save_weights(
        str(other)
    )
    with pytest.raises(KitError, match="not resnet_18_imagenet weights"):
        spec.build((32, 32, 3), 3, weights=str(other), image_size=32)
    vit = tmp_path / "vit.weights.h5"
    vit.write_bytes(b"stand-in")
    with pytest.raises(KitError, match=r"take 224 x 224 images only"):
        models.get("vit_base_patch16_224_imagenet").build((32, 32, 3), 3, weights=str(vit), image_size=32)
    with pytest.raises(KitError, match="multiple of the patch size 14"):
        models.get("dinov2_small").build((32, 32, 3), 3, image_size=30)


def test_make_models_lists_the_backbones_and_that_kaggle_can_attach_them(capsys):
    from kit import cli

    assert cli.main(["models", "--comp", "living-species"]) == 0
    lines = capsys.readouterr().out.splitlines()
    for name, preset in PRESETS.items():
        at = next(i for i, line in enumerate(lines) if line.split()[0] == name)
        assert f"kerashub preset {name}, {preset.size} px; on Kaggle: attachable model {preset.handle}" in lines[at + 1]
    assert any("private dataset" in line for line in lines)  # the keras.applications ones travel as files
