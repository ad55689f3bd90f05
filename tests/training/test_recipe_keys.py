"""The fine-tuning recipe's keys, each shown to do what it says: warm-up length, discriminative
learning rates, weight EMA in validation and the checkpoint (raw weights in the backup), gradient
accumulation, MixUp / CutMix on the batches, progressive resizing, and crop views for TTA."""

from __future__ import annotations

from dataclasses import asdict

import keras
import numpy as np
import pytest
from conftest import run_python

from kit import config
from kit.augment import mixing
from kit.augment.affine import FixedAffine, tta_views
from kit.config import AugmentSection
from kit.data.batches import Batches
from kit.errors import KitError
from kit.models.resizing import TrainingResize
from kit.training import ema, keras_kind, optimizers, progressive
from kit.training.fine_tune import unfreeze_top


def cfg_with(*overrides):
    return config.resolve(
        {"competition": {"class_names": ["a", "b", "c"]}},
        overrides=["data.height=20", "data.width=20", "data.channels=3", "train.jit_compile=off", *overrides],
    )


def test_warmup_fraction_sets_the_warm_up_and_zero_starts_at_the_full_rate():
    schedule = optimizers.learning_rate(cfg_with("train.schedule=onecycle", "train.warmup_fraction=0.5"), 10)
    rates = [float(schedule(step)) for step in (0, 25, 50, 75, 100)]  # 10 epochs x 10 steps
    assert rates[0] == pytest.approx(1e-4) and rates[0] < rates[1] < rates[2] == pytest.approx(1e-3)
    assert rates[2] > rates[3] > rates[4]
    flat_start = optimizers.learning_rate(cfg_with("train.schedule=onecycle", "train.warmup_fraction=0"), 10)
    assert float(flat_start(0)) == pytest.approx(1e-3) and float(flat_start(50)) < 1e-3


def test_gradient_accumulation_updates_once_per_n_batches():
    cfg = cfg_with("train.gradient_accumulation=2", "train.model=dense")
    model = keras_kind.build_model(cfg)
    keras_kind.compile_model(model, cfg)
    before = [w.numpy().copy() for w in model.trainable_weights]
    x, y = np.ones((4, 20, 20, 3), "float32"), np.eye(3, dtype="float32")[[0, 1, 2, 0]]
    model.train_on_batch(x, y)
    assert all(np.array_equal(a, w.numpy()) for a, w in zip(before, model.trainable_weights, strict=True))
    model.train_on_batch(x, y)
    assert not all(np.array_equal(a, w.numpy()) for a, w in zip(before, model.trainable_weights, strict=True))


def hub_model(*overrides):
    pytest.importorskip("keras_hub")
    cfg = cfg_with("train.model=resnet_18_imagenet", "train.weights=none", "train.image_size=32", *overrides)
    return cfg, keras_kind.build_model(cfg)


def test_discriminative_rates_scale_each_unfrozen_layers_step_by_its_depth():
    cfg, model = hub_model("train.discriminative_lr=0.01", "train.learning_rate=0.01")
    backbone = model.get_layer("head_on_resnet_18_imagenet").get_layer("hub_resnet_18_imagenet")
    keras_kind.compile_model(model, cfg)
    assert type(model.optimizer) is optimizers.WarmedAdam  # stage one: the base frozen, one rate
    unfreeze_top(backbone, 12)
    keras_kind.compile_model(model, cfg)
    assert isinstance(model.optimizer, optimizers.ScaledAdam)
    weighted = [layer for layer in backbone.layers if layer.trainable_variables]
    head = model.get_layer("head_on_resnet_18_imagenet").get_layer("probabilities")
    before = {id(v): v.numpy().copy() for v in model.trainable_variables}
    x, y = np.random.default_rng(0).random((4, 20, 20, 3)).astype("float32") * 255, np.eye(3)[[0, 1, 2, 0]]
    model.train_on_batch(x, y)

    def step(layer):  # Adam's first step moves each weight by its rate (a nonzero gradient's sign)
        return max(float(np.abs(v.numpy() - before[id(v)]).max()) for v in layer.trainable_variables)

    assert step(head) == pytest.approx(0.01, rel=0.05)
    assert step(weighted[-1]) == pytest.approx(0.01 * 0.01 ** (1 / len(weighted)), rel=0.05)
    assert step(weighted[0]) == pytest.approx(0.01 * 0.01, rel=0.05)  # the bottom unfrozen one


