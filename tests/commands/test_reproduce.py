"""`make reproduce`: a submission re-created from its record alone, identical on this CPU."""

import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from conftest import run_kit

from kit import cli, paths, provenance
from kit.commands import reproduce

SLUG = "digit-recognizer"


def submissions() -> list:
    return sorted(paths.submissions_dir(SLUG).glob("*.csv"))


def labels(path) -> list:
    return pd.read_csv(path)["Label"].tolist()


def reproduced(original):
    """The one submission that is not `original`, and its record."""
    (new,) = [path for path in submissions() if path != original]
    return new, json.loads(new.with_suffix(".json").read_text())


def forget_artifacts(workdir) -> None:
    """What `rm -rf artifacts/` does: runs, checkpoints, splits and the tracker are gone."""
    shutil.rmtree(workdir / "artifacts")


@pytest.mark.slow
def test_a_network_submission_reproduces_from_its_record_alone(workdir, digits_folder):
    args = ("--comp", "digits", "--preset", "tiny", "--data", str(digits_folder))
    made = run_kit("run", *args, "--set", "train.model=cnn train.epochs=1")
    assert made.returncode == 0, made.stderr[-3000:]
    (original,) = submissions()
    before = original.read_bytes(), original.with_suffix(".json").read_bytes()
    record = json.loads(before[1])
    assert set(record["data_files"]) == {"train", "test", "sample_submission"}
    detail = record["run_details"][0]
    assert detail["config"]["train"]["model"] == "cnn" and len(detail["split_sha256"]) == 64
    assert detail["deterministic"] is True and record["environment"]["versions"]["tensorflow"]
    forget_artifacts(workdir)

    result = run_kit("reproduce", "--comp", "digits", "--data", str(digits_folder), "--file", str(original))
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "labels identical (200 rows); probabilities bit-identical" in result.stdout
    new, new_record = reproduced(original)
    assert new.name == f"reproduce-{original.stem}.csv" and new_record["reproduces"] == original.name
    assert labels(new) == labels(original)
    # the original, its record and its probabilities are untouched
    assert (original.read_bytes(), original.with_suffix(".json").read_bytes()) == before
    assert new_record["run_details"][0]["split_sha256"] == detail["split_sha256"]


@pytest.mark.slow
def test_a_kfold_ensemble_of_two_runs_reproduces(workdir, digits_folder):
    args = ("--comp", "digits", "--preset", "tiny", "--data", str(digits_folder))
    folds = "data.folds=2 train.epochs=1"
    for seed in (1, 2):
        assert cli.main(["train", *args, "--set", f"{folds} train.seed={seed}"]) == 0
    runs = sorted(p.name for p in paths.runs_dir(SLUG).iterdir())
    assert cli.main(["predict", *args, "--runs", *runs]) == 0
    (original,) = submissions()
    record = json.loads(original.with_suffix(".json").read_text())
    assert [d["config"]["train"]["seed"] for d in record["run_details"]] == [1, 2]
    forget_artifacts(workdir)

    assert cli.main(["reproduce", "--comp", "digits", "--data", str(digits_folder), "--file", str(original)]) == 0
    new, new_record = reproduced(original)
    assert labels(new) == labels(original)
    probabilities = [np.load(path.with_suffix(".probabilities.npy")) for path in (original, new)]
    assert np.array_equal(*probabilities)
    assert len(new_record["runs"]) == 2
    for run in new_record["runs"]:
        assert sorted(p.name for p in (paths.runs_dir(SLUG) / run).glob("fold*")) == ["fold0", "fold1"]


