"""Quiet, quick, readable: no TensorFlow log lines, cheap errors before heavy imports, reports a
person can read."""

from __future__ import annotations

import os
import subprocess
import sys

import matplotlib
import numpy as np
import pandas as pd
import pytest
from conftest import ROOT, run_kit

from kit import report
from kit.console.quiet import drop_log_lines

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

# runs the CLI in-process, then says which heavy modules the error left unloaded
PROBE = """
import sys
from kit.cli import main
code = main(sys.argv[1:])
print("heavy:", sorted(m for m in ("tensorflow", "keras", "sklearn", "matplotlib") if m in sys.modules))
sys.exit(code)
"""


def probe(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", PROBE, *args], cwd=ROOT, capture_output=True, text=True, timeout=120, env=os.environ
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("train", "--comp", "digits", "--set", "train.model=nosuch"), "unknown model 'nosuch' (known: air, cnn,"),
        (("run", "--comp", "fashion", "--set", "model=nosuch"), "unknown model 'nosuch'"),
        (("compare", "--comp", "fashion", "--models", "cnn nosuch"), "unknown model 'nosuch'"),
        (("train", "--comp", "digits"), "no data for digit-recognizer"),
        (("run", "--comp", "digits"), "no data for digit-recognizer"),
        (("predict", "--comp", "digits"), "no runs in"),
        (("train", "--comp", "nosuch"), "unknown competition 'nosuch'"),
        (("train", "--set", "train.epoch=3"), "did you mean train.epochs?"),
    ],
)
def test_cheap_errors_come_before_tensorflow_and_scikit_learn(args, message, workdir):
    result = probe(*args)
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1, result.stderr
    assert message in result.stderr
    assert "heavy: []" in result.stdout  # within a second: TensorFlow alone takes several
    assert not (workdir / "artifacts" / "fashion-mnist" / "runs").exists()  # no empty run folder


def test_tensorflow_start_up_lines_are_dropped_and_other_output_kept():
    script = "import kit, warnings, tensorflow as tf; print(int(tf.constant(1) + 1)); warnings.warn('kept')"
    env = {k: v for k, v in os.environ.items() if k not in ("TF_CPP_MIN_LOG_LEVEL", "KIT_VERBOSE")}
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0 and result.stdout == "2\n", result.stderr
    assert result.stderr.strip().endswith("UserWarning: kept"), result.stderr
    for noise in ("absl::InitializeLog", "cuInit", "cudart_stub", "I0000", "E0000"):
        assert noise not in result.stderr


@pytest.mark.parametrize(("verbose", "shown"), [("0", False), ("1", True)])
def test_tensorflow_retracing_notes_are_dropped_unless_asked_for(verbose, shown):
    """TensorFlow's Python-side "triggered tf.function retracing" warnings (raw in `make compare`)."""
    script = (
        "import kit, tensorflow as tf\nfor i in range(8):\n"
        "    f = tf.function(lambda x: x + 1)\n    f(tf.constant(i))\nprint('done')"
    )
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"} | {"KIT_VERBOSE": verbose}
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0 and result.stdout == "done\n", result.stderr
    assert ("retracing" in result.stderr) is shown, result.stderr


def test_only_cxx_log_lines_are_dropped():
    captured = (
        b"WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n"
        b"I0000 00:00:1796194729.022966   24407 cudart_stub.cc:31] Could not find cuda drivers\n"
        b"E0000 00:00:1796194740.444000   24407 cuda_platform.cc:52] failed call to cuInit: CUDA error\n"
        b"W1202 06:54:01.123456  123 port.cc:153] oneDNN custom operations are on\n"
        b"F0000 00:00:1796194740.444000   24407 main.cc:1] a fatal error stays\n"
        b"Traceback (most recent call last):\n"
        b"<string>:1: UserWarning: kept\n"
    )
    assert drop_log_lines(captured) == (
        b"F0000 00:00:1796194740.444000   24407 main.cc:1] a fatal error stays\n"
        b"Traceback (most recent call last):\n"
        b"<string>:1: UserWarning: kept\n"
    )