def test_discriminative_rates_scale_the_weight_decay_alike():
    dense = keras.layers.Dense(1, kernel_initializer="ones", use_bias=False)
    dense.build((None, 1))
    adam = optimizers.ScaledAdam({dense.kernel.path: 0.5}, weight_decay=0.1, learning_rate=0.1)
    adam.apply([keras.ops.zeros((1, 1))], dense.trainable_variables)  # no gradient: decay alone
    assert float(dense.kernel.numpy()[0, 0]) == pytest.approx(1 - 0.1 * 0.5 * 0.1)
    restored = optimizers.ScaledAdam.from_config(adam.get_config())
    assert restored.rate_scales == {dense.kernel.path: 0.5} and restored.scaled_decay == 0.1


class Record(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.seen = []

    def on_epoch_end(self, epoch, logs=None):
        self.seen.append(self.model.trainable_weights[0].numpy().copy())


def test_ema_weights_are_validated_and_checkpointed_and_raw_ones_backed_up():
    """The callbacks between SwapInAverage and SwapOutAverage (the checkpoint's place) see the
    optimizer's average; those after (the backup's) see the raw weights it trains on."""
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="softmax")])
    model.compile(keras.optimizers.Adam(0.1, use_ema=True, ema_momentum=0.5), "categorical_crossentropy")
    first, before_backup = ema.callbacks(0.5)
    at_checkpoint, at_backup = Record(), Record()
    x, y = np.random.default_rng(0).random((32, 4)), np.eye(3)[np.arange(32) % 3]
    model.fit(x, y, batch_size=8, epochs=2, verbose=0, callbacks=[*first, at_checkpoint, *before_backup, at_backup])
    average = model.optimizer._model_variables_moving_average[0].numpy()
    assert not np.allclose(at_checkpoint.seen[-1], at_backup.seen[-1])
    np.testing.assert_allclose(at_checkpoint.seen[-1], average)  # swapped back: the average is in the optimizer
    np.testing.assert_allclose(model.trainable_weights[0].numpy(), average)  # fit's end writes it in
    assert ema.callbacks(0.0) == ([], [])


@pytest.mark.parametrize("kind", ["adam", "scaled"])
def test_the_ema_warms_up_as_tensorflows_moving_average(kind):
    """Step t keeps min(momentum, (1 + t) / (10 + t)) of the average: a short run's average
    follows its weights instead of keeping the first ones (Keras' own: 0.999 from step 2)."""
    dense = keras.layers.Dense(1, kernel_initializer="zeros", use_bias=False)
    dense.build((None, 1))
    options = {"learning_rate": 0.5, "use_ema": True, "ema_momentum": 0.999}
    adam = optimizers.WarmedAdam(**options) if kind == "adam" else optimizers.ScaledAdam({}, **options)
    adam.build(dense.trainable_variables)
    expected, weights = 0.0, []
    for step in range(12):
        adam.apply([keras.ops.convert_to_tensor([[-1.0]])], dense.trainable_variables)  # Adam: +0.5 a step
        weights.append(float(dense.kernel.numpy()[0, 0]))
        kept = 0.0 if step == 0 else min(0.999, (1 + step) / (10 + step))
        expected = kept * expected + (1 - kept) * weights[-1]
    average = float(adam._model_variables_moving_average[0].numpy()[0, 0])
    assert weights[-1] == pytest.approx(6.0, rel=1e-3)
    assert average == pytest.approx(expected, rel=1e-5) and average > 0.5 * weights[-1]


