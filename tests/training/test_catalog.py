"""Which run a command means: statuses, the newest finished or interrupted run, `make runs`, and
mistakes refused before a run folder exists. Run folders are made by hand here (no training)."""

import json
import os

import pytest

from kit import cli, fileio, paths
from kit.errors import KitError
from kit.training import catalog

SLUG = "fashion-mnist"


def make_run(name: str, status: str, model: str = "cnn", score: float | None = None, error: str = ""):
    run_dir = paths.runs_dir(SLUG) / name
    run_dir.mkdir(parents=True)
    (run_dir / "config.json").write_text(json.dumps({"train": {"model": model}, "data": {"dir": "/data/x"}}))
    record = {"status": status, "metric": "accuracy", "folds": 1}
    if score is not None:
        record["score"] = score
    if error:
        record["error"] = error
    fileio.write_json(run_dir / "run.json", record)
    stamp = 1_000_000 + len(list(paths.runs_dir(SLUG).iterdir()))  # creation order = age
    os.utime(run_dir / "config.json", (stamp, stamp))
    return run_dir


def test_statuses_choose_the_run_each_command_takes(workdir, capsys):
    done = make_run("a-cnn", "complete", score=0.91)
    make_run("b-svm", "complete", model="svm", score=0.85)
    dead = make_run("c-cnn", "running")  # its process was killed: nobody holds its lock
    make_run("d-cnn", "failed", error="RuntimeError: out of memory")
    assert catalog.status(dead) == "interrupted"
    assert catalog.find_run(SLUG).name == "b-svm"
    assert "passing over 2 newer unfinished run(s)" in capsys.readouterr().out
    assert catalog.newest_run_of(SLUG, "cnn") == done.name
    assert catalog.resumable_run(SLUG) == dead
    with catalog.held(dead):  # a process is training it
        assert catalog.status(dead) == "running"
        with pytest.raises(KitError, match="being trained by another process"):
            catalog.resumable_run(SLUG, "c-cnn")
    with pytest.raises(KitError, match=r"already finished \(score 0.9100\)"):
        catalog.resumable_run(SLUG, "a-cnn")


def test_make_runs_lists_status_model_data_and_score(workdir, capsys):
    make_run("a-cnn", "complete", score=0.9123)
    make_run("b-cnn", "failed", error="TrainingDiverged: loss nan")
    assert cli.main(["runs"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["run", "status", "model", "data", "folds", "metric", "score", "note"]
    assert lines[1].split() == ["a-cnn", "complete", "cnn", "/data/x", "1", "accuracy", "0.9123"]
    assert lines[2].split()[:3] == ["b-cnn", "failed", "cnn"] and "loss nan" in lines[2]


@pytest.mark.parametrize("setting", ["train.model=nosuch", "train.epochs=-1", "train.batch_size=0"])
def test_a_mistake_is_refused_before_a_run_folder_exists(workdir, capsys, setting):
    assert cli.main(["train", "--set", setting]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and len(err.strip().splitlines()) == 1
    assert not paths.runs_dir(SLUG).exists() or not any(paths.runs_dir(SLUG).iterdir())


def test_two_runs_started_in_the_same_second_never_share_a_folder(workdir, monkeypatch):
    monkeypatch.setattr(paths.time, "strftime", lambda _: "20261202-080000")
    parent = paths.runs_dir(SLUG)
    (parent / "20261202-080000-cnn").mkdir(parents=True)  # another command took the name a moment ago
    first = paths.unique_folder(parent, "cnn", create=True)
    second = paths.unique_folder(parent, "cnn", create=True)
    assert (first.name, second.name) == ("20261202-080000-cnn-2", "20261202-080000-cnn-3")


def write_best_params(text: str) -> None:
    path = paths.artifacts_dir(SLUG) / "best_params.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def test_predict_with_params_takes_the_newest_run_trained_with_them(workdir, capsys):
    tuned = make_run("a-cnn", "complete")
    (tuned / "config.json").write_text(json.dumps({"train": {"model": "cnn", "learning_rate": 0.002}}))
    make_run("b-cnn", "complete")  # newer, but trained without the tuned learning rate
    write_best_params('study = "s"\ntrial = 3\n[train]\nlearning_rate = 0.002\n')
    assert catalog.newest_run_with(SLUG, {"train": {"learning_rate": 0.002}}, "PARAMS=best") == tuned
    assert "trained with PARAMS=best" in capsys.readouterr().out
    with pytest.raises(KitError, match="make train COMP=fashion-mnist PARAMS=best"):
        catalog.newest_run_with(SLUG, {"train": {"learning_rate": 0.003}}, "PARAMS=best")


def test_predict_params_best_refuses_when_no_run_was_trained_with_them(workdir, capsys):
    make_run("a-cnn", "complete")
    write_best_params('study = "s"\ntrial = 3\n[train]\nlearning_rate = 0.002\n')
    assert cli.main(["predict", "--params", "best"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: no finished run of fashion-mnist was trained with PARAMS=best")
    assert len(err.splitlines()) == 1


def test_predict_params_with_named_runs_says_params_are_not_used(workdir, capsys):
    make_run("a-cnn", "complete")
    write_best_params('study = "s"\ntrial = 3\n[train]\nlearning_rate = 0.002\n')
    cli.main(["predict", "--params", "best", "--runs", "a-cnn", "--data", str(workdir / "nowhere")])
    assert "PARAMS=best is not used: each named run predicts with the settings it was trained with" in (
        capsys.readouterr().out
    )