def test_a_tuned_scikit_learn_submission_reproduces_without_its_params_file(workdir, digits_folder, tmp_path, capsys):
    tuned = tmp_path / "best_params.toml"
    tuned.write_text('study = "s"\ntrial = 3\n[train]\nwidth = 0.3\nmax_train_rows = 300\n')
    args = ["--comp", "digits", "--preset", "tiny", "--data", str(digits_folder), "--params", str(tuned)]
    assert cli.main(["run", *args, "--set", "train.model=random_forest"]) == 0
    (original,) = submissions()
    forget_artifacts(workdir)
    tuned.unlink()  # tuned parameters are part of the recorded config
    capsys.readouterr()
    assert cli.main(["reproduce", "--comp", "digits", "--data", str(digits_folder), "--file", original.name]) == 0
    assert "labels identical (200 rows); probabilities bit-identical" in capsys.readouterr().out
    new, new_record = reproduced(original)
    assert labels(new) == labels(original)
    assert (new_record["config"]["train"]["width"], new_record["config"]["train"]["max_train_rows"]) == (0.3, 300)


def test_a_submission_a_time_budget_cut_short_reproduces_with_its_folds(workdir, digits_folder, capsys):
    """A kernel's budget let one of three folds train: the reproduction trains that fold, not
    three (its own machine's time would not stop it), and gives the same file."""
    args = ["--comp", "digits", "--preset", "tiny", "--data", str(digits_folder)]
    budget = "train.model=random_forest data.folds=3 train.time_budget_s=0.001"
    assert cli.main(["run", *args, "--set", budget]) == 0
    (original,) = submissions()
    record = json.loads(original.with_suffix(".json").read_text())
    assert [(item["done"], item["planned"]) for item in record["folds"]] == [(1, 3)]
    forget_artifacts(workdir)
    capsys.readouterr()
    assert cli.main(["reproduce", "--comp", "digits", "--data", str(digits_folder), "--file", original.name]) == 0
    out = capsys.readouterr().out
    assert "1 fold(s)" in out and "labels identical (200 rows); probabilities bit-identical" in out
    new, new_record = reproduced(original)
    (run,) = new_record["runs"]
    assert sorted(p.name for p in (paths.runs_dir(SLUG) / run).glob("fold*")) == ["fold0"]


def test_a_config_saved_before_the_deterministic_key_trains_without_it():
    saved = {"train": {"model": "cnn"}}
    assert reproduce.with_data_dir(saved, "", "old.json").train.deterministic == "off"
    saved = {"train": {"model": "cnn", "deterministic": "auto"}}
    assert reproduce.with_data_dir(saved, "/data", "new.json").train.deterministic == "auto"


def test_a_changed_data_file_is_refused_with_its_name(workdir, digits_folder, capsys):
    args = ["--comp", "digits", "--preset", "tiny", "--data", str(digits_folder), "--set", "train.model=logreg"]
    assert cli.main(["run", *args]) == 0
    (original,) = submissions()
    test = pd.read_csv(digits_folder / "test.csv")
    test.loc[7, "pixel300"] = (test.loc[7, "pixel300"] + 1) % 256
    test.to_csv(digits_folder / "test.csv", index=False)
    runs_before = sorted(paths.runs_dir(SLUG).iterdir())
    capsys.readouterr()

    assert cli.main(["reproduce", "--comp", "digits", "--data", str(digits_folder), "--file", str(original)]) == 2
    error = capsys.readouterr().err.strip().splitlines()[-1]
    assert error.startswith(f"error: {digits_folder}: not the data {original.name} was made from: test.csv differs")
    assert "train.csv" not in error and "sample_submission.csv" not in error
    assert submissions() == [original] and sorted(paths.runs_dir(SLUG).iterdir()) == runs_before  # nothing trained


def test_a_file_without_record_or_a_missing_file_is_a_clear_error(tmp_path, capsys):
    loose = tmp_path / "mine.csv"
    loose.write_text("ImageId,Label\n1,0\n")
    assert cli.main(["reproduce", "--comp", "digits", "--file", str(loose)]) == 2
    assert "no record beside mine.csv" in capsys.readouterr().err
    assert cli.main(["reproduce", "--comp", "digits", "--file", "nowhere.csv"]) == 2
    assert "error: nowhere.csv: file not found" in capsys.readouterr().err


