"""Training: a run's files, resume after an interruption, the audit's findings."""

import json
import signal
import subprocess
import sys

import keras
import numpy as np
import pandas as pd
import pytest
from keras.saving import load_model

from kit import cli, config, data, paths
from kit.config import competitions
from kit.data.audit import audit, format_summary
from kit.errors import KitError
from kit.training import catalog, keras_kind, runs

pytestmark = pytest.mark.slow


@pytest.fixture
def tiny(digits_folder):
    cfg = competitions.load_config(
        "digits", "tiny", ["data.limit=320", "train.epochs=4", "train.batch_size=64"], data_dir=str(digits_folder)
    )
    return cfg, data.load(cfg, with_test=False).train


class Interrupt(keras.callbacks.Callback):
    """Stands in for Ctrl-C or a killed machine after the second epoch."""

    def on_epoch_end(self, epoch, logs=None):
        if epoch == 1:
            raise KeyboardInterrupt


class RecordStart(keras.callbacks.Callback):
    seen: list = []

    def on_epoch_begin(self, epoch, logs=None):
        RecordStart.seen.append((epoch, int(self.model.optimizer.iterations)))


def test_resume_continues_epochs_history_and_optimizer_state(tiny, monkeypatch):
    cfg, images = tiny
    original = keras_kind.callbacks_for
    run_dir = paths.runs_dir("digit-recognizer") / "interrupted"
    monkeypatch.setattr(keras_kind, "callbacks_for", lambda *a: original(*a) + [Interrupt()])
    with pytest.raises(KeyboardInterrupt, match="make train COMP=digit-recognizer RESUME=1 RUN=interrupted"):
        runs.train(cfg, images, run_dir=run_dir)
    assert json.loads((run_dir / "run.json").read_text())["status"] == "interrupted"
    assert pd.read_csv(run_dir / "fold0" / "history.csv")["epoch"].tolist() == [0, 1]

    RecordStart.seen = []
    monkeypatch.setattr(keras_kind, "callbacks_for", lambda *a: original(*a) + [RecordStart()])
    assert catalog.resumable_run("digit-recognizer") == run_dir
    result = runs.train(cfg, images, run_dir=run_dir, resume=True)
    history = pd.read_csv(run_dir / "fold0" / "history.csv")
    assert history["epoch"].tolist() == [0, 1, 2, 3]  # the same epoch count as an uninterrupted run
    steps_per_epoch = int(np.ceil(256 / 64))
    assert RecordStart.seen[0] == (2, 2 * steps_per_epoch)  # optimizer state came back too
    summary = json.loads((run_dir / "run.json").read_text())
    assert summary["status"] == "complete" and summary["folds"][0]["epochs"] == 4
    assert result.folds[0].checkpoint.exists() and not (run_dir / "fold0" / "backup").exists()
    with pytest.raises(KitError, match="already finished"):  # a finished run is never retrained
        catalog.resumable_run("digit-recognizer", "interrupted")


def test_run_folder_holds_config_split_checkpoint_and_reports(tiny):
    cfg, images = tiny
    cfg = config.replace(cfg, data={"folds": 2}, train={"epochs": 1})
    result = runs.train(cfg, images)
    run = result.run_dir
    assert config.load_saved(run / "config.json") == cfg
    assert (run / "split.npz").exists() and len(result.folds) == 2
    for fold in (0, 1):
        assert (run / f"fold{fold}" / "best.keras").exists()
        assert (run / f"fold{fold}" / "history.csv").exists()
    for name in ("learning_curves.png", "confusion_matrix.png", "predictions.png", "per_class.csv"):
        assert (run / "reports" / name).stat().st_size > 0
    table = pd.read_csv(run / "reports" / "per_class.csv", index_col=0)
    assert {"precision", "recall", "f1-score"} <= set(table.columns) and "9" in table.index.astype(str)
    assert 0 <= result.score <= 1