def test_mixup_and_cutmix_mix_tensorflow_batches_and_alternate():
    pytest.importorskip("tensorflow")
    from kit.data.batches import endless_batches

    x = np.stack([np.full((8, 8, 1), 255 * (i % 2), "uint8") for i in range(8)])
    y = np.eye(2, dtype="float32")[np.arange(8) % 2]
    layers = mixing.mixers(AugmentSection(mixup=1.0, cutmix=1.0), seed=0)
    assert [type(layer).__name__ for layer in layers] == ["MixUp", "CutMix"]
    batches = iter(mixing.mix_dataset(endless_batches(x, y, 8, 0), layers))
    for _ in range(2):  # a MixUp batch, then a CutMix one
        images, labels = (np.asarray(t) for t in next(batches))
        np.testing.assert_allclose(labels.sum(axis=1), 1.0, atol=1e-5)
        assert ((labels > 0.01) & (labels < 0.99)).any()  # soft labels: mixed
        assert images.dtype == np.float32 and images.shape == (8, 8, 8, 1)


def test_mixed_batches_repeat_by_seed_and_epoch_and_regression_is_refused():
    images, onehot = np.random.default_rng(0).integers(0, 256, (12, 6, 6, 1), "uint8"), np.eye(3)[np.arange(12) % 3]
    layers = mixing.mixers(AugmentSection(mixup=0.4), seed=0)

    def epoch_batches(epochs: int):
        batches = Batches(images, np.arange(12), 4, onehot, shuffle=True, seed=1, workers=1)
        mixed = mixing.MixedBatches(batches, layers, 7)
        for _ in range(epochs):
            mixed.on_epoch_end()
        return [mixed[i] for i in range(len(mixed))]

    again, other = epoch_batches(0), epoch_batches(1)
    for (x1, y1), (x2, y2) in zip(epoch_batches(0), again, strict=True):
        np.testing.assert_array_equal(x1, x2)
        np.testing.assert_array_equal(y1, y2)
    assert not np.array_equal(again[0][1], other[0][1])
    with pytest.raises(KitError, match="regression"):
        mixing.check_labels(AugmentSection(cutmix=1.0), "regression")


def test_training_resize_shrinks_only_while_training():
    layer = TrainingResize(16, 16)
    pixels = np.random.default_rng(0).random((2, 16, 16, 3)).astype("float32")
    assert layer(pixels, training=True) is pixels or np.array_equal(layer(pixels, training=True), pixels)
    layer.train_scale = 0.5
    assert layer(pixels, training=True).shape == (2, 8, 8, 3)
    assert layer(pixels, training=False).shape == (2, 16, 16, 3)
    assert TrainingResize.from_config(layer.get_config()).train_scale == 1.0  # saved models predict full size


def test_progressive_resizing_trains_small_first_then_full_and_refuses_a_fixed_size_network():
    cfg, model = hub_model("train.progressive_scale=0.5", "train.progressive_epochs=1")
    keras_kind.compile_model(model, cfg)
    (callback,) = progressive.callbacks(cfg, model)
    sides = []

    class Side(keras.callbacks.Callback):
        def on_train_batch_begin(self, batch, logs=None):
            sides.append(callback.layers[0].train_scale)

    traced = []
    original = model.make_train_function
    model.make_train_function = lambda force=False: (traced.append(force), original(force))[1]
    x, y = np.zeros((4, 20, 20, 3), "float32"), np.eye(3)[[0, 1, 2, 0]]
    model.fit(x, y, batch_size=4, epochs=2, verbose=0, callbacks=[callback, Side()])
    assert sides == [0.5, 1.0] and traced.count(True) == 2  # the step traced again at each change
    with pytest.raises(KitError, match="progressive_scale=0.5: model 'cnn' takes one input size"):
        progressive.callbacks(cfg_with("train.progressive_scale=0.5", "train.progressive_epochs=1"), model_cnn())


def model_cnn():
    return keras_kind.build_model(cfg_with("train.model=cnn"))


