"""What `make train` prints about a run: a score at chance is a warning, as in a study."""

from __future__ import annotations

import types

import pytest

from kit.commands.printing import print_run
from kit.config import competitions


@pytest.mark.parametrize(("score", "warned"), [(0.102, True), (0.05, True), (0.83, False)])
def test_a_run_at_chance_is_warned(tmp_path, capsys, score, warned):
    cfg = competitions.load_config("fashion", "quick")  # ten classes: guessing scores 0.1
    fold = types.SimpleNamespace(scores={"accuracy": score, "macro_f1": score})
    print_run(cfg, types.SimpleNamespace(run_dir=tmp_path, score=score, folds=[fold]))
    err = capsys.readouterr().err
    assert ("at chance (0.1000 for guessing among 10 classes)" in err) is warned
    if warned:
        assert f"nothing learned in {cfg.train.epochs} epoch(s)" in err


def test_a_scikit_learn_run_at_chance_is_not_told_to_train_more_epochs(tmp_path, capsys):
    cfg = competitions.load_config("fashion", "quick", overrides=["train.model=knn"])
    fold = types.SimpleNamespace(scores={"accuracy": 0.1, "macro_f1": 0.1})
    print_run(cfg, types.SimpleNamespace(run_dir=tmp_path, score=0.1, folds=[fold]))
    err = capsys.readouterr().err
    assert "at chance" in err and "knn learned nothing" in err and "epoch" not in err
