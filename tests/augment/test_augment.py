"""The affine augmentation: identity at zero, seeded, exact shifts and flips, fill modes, TTA
views, and the property it exists for: the compiled step stays compiled (jit on) on JAX."""

import textwrap
from dataclasses import asdict

import numpy as np
import pytest
from conftest import backend_available, run_python

from kit.augment import AffineParams, FixedAffine, RandomAffine, tta_views
from kit.augment.affine import affine_matrix, is_pixel_move, transform
from kit.config import AugmentSection
from kit.errors import KitError

FULL = AugmentSection(
    rotation_range=15,
    width_shift_range=0.1,
    height_shift_range=0.1,
    zoom_range=0.15,
    shear_range=10,
    horizontal_flip=True,
)


@pytest.fixture
def images():
    return np.random.default_rng(0).random((6, 28, 28, 1)).astype("float32")


def test_zero_ranges_are_the_identity(images):
    out = np.asarray(RandomAffine(AugmentSection(), seed=1)(images, training=True))
    np.testing.assert_array_equal(out, images)


def test_inference_is_the_identity(images):
    np.testing.assert_array_equal(np.asarray(RandomAffine(FULL, seed=1)(images, training=False)), images)


def test_fixed_seed_reproduces_and_images_differ(images):
    a = np.asarray(RandomAffine(FULL, seed=7)(images, training=True))
    b = np.asarray(RandomAffine(FULL, seed=7)(images, training=True))
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, images)
    c = np.asarray(RandomAffine(FULL, seed=8)(images, training=True))
    assert not np.allclose(a, c)


@pytest.mark.parametrize("fill_mode", ["nearest", "constant", "reflect", "wrap"])
def test_shape_dtype_and_range_kept(images, fill_mode):
    settings = AugmentSection(**{**asdict(FULL), "fill_mode": fill_mode})
    out = np.asarray(RandomAffine(settings, seed=3)(images, training=True))
    assert out.shape == images.shape and out.dtype == images.dtype
    assert out.min() >= 0 and out.max() <= 1


def test_one_pixel_shift_and_mirror_are_exact(images):
    shifted = np.asarray(FixedAffine(asdict(AffineParams(shift_x=1)))(images))
    np.testing.assert_allclose(shifted[:, :, :-1], images[:, :, 1:])
    mirrored = np.asarray(FixedAffine(asdict(AffineParams(flip=True)))(images))
    np.testing.assert_allclose(mirrored, images[:, :, ::-1])


def test_constant_fill_uses_cval(images):
    out = np.asarray(FixedAffine(asdict(AffineParams(shift_x=3)), fill_mode="constant", cval=0.5)(images))
    np.testing.assert_allclose(out[:, :, -3:], 0.5)


def test_tta_views_follow_the_training_augmentation():
    assert tta_views(2, FULL)[1] == AffineParams(flip=True)
    no_flip = AugmentSection(width_shift_range=0.1)
    assert all(not view.flip for view in tta_views(5, no_flip))
    with pytest.raises(KitError, match=r"predict\.tta=9: this augmentation config offers 1\.\.5 views"):
        tta_views(9, no_flip)


def test_bad_fill_mode():
    with pytest.raises(KitError, match="augment.fill_mode 'mirror' is not one of nearest, constant, reflect, wrap"):
        RandomAffine(AugmentSection(fill_mode="mirror"))


JIT_CHECK = textwrap.dedent("""
    import keras, numpy as np
    from kit.config import competitions
    from kit.training import keras_kind, runs
    cfg = competitions.load_config("digits", overrides=["train.model=cnn", "train.jit_compile=on"])
    model = keras_kind.build_model(cfg)
    assert model.get_layer("augment") is not None
    keras_kind.compile_model(model, cfg)
    y = keras.utils.to_categorical(np.arange(64) % 10, 10)
    model.fit(np.zeros((64, 28, 28, 1), "uint8"), y, batch_size=32, epochs=1, verbose=0)
    print("JIT", keras.backend.backend(), model.jit_compile)
    # negative control: Keras' own RandomRotation silently switches jit off
    plain = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.RandomRotation(0.1),
                              keras.layers.Flatten(), keras.layers.Dense(10)])
    plain.compile("adam", "mse", jit_compile=True)
    print("CONTROL", plain.jit_compile)
""")


@pytest.mark.jax
@pytest.mark.skipif(not backend_available("jax"), reason="JAX is not installed (pip install -e '.[jax]')")
def test_training_step_stays_jit_compiled_on_jax():
    result = run_python("-c", JIT_CHECK, backend="jax", timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "JIT jax True" in result.stdout
    assert "CONTROL False" in result.stdout  # the check can tell the difference


@pytest.mark.parametrize("fill_mode", ["nearest", "constant", "reflect", "wrap"])
@pytest.mark.parametrize("view", [AffineParams(shift_x=2, shift_y=-1), AffineParams(flip=True, shift_x=-3)])
def test_pixel_moves_take_the_fast_path_and_match_the_resampler(images, fill_mode, view):
    """Whole-pixel TTA views skip the bilinear resampler and give exactly its numbers."""
    fast = np.asarray(FixedAffine(asdict(view), fill_mode=fill_mode, cval=0.25)(images))
    batch = images.shape[0]
    matrix = affine_matrix(
        *(np.full(batch, v, "float32") for v in (0.0, view.shift_x, view.shift_y, 0.0, 1.0, 1.0)),
        np.full(batch, -1.0 if view.flip else 1.0, "float32"),
    )
    resampled = np.asarray(transform(images, matrix, fill_mode, 0.25))
    assert is_pixel_move(view) and not is_pixel_move(AffineParams(shift_x=0.5))
    np.testing.assert_array_equal(fast, resampled)
