"""map@K: one class per image, trained as classification, written as its K likeliest classes,
space-separated, best first (Humpback Whale: `new_whale w_1287fbc ...`). A class name with
spaces is written with underscores, as Quick, Draw! asks (`The_Eiffel_Tower`): spaces separate
the guesses."""

from __future__ import annotations

import numpy as np
import pandas as pd

from kit.errors import KitError
from kit.targets.classification import Target, tokens


class TopK(Target):
    name = "topk"
    form = "topk"

    def decode(self, exp, predictions: np.ndarray) -> dict[str, object]:
        if predictions.ndim != 2:
            raise KitError("a top-k submission needs class probabilities, not labels")
        best = np.argsort(-predictions, axis=1, kind="stable")[:, : exp.k]
        names = np.asarray(written_names(exp.labels), dtype=object)
        return {exp.columns[1]: [" ".join(names[row]) for row in best]}

    def check(self, frame: pd.DataFrame, exp, name: str) -> None:
        allowed = set(written_names(exp.labels))
        for row, value in enumerate(frame[exp.columns[1]]):
            guesses = tokens(value)
            unknown = [g for g in guesses if g not in allowed]
            if not 1 <= len(guesses) <= exp.k or unknown or len(set(guesses)) != len(guesses):
                raise KitError(
                    f"{name}: row {row + 1}, column '{exp.columns[1]}': {value!r} is not 1..{exp.k} "
                    f"distinct labels separated by spaces{f' ({unknown[0]!r} is no class)' if unknown else ''}"
                )


def written_names(names) -> list[str]:
    return [str(name).replace(" ", "_") for name in names]