@pytest.mark.slow
def test_a_kernel_submission_reproduces_here(tmp_path, workdir, digits_folder, monkeypatch):
    """A kernel's run comes back as a submission (what `make kernel-output` does) and is trained
    again here from its record, with DATA= naming the local copy of the competition's files."""
    from kit import submission
    from kit.config import competitions
    from kit.kaggle import kernel

    monkeypatch.setenv("KAGGLE_CONFIG_DIR", str(tmp_path / "no-kaggle"))
    cfg = competitions.load_config("digits", "tiny", ["train.epochs=1"])
    script = next(kernel.build(cfg, "tiny", ["train.epochs=1"]).glob("*.py"))
    kaggle_input = tmp_path / "input" / SLUG
    kaggle_input.parent.mkdir()
    shutil.copytree(digits_folder, kaggle_input)
    env = {key: value for key, value in os.environ.items() if not key.startswith(("KAGGLE", "KIT_"))}
    env |= {"KIT_KAGGLE_INPUT": str(kaggle_input.parent), "KERAS_BACKEND": "tensorflow", "PYTHONPATH": ""}
    working = tmp_path / "working"
    ran = subprocess.run(
        [sys.executable, str(script), "--working", str(working)], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert ran.returncode == 0, ran.stderr[-3000:]
    record = json.loads((working / "submission.json").read_text())
    assert record["git_commit"] == provenance.git_commit()  # the commit the bundle was built from
    exp = submission.expected(cfg, None, pd.read_csv(kaggle_input / "sample_submission.csv"))
    frame = submission.read_and_validate(working / "submission.csv", exp)
    record = record | {"kernel": "me/digit-recognizer-kit", "kernel_version": 1}
    original, _ = submission.write(frame, exp, SLUG, "kernel-v1", record)

    result = run_kit("reproduce", "--comp", "digits", "--data", str(digits_folder), "--file", str(original))
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "labels identical (200 rows); the original has no .probabilities.npy to compare" in result.stdout
    new, _ = reproduced(original)
    assert labels(new) == labels(original)


def test_code_warnings_say_how_to_check_out_the_recorded_commit():
    a, b = "a" * 40, "b" * 40
    assert reproduce.code_warnings({"git_commit": a}, a) == []
    (other,) = reproduce.code_warnings({"git_commit": a}, f"{b}+dirty")
    assert f"the code here is commit {b[:12]}, not {a[:12]}" in other
    assert f"`git worktree add ../kit-{a[:8]} {a}`" in other
    (dirty,) = reproduce.code_warnings({"git_commit": a}, f"{a}+dirty")
    assert "uncommitted changes on top of" in dirty and "git worktree add" in dirty
    lost, here = reproduce.code_warnings({"git_commit": f"{a}+dirty"}, f"{a}+dirty")
    assert "changes never committed" in lost and "the code here has uncommitted changes" in here
    assert "names no git commit" in reproduce.code_warnings({}, a)[0]


def test_differences_name_versions_device_and_runs_without_deterministic_ops():
    now = {"versions": {"python": "3.11.7", "tensorflow": "2.21.0"}, "keras_backend": "tensorflow", "cpus": 2}
    versions = {"python": "3.11.7", "tensorflow": "2.20.0", "jax": "0.4.30"}
    then = now | {"versions": versions, "device": "gpu", "precision": "mixed_bfloat16"}
    record = {"run_details": [{"run": "r1", "environment": then, "deterministic": False}], "environment": now}
    assert reproduce.differences(record, now | {"device": "cpu", "precision": "float32"}) == [
        "tensorflow 2.20.0 then, 2.21.0 now",
        "jax 0.4.30 then, not installed now",
        "device gpu then, cpu now",
        "Keras precision policy mixed_bfloat16 then, float32 now",
        "run r1 trained without deterministic ops (train.deterministic)",
    ]
    (unknown,) = reproduce.differences({}, now)
    assert unknown == "the record has no library versions (written before the kit recorded them)"


def test_a_runs_precision_is_compared_with_its_retrained_runs_not_the_process():
    """A fit restores the process's policy (kit.training.device): the process's own, float32 after
    any fit, says nothing about the networks; each run's recorded policy meets its retrained run's."""
    now = {"versions": {"python": "3.11.7"}, "keras_backend": "tensorflow", "cpus": 2}
    runs = [{"run": name, "environment": now | {"precision": "mixed_bfloat16"}} for name in ("r1", "r2")]
    record = {"run_details": runs, "environment": now | {"precision": "mixed_bfloat16"}}  # an older record
    same = [now | {"precision": "mixed_bfloat16"}] * 2
    assert reproduce.differences(record, now, same) == []
    other = [now | {"precision": "mixed_bfloat16"}, now | {"precision": "float32"}]
    assert reproduce.differences(record, now, other) == ["Keras precision policy mixed_bfloat16 then, float32 now"]


def test_a_comparison_is_described_in_one_line():
    assert reproduce.describe({"rows": 1900, "agree": 1900, "max_probability_difference": 0.0}) == (
        "labels identical (1,900 rows); probabilities bit-identical"
    )
    assert reproduce.describe({"rows": 1900, "agree": 1894, "max_probability_difference": 0.0123}) == (
        "labels agree on 1,894 of 1,900 rows (99.68%); largest probability difference 0.0123"
    )


def test_a_probability_per_class_log_loss_submission_reproduces(workdir, digits_folder, capsys):
    """A log-loss competition whose sample has one column per class: the run fits a temperature
    (said, and recorded in the run and the submission), and `make reproduce` compares the two
    files class by class instead of unpacking an id and a label."""
    ids = pd.read_csv(digits_folder / "sample_submission.csv")["ImageId"]
    sample = pd.DataFrame({"ImageId": ids} | {str(digit): 0.1 for digit in range(10)})
    sample.to_csv(digits_folder / "sample_submission.csv", index=False)
    args = ["--comp", "digits", "--preset", "tiny", "--data", str(digits_folder)]
    assert cli.main(["run", *args, "--set", "train.model=logreg", "competition.metric=log_loss"]) == 0
    printed = capsys.readouterr().out
    (original,) = submissions()
    record = json.loads(original.with_suffix(".json").read_text())
    (run,) = record["runs"]
    fitted = record["calibration"][run]
    assert fitted == json.loads((paths.runs_dir(SLUG) / run / "run.json").read_text())["calibration"]
    assert fitted["log_loss_after"] <= fitted["log_loss_before"] and fitted["rows"] > 0
    assert record["class_names"] == [str(digit) for digit in range(10)]
    assert printed.count("probabilities fitted for log_loss") == 2  # the run, then the submission
    forget_artifacts(workdir)

    assert cli.main(["reproduce", "--comp", "digits", "--data", str(digits_folder), "--file", str(original)]) == 0
    out = capsys.readouterr().out
    assert "probabilities per class: the most probable class identical (200 rows); probabilities bit-identical" in out
    new, _ = reproduced(original)
    assert pd.read_csv(new).equals(pd.read_csv(original))


def test_probability_submissions_are_compared_by_column_name_and_id(tmp_path):
    original, new = tmp_path / "a.csv", tmp_path / "b.csv"
    pd.DataFrame({"id": [1, 2], "cat": [0.9, 0.4], "dog": [0.1, 0.6]}).to_csv(original, index=False)
    pd.DataFrame({"id": [2, 1], "dog": [0.45, 0.1], "cat": [0.55, 0.9]}).to_csv(new, index=False)
    comparison = reproduce.compare_files(original, new)
    assert comparison == {
        "form": "probabilities",
        "rows": 2,
        "agree": 1,
        "max_probability_difference": pytest.approx(0.15),
    }
    assert reproduce.describe(comparison) == (
        "probabilities per class: the most probable class agrees on 1 of 2 rows (50.00%); "
        "largest probability difference 0.15"
    )
