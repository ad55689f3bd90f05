"""Device probing and the precision policy: a fit's policy never outlives the fit."""

import json

import keras
import numpy as np
import pytest
from conftest import run_kit

from kit import cli, paths
from kit.training import device

CPUINFO = "processor\t: 0\nvendor_id\t: AuthenticAMD\nflags\t\t: fpu sse2 avx2 fma {extra}\n\nprocessor\t: 1\n"


@pytest.mark.parametrize(
    ("extra", "native"), [("avx512f avx512_bf16", True), ("amx_tile amx_bf16", True), ("avx512f avx512bw", False)]
)
def test_bfloat16_is_native_only_with_its_cpu_flags(tmp_path, extra, native):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text(CPUINFO.format(extra=extra))
    assert device.cpu_has_bfloat16(cpuinfo) is native
    assert device.cpu_has_bfloat16(tmp_path / "absent") is False  # not Linux


@pytest.mark.parametrize(
    ("gpu", "bfloat16", "onednn", "expected", "plain_auto"),
    [
        (True, True, "1", "mixed_float16", "mixed_float16"),
        (False, True, "1", "mixed_bfloat16", "float32"),
        (False, True, "0", "float32", "float32"),  # Eigen's kernels have no bfloat16 path: emulated, slower
        (False, False, "1", "float32", "float32"),
    ],
)
def test_bfloat16_precision_follows_the_device_and_the_cpu(monkeypatch, gpu, bfloat16, onednn, expected, plain_auto):
    monkeypatch.setattr(device, "has_gpu", lambda: gpu)
    monkeypatch.setattr(device, "cpu_has_bfloat16", lambda: bfloat16)
    monkeypatch.setenv("TF_ENABLE_ONEDNN_OPTS", onednn)
    assert device.resolve_policy("auto_bfloat16") == expected
    assert device.resolve_policy("auto") == plain_auto  # bfloat16 on a CPU only when asked for
    assert device.resolve_policy("off") == "float32"
    assert device.resolve_policy("mixed_float16") == "mixed_float16"  # a policy named is taken as it is


POLICIES = ["float32", "mixed_bfloat16", "mixed_float16"]


@pytest.mark.parametrize("before", POLICIES)
@pytest.mark.parametrize("ending", [None, ValueError, KeyboardInterrupt])
def test_a_policy_lasts_only_its_block_however_the_block_ends(before, ending):
    keras.mixed_precision.set_global_policy(before)
    inner = "mixed_float16" if before != "mixed_float16" else "mixed_bfloat16"
    try:
        with device.policy(inner) as name:
            assert name == inner and keras.mixed_precision.global_policy().name == inner
            built = keras.layers.Dense(2)
            if ending is not None:
                raise ending("stopped")
    except (ValueError, KeyboardInterrupt):
        pass
    assert keras.mixed_precision.global_policy().name == before
    assert built.dtype_policy.name == inner  # what was built inside keeps the block's policy
    with device.policy(None) as name:  # nothing recorded: the process's policy is left alone
        assert name is None and keras.mixed_precision.global_policy().name == before


def test_the_recorded_policy_is_the_folds_then_the_runs(tmp_path):
    fold = tmp_path / "run" / "fold0"
    fold.mkdir(parents=True)
    assert device.recorded_policy(fold) is None  # an older kit's run: nothing recorded
    (fold.parent / "run.json").write_text(json.dumps({"environment": {"precision": "mixed_bfloat16"}}))
    assert device.recorded_policy(fold) == "mixed_bfloat16"
    (fold / "fold.json").write_text(json.dumps({"precision": "mixed_float16"}))
    assert device.recorded_policy(fold) == "mixed_float16"
    (fold / "fold.json").write_text(json.dumps({"precision": None}))  # a scikit-learn fold
    (fold.parent / "run.json").write_text(json.dumps({"environment": {"precision": "float32, mixed_bfloat16"}}))
    assert device.recorded_policy(fold) is None  # folds resumed on two machines: each its own
    (fold.parent / "run.json").write_text("{torn")
    assert device.recorded_policy(fold) is None


def probability_files(slug: str) -> list[np.ndarray]:
    """Every submission's probabilities, oldest first, those set aside included."""
    folders = paths.submissions_dir(slug).parent.glob(f"{slug}*")
    files = sorted((f for d in folders for f in d.glob("*.probabilities.npy")), key=lambda p: p.stat().st_mtime_ns)
    return [np.load(path) for path in files]


def set_aside(slug: str, number: int) -> None:
    """The submissions so far moved away: the next `make predict` writes its own file (the same
    rows and probabilities again would otherwise be kept, not written), compared here by the test."""
    folder = paths.submissions_dir(slug)
    folder.rename(folder.with_name(f"{folder.name}.{number}"))


@pytest.mark.slow
@pytest.mark.parametrize("trained", POLICIES)
def test_make_run_and_make_predict_of_one_run_give_the_same_probabilities(digits_folder, trained):
    """The probabilities `make run` writes after its fit are bit for bit those of `make predict`
    of the same run, whatever Keras' global policy was in the process that predicts (a fresh
    process: float32). Tiny network, 1 epoch, 3 TTA views (the views are where a leaked policy
    showed), 200 test images."""
    mode = "off" if trained == "float32" else trained  # train.mixed_precision's name for float32
    settings = f"train.mixed_precision={mode} train.epochs=1 data.limit=300 predict.tta=3"
    args = ["--comp", "digits", "--preset", "tiny", "--data", str(digits_folder), "--set", settings]
    keras.mixed_precision.set_global_policy("float32")
    assert cli.main(["run", *args]) == 0
    assert keras.mixed_precision.global_policy().name == "float32"  # the fit's policy went with it
    (run,) = paths.runs_dir("digit-recognizer").iterdir()
    record = json.loads((run / "run.json").read_text())
    assert record["environment"]["precision"] == trained
    for number, process in enumerate(POLICIES):  # what the process had set before `make predict` ran in it
        set_aside("digit-recognizer", number)
        with device.policy(process):
            assert cli.main(["predict", *args, "--runs", run.name]) == 0
            assert keras.mixed_precision.global_policy().name == process
    fresh = trained == "mixed_bfloat16"  # the digits and fashion recipes' policy on this CPU: `make predict` too
    if fresh:
        set_aside("digit-recognizer", len(POLICIES))
        result = run_kit("predict", *args, "--runs", run.name)
        assert result.returncode == 0, result.stderr[-2000:]
    made, *predicted = probability_files("digit-recognizer")
    assert len(predicted) == len(POLICIES) + fresh and made.shape == (200, 10)
    for again in [made, *predicted]:
        assert again.dtype == np.float32
        np.testing.assert_array_equal(again, made)
    np.testing.assert_allclose(made.astype(np.float64).sum(axis=1), 1.0, rtol=0, atol=1e-6)
