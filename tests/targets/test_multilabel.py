"""Tags: read from one column or 0/1 columns, thresholds chosen on out-of-fold predictions."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import fbeta_score

from kit import config, targets
from kit.targets.multilabel import choose_thresholds


def planet_config(**competition):
    return config.resolve(
        overrides=[
            "competition.metric=f2",
            "competition.class_names=['clear', 'haze', 'primary', 'water']",
            *[f"competition.{key}={value}" for key, value in competition.items()],
        ]
    )


def test_tags_in_one_column_become_a_0_1_matrix_and_an_unknown_tag_is_a_bad_row():
    cfg = planet_config()
    frame = pd.DataFrame({"tags": ["haze primary", "clear primary water", "clear", "clear jungle"]})
    read = targets.for_config(cfg).read(frame, "tags", cfg)
    assert read.truth.tolist() == [[0, 1, 1, 0], [1, 0, 1, 1], [1, 0, 0, 0], [1, 0, 0, 0]]
    assert read.strata[3] == -1 and (read.strata[:3] >= 0).all()
    assert read.strata[0] == 1  # haze: its rarest tag


def test_one_column_per_tag_is_read_by_the_class_names():
    cfg = planet_config()
    frame = pd.DataFrame({"id": ["a", "b"], "clear": [1, 0], "haze": [0, 1], "primary": [1, 1], "water": [0, 2]})
    read = targets.for_config(cfg).read(frame, "clear", cfg)
    assert read.truth[0].tolist() == [1, 0, 1, 0] and read.strata[1] == -1  # 2 is no 0/1 value


def test_chosen_thresholds_score_at_least_what_one_half_scores():
    rng = np.random.default_rng(0)
    truth = (rng.random((300, 4)) < [0.8, 0.2, 0.6, 0.1]).astype(int)
    # under-confident on the rare tags: 0.5 misses them, F2 (recall-heavy) wants them
    probabilities = np.clip(truth * 0.35 + rng.random((300, 4)) * 0.3, 0, 1)
    thresholds = np.array(choose_thresholds(truth, probabilities, "f2"))
    at_half = fbeta_score(truth, probabilities >= 0.5, beta=2, average="samples", zero_division=0)
    chosen = fbeta_score(truth, probabilities >= thresholds, beta=2, average="samples", zero_division=0)
    assert chosen > at_half + 0.2 and (thresholds < 0.5).all()