def test_crop_views_are_the_centre_and_the_corners_resized_back():
    views = tta_views(7, AugmentSection(horizontal_flip=True), crop=0.5, size=(9, 9))
    assert views[0].zoom_x == 1 and views[1].flip and views[2].zoom_x == 0.5 and views[3].flip
    image = np.arange(81, dtype="float32").reshape(1, 9, 9, 1)
    top_left = np.asarray(FixedAffine(asdict(views[4]))(image))  # shift (-2, -2): the top-left crop
    np.testing.assert_allclose(top_left[0, ::2, ::2, 0], image[0, :5, :5, 0], atol=1e-4)
    centre = np.asarray(FixedAffine(asdict(views[2]))(image))
    np.testing.assert_allclose(centre[0, ::2, ::2, 0], image[0, 2:7, 2:7, 0], atol=1e-4)
    assert tta_views(3, AugmentSection(), crop=0.0, size=(9, 9))[1].shift_x == 1  # off: shifts as before


JAX_CHECK = r"""
import numpy as np, tempfile
from pathlib import Path
from kit import config
from kit.data.pixels import Images
from kit.training import keras_kind
cfg = config.resolve({"competition": {"class_names": ["a", "b", "c"]}}, overrides=[
    "train.model=dense", "data.height=8", "data.width=8", "data.channels=1", "train.epochs=2", "train.batch_size=4",
    "augment.mixup=0.4", "augment.cutmix=1.0", "train.ema=0.9", "train.gradient_accumulation=2",
    "train.schedule=onecycle", "predict.tta=3", "predict.tta_crop=0.75", "predict.batch_size=4"])
x = np.random.default_rng(0).integers(0, 256, (16, 8, 8, 1)).astype("uint8")
images = Images(x, np.arange(16) % 3, np.arange(16), Path("."))
folder = Path(tempfile.mkdtemp())
result = keras_kind.fit(cfg, images, np.arange(12), np.arange(12, 16), folder, verbose=0)
probabilities = keras_kind.predict(keras_kind.load(folder / "best.keras"), cfg, x)
print("OK", result.epochs, probabilities.shape, bool(np.allclose(probabilities.sum(axis=1), 1, atol=1e-4)))
"""


@pytest.mark.jax
@pytest.mark.slow
def test_the_recipe_keys_train_and_predict_on_jax():
    pytest.importorskip("jax")
    result = run_python("-c", JAX_CHECK, backend="jax", timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "OK 2 (16, 3) True" in result.stdout


EVERY_KEY = [
    "augment.mixup=0.4",
    "augment.cutmix=1.0",
    "augment.horizontal_flip=true",
    "train.ema=0.9",
    "train.gradient_accumulation=2",
    "train.schedule=onecycle",
    "train.epochs=2",
    "train.batch_size=4",
    "train.fine_tune_epochs=1",
    "train.discriminative_lr=0.01",
    "predict.tta=4",
    "predict.tta_crop=0.8",
    "predict.batch_size=4",
]


@pytest.mark.slow
def test_a_hub_backbone_fine_tunes_with_every_key_saves_loads_and_predicts_with_crop_tta(tmp_path, capsys):
    """(keras.applications networks take the same keys but one input size: no progressive resizing)"""
    pytest.importorskip("keras_hub")
    from kit.data.pixels import Images

    progressive = ["train.image_size=32", "train.progressive_scale=0.5", "train.progressive_epochs=1"]
    cfg = cfg_with("train.model=resnet_18_imagenet", "train.weights=none", *EVERY_KEY, *progressive)
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (16, 20, 20, 3)).astype("uint8")
    images = Images(x, np.arange(16) % 3, np.arange(16), tmp_path)
    result = keras_kind.fit(cfg, images, np.arange(12), np.arange(12, 16), tmp_path / "fold0", verbose=0)
    assert result.epochs == 3 and "fine-tuning" in capsys.readouterr().out
    loaded = keras_kind.load(tmp_path / "fold0" / "best.keras")
    probabilities = keras_kind.predict(loaded, cfg, x)
    assert probabilities.shape == (16, 3) and np.allclose(probabilities.sum(axis=1), 1.0, atol=1e-4)