def test_audit_finds_planted_duplicates_and_blank_images(digits_folder):
    train_csv = pd.read_csv(digits_folder / "train.csv")
    test_csv = pd.read_csv(digits_folder / "test.csv")
    train_csv.iloc[10] = train_csv.iloc[3]  # exact duplicate, same label
    train_csv.iloc[11, 1:] = train_csv.iloc[4, 1:]  # same image ...
    train_csv.iloc[11, 0] = (train_csv.iloc[4, 0] + 1) % 10  # ... different label
    train_csv.iloc[20, 1:] = 0  # blank
    test_csv.iloc[5] = train_csv.iloc[7, 1:].to_numpy()  # test image leaked from train
    test_csv.iloc[6] = 255  # blank
    train_csv.to_csv(digits_folder / "train.csv", index=False)
    test_csv.to_csv(digits_folder / "test.csv", index=False)
    cfg = competitions.load_config("digits", data_dir=str(digits_folder))
    loaded = data.load(cfg)
    summary = audit(cfg, loaded.train, loaded.test, paths.artifacts_dir("digit-recognizer") / "audit")
    assert summary["duplicates_in_train"] == 2
    assert summary["duplicates_with_conflicting_labels"] == 1
    assert summary["test_images_also_in_train"] == 1
    assert summary["blank_train_rows"] == [21] and summary["blank_test_rows"] == [7]
    assert sum(summary["class_counts"].values()) == 600
    folder = paths.artifacts_dir("digit-recognizer") / "audit"
    for name in ("balance.png", "examples.png", "balance.csv", "duplicates.csv", "summary.json"):
        assert (folder / name).stat().st_size > 0
    assert "test images also in train: 1" in format_summary(summary)


KILLED_AT_EPOCH_END = """
import os, signal, sys
import keras
from kit import data
from kit.config import competitions
from kit.training import keras_kind, runs

class Kill(keras.callbacks.Callback):  # kill -9 right after epoch 2's backup and checkpoint
    def on_epoch_end(self, epoch, logs=None):
        if epoch == 1:
            os.kill(os.getpid(), signal.SIGKILL)

original = keras_kind.callbacks_for
keras_kind.callbacks_for = lambda *a: original(*a) + [Kill()]
cfg = competitions.load_config(
    "digits", "tiny", ["data.limit=320", "train.epochs=4", "train.batch_size=64"], data_dir=sys.argv[1]
)
runs.train(cfg, data.load(cfg, with_test=False).train)
"""


def test_kill_9_then_resume_continues_the_newest_interrupted_run(digits_folder):
    """A killed process writes nothing: its run still says `running`, but nobody holds its lock, so
    it is interrupted; RESUME=1 takes it, even with a backup torn by the kill, and logs every epoch once."""
    killed = subprocess.run([sys.executable, "-c", KILLED_AT_EPOCH_END, str(digits_folder)], capture_output=True)
    assert killed.returncode == -signal.SIGKILL
    (run_dir,) = catalog.all_runs("digit-recognizer")
    assert json.loads((run_dir / "run.json").read_text())["status"] == "running"
    assert catalog.status(run_dir) == "interrupted"
    backup = run_dir / "fold0" / "backup"
    assert json.loads((backup / "training_metadata.json").read_text())["epoch"] == 2
    (backup / "training_metadata.json").write_text('{"epo')  # the kill landed while the backup was written
    (backup / "latest.weights.h5").write_bytes(b"\x89HDF\r\n")

    assert cli.main(["train", "--comp", "digits", "--data", str(digits_folder), "--resume"]) == 0
    history = pd.read_csv(run_dir / "fold0" / "history.csv")
    assert history["epoch"].tolist() == [0, 1, 2, 3]  # epoch 2 ran again from the previous backup, logged once
    assert catalog.status(run_dir) == "complete" and load_model(run_dir / "fold0" / "best.keras", compile=False)
    assert cli.main(["train", "--comp", "digits", "--data", str(digits_folder), "--resume"]) == 2  # none left


def test_a_failed_run_is_marked_and_never_taken_by_default(tiny, monkeypatch, capsys):
    cfg, images = tiny
    cfg = config.replace(cfg, train={"epochs": 1})
    good = runs.train(cfg, images).run_dir
    monkeypatch.setattr(runs, "fit", lambda *a, **k: (_ for _ in ()).throw(RuntimeError("out of memory")))
    with pytest.raises(RuntimeError):
        runs.train(cfg, images)
    failed = catalog.all_runs("digit-recognizer")[-1]
    assert catalog.status(failed) == "failed" and "out of memory" in catalog.read_record(failed)["error"]
    assert catalog.find_run("digit-recognizer") == good
    assert "passing over 1 newer unfinished run" in capsys.readouterr().out
    with pytest.raises(KitError, match="no interrupted run"):
        catalog.resumable_run("digit-recognizer")