def test_make_config_prints_the_resolved_settings_as_toml():
    import tomllib

    result = run_kit(
        "config", "--comp", "digits", "--preset", "tiny", "--set", "train.epochs=2", "augment.zoom_range=0.1"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("# digit-recognizer: the resolved settings (defaults < ")
    assert "[presets.tiny] < SET)" in result.stdout.splitlines()[0]
    settings = tomllib.loads(result.stdout)
    assert settings["train"]["epochs"] == 2 and settings["augment"]["zoom_range"] == 0.1
    assert settings["competition"]["class_names"] == [str(i) for i in range(10)]


def visible_labels_overlap(ax) -> tuple[int, bool]:
    """How many x tick labels are drawn, and whether any two of them overlap."""
    ax.figure.canvas.draw()
    renderer = ax.figure.canvas.get_renderer()
    ticks = [*ax.xaxis.get_major_ticks(), *ax.xaxis.get_minor_ticks()]
    lo, hi = sorted(ax.get_xlim())
    boxes = sorted(
        (
            t.label1.get_window_extent(renderer)
            for t in ticks
            if t.label1.get_visible() and t.label1.get_text() and lo <= t.get_loc() <= hi
        ),
        key=lambda box: box.x0,
    )
    return len(boxes), any(a.x1 > b.x0 for a, b in zip(boxes, boxes[1:], strict=False))


def kept_figures(draw) -> list:
    """The figures `draw()` makes (report functions close theirs after saving)."""
    figures, close = [], plt.close
    plt.close = figures.append
    try:
        draw()
    finally:
        plt.close = close
    return figures


@pytest.mark.parametrize(
    "seconds", [[23.5, 41.2], [0.012, 0.099], [0.021, 0.087, 0.05], [2.1, 9.5], [0.4, 20, 300], [1e-3, 5e4]]
)
def test_compare_chart_log_axes_have_labels_that_never_overlap(seconds, tmp_path):
    table = pd.DataFrame(
        {
            "model": [f"model_{i}" for i in range(len(seconds))],
            "accuracy": 0.9,
            "macro_f1": 0.8,
            "train_seconds": seconds,
            "predict_seconds_per_1000": seconds,
        }
    )
    (figure,) = kept_figures(lambda: report.plot_comparison(table, tmp_path / "compare.png"))
    for ax in figure.axes[1:]:
        count, overlap = visible_labels_overlap(ax)
        assert count >= 2 and not overlap
    plt.close(figure)


def test_reports_integer_epochs_and_a_row_normalised_confusion_matrix(tmp_path):
    history = tmp_path / "history.csv"
    frame = {"epoch": range(3), "loss": [1, 0.5, 0.3], "accuracy": [0.5, 0.7, 0.8]}
    pd.DataFrame({**frame, "val_loss": frame["loss"], "val_accuracy": frame["accuracy"]}).to_csv(history)
    labels = np.array([0] * 90 + [1] * 10)
    (curves,) = kept_figures(lambda: report.plot_learning_curves([history], tmp_path / "curves.png"))
    (confusion,) = kept_figures(lambda: report.plot_confusion(labels, labels, ["common", "rare"], tmp_path / "c.png"))
    for ax in curves.axes:
        assert all(float(t).is_integer() for t in ax.get_xticks() if ax.get_xlim()[0] <= t <= ax.get_xlim()[1])
    counts, shares = (ax for ax in confusion.axes)
    assert sorted(t.get_text() for t in counts.texts) == ["0", "0", "10", "90"]
    assert sorted(t.get_text() for t in shares.texts) == ["0.00", "0.00", "1.00", "1.00"]
    plt.close(curves)
    plt.close(confusion)


def test_no_cxx_error_lines_while_fitting_and_predicting():
    """tf.data's and oneDNN's ERROR-level notices during fit and predict are dropped too."""
    script = (
        "import kit, keras, numpy as np; model = keras.Sequential([keras.Input((4, 4, 1)), keras.layers.Conv2D(2, 3),"
        " keras.layers.Flatten(), keras.layers.Dense(2)]); model.compile('adam', 'mse');"
        " model.fit(np.zeros((8, 4, 4, 1)), np.zeros((8, 2)), verbose=0);"
        " model.predict(np.zeros((8, 4, 4, 1)), verbose=0);"
        " print('fitted')"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("TF_CPP_MIN_LOG_LEVEL", "KIT_VERBOSE")}
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0 and result.stdout == "fitted\n", result.stderr
    assert "E0000" not in result.stderr and "NodeDef" not in result.stderr, result.stderr


@pytest.mark.parametrize(("setting", "expected"), [(None, "1"), ("0", "0")])
def test_onednn_kernels_are_on_unless_the_user_says_otherwise(setting, expected):
    env = {k: v for k, v in os.environ.items() if k != "TF_ENABLE_ONEDNN_OPTS"}
    if setting is not None:
        env["TF_ENABLE_ONEDNN_OPTS"] = setting
    script = (
        "import kit, os; from kit import provenance;"
        " print(os.environ['TF_ENABLE_ONEDNN_OPTS'], provenance.environment()['onednn'])"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=300)
    assert result.stdout.split() == [expected, expected], result.stderr
