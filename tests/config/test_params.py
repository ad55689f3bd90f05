"""Tuned parameters as a config layer: PARAMS=best says when it changes nothing."""

from __future__ import annotations

import pytest

from kit.config import competitions
from kit.config.params import best_params_path

HEADER = 'study = "fashion-mnist"\ntrial = 0\nvalue = 0.8\n'


@pytest.mark.parametrize(
    ("text", "said"),
    [
        (HEADER + "untuned = true\n", "is the untuned baseline, so nothing is changed"),
        (HEADER, "holds no tuned parameters: nothing is changed"),
        (HEADER + "[train]\nlearning_rate = 0.002\n", None),
    ],
)
def test_params_best_says_when_it_changes_nothing(workdir, capsys, text, said):
    path = best_params_path("fashion-mnist")
    path.parent.mkdir(parents=True)
    path.write_text(text)
    cfg = competitions.load_config("fashion", params="best")
    out = capsys.readouterr().out
    if said is None:
        assert out == "" and cfg.train.learning_rate == 0.002
    else:
        assert said in out and str(path) in out and len(out.strip().splitlines()) == 1
