"""The KerasHub presets the kit knows by name: architecture, preprocessing, input size and Kaggle
Models handle of each. Nothing here imports Keras: `make kernel` and `make models` read it.

A preset's own `config.json` lives on Kaggle Models, which this machine cannot reach, so the
architecture arguments are carried here. They are what keras-hub's own converters
(`keras_hub/src/utils/timm/convert_*.py`, `utils/transformers/convert_dinov2.py`,
`tools/checkpoint_conversion/convert_vit_checkpoints.py`) produce for the checkpoint each preset
was saved from (tests/models/test_hub.py checks them against the installed converters). They
build a backbone with random weights (`train.weights=none`) or for a bare `.weights.h5` file; a
real preset folder (the KerasHub cache, or the model a kernel attaches) brings its own config.

Preprocessing is the preset's ImageConverter: `(x / 255 - mean) / std` per channel, with the
checkpoint's mean and std (timm's pretrained_cfg, Hugging Face's image processor).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from kit.models.registry import Pretrained

IMAGENET_MEAN = (0.485, 0.456, 0.406)  # timm's IMAGENET_DEFAULT_MEAN / STD
IMAGENET_STD = (0.229, 0.224, 0.225)
HALF = (0.5, 0.5, 0.5)  # google/vit-*: images scaled to -1..1


@dataclass(frozen=True)
class HubPreset:
    """One KerasHub preset: `backbone_class` in keras_hub.models built from `config`."""

    name: str
    backbone_class: str
    handle: str  # Kaggle Models, as keras-hub 0.29 lists it (kaggle://owner/model/keras/variation/version)
    size: int  # the side the backbone sees unless train.image_size says otherwise
    config: dict = field(default_factory=dict)
    mean: tuple[float, float, float] = IMAGENET_MEAN
    std: tuple[float, float, float] = IMAGENET_STD
    pooling: str = "avg"  # avg: feature maps, global average; token: a transformer's class token
    fixed_size: bool = False  # position embeddings sized by the input: weights need `size`

    @property
    def model_source(self) -> str:
        """The handle as kernel-metadata.json's `model_sources` wants it (no scheme)."""
        return self.handle.removeprefix("kaggle://")

    @property
    def pretrained(self) -> Pretrained:
        return Pretrained("kerashub", f"hub_{self.name}", preset=self.name, handle=self.handle, input_size=self.size)


def resnet(blocks: list[int], block_type: str) -> dict:
    """convert_resnet.convert_backbone_config for timm's resnet18 / resnet50."""
    return {
        "stackwise_num_filters": [64, 128, 256, 512],
        "stackwise_num_blocks": blocks,
        "stackwise_num_strides": [1, 2, 2, 2],
        "block_type": block_type,
        "use_pre_activation": False,
        "input_conv_filters": [64],
        "input_conv_kernel_sizes": [7],
        "image_shape": [None, None, 3],
    }


EFFICIENTNET_B0 = {  # convert_efficientnet.convert_backbone_config("efficientnet_b0")
    "stackwise_kernel_sizes": [3, 3, 5, 3, 5, 5, 3],
    "stackwise_num_repeats": [1, 2, 2, 3, 3, 4, 1],
    "stackwise_input_filters": [32, 16, 24, 40, 80, 112, 192],
    "stackwise_output_filters": [16, 24, 40, 80, 112, 192, 320],
    "stackwise_expansion_ratios": [1, 6, 6, 6, 6, 6, 6],
    "stackwise_strides": [1, 2, 2, 2, 1, 2, 1],
    "stackwise_block_types": ["v1"] * 7,
    "min_depth": None,
    "include_stem_padding": True,
    "use_depth_divisor_as_min_depth": True,
    "cap_round_filter_decrease": True,
    "stem_conv_padding": "valid",
    "batch_norm_momentum": 0.9,
    "batch_norm_epsilon": 1e-5,
    "dropout": 0,
    "projection_activation": None,
    "stackwise_width_coefficients": [1.0] * 7,
    "stackwise_depth_coefficients": [1.0] * 7,
    "stackwise_squeeze_and_excite_ratios": [0.25] * 7,
    "image_shape": [None, None, 3],
}

MOBILENET_V3_SMALL_100 = {  # convert_mobilenet.convert_backbone_config("mobilenetv3_small_100")
    "stackwise_num_blocks": [2, 3, 2, 3],
    "stackwise_expansion": [[72, 88], [96, 240, 240], [120, 144], [288, 576, 576]],
    "stackwise_num_filters": [[24, 24], [40, 40, 40], [48, 48], [96, 96, 96]],
    "stackwise_kernel_size": [[3, 3], [5, 5, 5], [5, 5], [5, 5, 5]],
    "stackwise_num_strides": [[2, 1], [2, 1, 1], [1, 1], [2, 1, 1]],
    "stackwise_se_ratio": [[None, None], [0.25, 0.25, 0.25], [0.25, 0.25], [0.25, 0.25, 0.25]],
    "stackwise_activation": [["relu", "relu"], ["hard_swish"] * 3, ["hard_swish"] * 2, ["hard_swish"] * 3],
    "stackwise_padding": [[1, 1], [2, 2, 2], [2, 2], [2, 2, 2]],
    "output_num_filters": 1024,
    "input_num_filters": 16,
    "depthwise_filters": 16,
    "depthwise_stride": 2,
    "depthwise_residual": False,
    "squeeze_and_excite": 0.5,
    "last_layer_filter": 576,
    "input_activation": "hard_swish",
    "output_activation": "hard_swish",
    "image_shape": [None, None, 3],
}

VIT_BASE_16 = {  # convert_vit_checkpoints.convert_model(google/vit-base-patch16-224)
    "image_shape": [224, 224, 3],
    "patch_size": [16, 16],
    "num_layers": 12,
    "num_heads": 12,
    "hidden_dim": 768,
    "mlp_dim": 3072,
    "dropout_rate": 0.0,
    "attention_dropout": 0.0,
    "use_mha_bias": True,
}

DINOV2_SMALL = {  # convert_dinov2.convert_backbone_config(facebook/dinov2-small)
    "patch_size": 14,
    "num_layers": 12,
    "hidden_dim": 384,
    "num_heads": 6,
    "intermediate_dim": 1536,
    "layer_scale_init_value": 1.0,
    "num_register_tokens": 0,
    "use_mask_token": True,
    "use_swiglu_ffn": False,
    "dropout_rate": 0.0,
    "drop_path_rate": 0.0,
    "image_shape": [518, 518, 3],
    "position_embedding_shape": [518, 518],
    "antialias_in_interpolation": False,
    "apply_layernorm": True,
}

PRESETS: dict[str, HubPreset] = {
    preset.name: preset
    for preset in (
        HubPreset(
            "resnet_18_imagenet",
            "ResNetBackbone",
            "kaggle://keras/resnetv1/keras/resnet_18_imagenet/3",
            224,
            resnet([2, 2, 2, 2], "basic_block"),
        ),
        HubPreset(
            "resnet_50_imagenet",
            "ResNetBackbone",
            "kaggle://keras/resnetv1/keras/resnet_50_imagenet/3",
            224,
            resnet([3, 4, 6, 3], "bottleneck_block"),
        ),
        HubPreset(
            "efficientnet_b0_ra_imagenet",
            "EfficientNetBackbone",
            "kaggle://keras/efficientnet/keras/efficientnet_b0_ra_imagenet/2",
            224,
            EFFICIENTNET_B0,
        ),
        HubPreset(
            "mobilenet_v3_small_100_imagenet",
            "MobileNetBackbone",
            "kaggle://keras/mobilenetv3/keras/mobilenet_v3_small_100_imagenet/1",
            224,
            MOBILENET_V3_SMALL_100,
        ),
        HubPreset(
            "vit_base_patch16_224_imagenet",
            "ViTBackbone",
            "kaggle://keras/vit/keras/vit_base_patch16_224_imagenet/4",
            224,
            VIT_BASE_16,
            mean=HALF,
            std=HALF,
            pooling="token",
            fixed_size=True,
        ),
        HubPreset(
            "dinov2_small",
            "DINOV2Backbone",
            "kaggle://keras/dinov2/keras/dinov2_small/1",
            # trained on a 518 grid (37 x 37 patches of 14), which its position embeddings
            # interpolate from; 224 is the model card's crop and a fifth of the compute
            224,
            DINOV2_SMALL,
            pooling="token",
        ),
    )
}


def kagglehub_cache() -> Path:
    """Where kagglehub (and so KerasHub's `from_preset`) keeps downloaded models."""
    return Path(os.environ.get("KAGGLEHUB_CACHE", Path.home() / ".cache" / "kagglehub"))


def cached_preset(preset: HubPreset) -> Path | None:
    """The preset's folder in the KerasHub cache (config.json and model.weights.h5), or None."""
    folder = kagglehub_cache() / "models" / preset.model_source
    return folder if (folder / "config.json").is_file() else None


def weights_source(preset: HubPreset, weights: str) -> Path | None:
    """Where `train.weights` says this preset's weights are: None for random weights; a preset
    folder or a .weights.h5 file otherwise. `imagenet` with no cached copy is a KitError naming
    the folder to fill, never a download (which would hang without a network)."""
    from kit.errors import KitError
    from kit.models.pretrained import NO_WEIGHTS

    if weights in NO_WEIGHTS:
        return None
    if weights == "imagenet":
        cached = cached_preset(preset)
        if cached is None:
            raise KitError(
                f"{preset.name}: the KerasHub preset is not in {kagglehub_cache() / 'models' / preset.model_source} "
                f'and the kit does not download it: run `python -c "import keras_hub; keras_hub.models.Backbone.'
                f"from_preset('{preset.name}')\"` where there is a network, or set train.weights=<a preset folder "
                "or .weights.h5 file>, or train.weights=none for random weights"
            )
        return cached
    path = Path(weights).expanduser()
    if path.is_dir() and not (path / "config.json").is_file():
        raise KitError(f"train.weights={weights}: no config.json in that folder (a KerasHub preset folder)")
    if not path.exists():
        raise KitError(f"train.weights={weights}: not found (a KerasHub preset folder or a .weights.h5 file)")
    return path
