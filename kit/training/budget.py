"""A run's time budget (`train.time_budget_s`): no fold starts that the folds done say would not
end in time, so a kernel stopped by Kaggle's run-time limit never loses the folds it finished.

The first fold always starts (a run with no fold has nothing to predict with); each later one
starts only when the time spent so far plus the slowest fold yet fits the budget. The folds done
make the run, and `run.json` says how many of the planned ones they are.

>>> clock = iter([0.0, 0.0, 40.0, 40.0]).__next__
>>> budget = FoldBudget(100.0, clock)
>>> budget.allows_another()  # nothing measured yet: the first fold starts
True
>>> with budget.fold():
...     pass
>>> budget.allows_another()  # 40 s spent, 40 s a fold: 80 <= 100
True
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator


class FoldBudget:
    """Seconds for a run's folds (0 = no limit), counted from its creation."""

    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic):
        self.seconds, self.clock = float(seconds), clock
        self.started = clock()
        self.durations: list[float] = []

    @contextlib.contextmanager
    def fold(self) -> Iterator[None]:
        """Time one fold (a fold kept from before counts as the little it takes now)."""
        began = self.clock()
        yield
        self.durations.append(self.clock() - began)

    def spent(self) -> float:
        return self.clock() - self.started

    def allows_another(self) -> bool:
        if self.seconds <= 0 or not self.durations:
            return True
        return self.spent() + max(self.durations) <= self.seconds

    def stop_note(self, done: int, planned: int) -> str:
        return (
            f"time budget: {done} of {planned} folds done in {self.spent():.0f} s; the next would need about "
            f"{max(self.durations):.0f} s more than the {self.seconds:.0f} s of train.time_budget_s allow: "
            f"the run keeps these {done}"
        )


def fold_counts(run: dict) -> tuple[int, int]:
    """(folds done, folds planned) of a run.json: `folds` lists the folds done once the run is
    written (a count of the planned ones while it trains); `folds_planned` is written only when
    the time budget stopped the run early."""
    folds = run.get("folds", [])
    done = len(folds) if isinstance(folds, list) else 0
    return done, int(run.get("folds_planned", done))


def folds_record(runs: list[dict]) -> list[dict]:
    """What a submission's record says of each run's folds: {run, done, planned}; fewer done than
    planned is a partial ensemble (a time budget stopped the run)."""
    rows = []
    for run in runs:
        done, planned = fold_counts(run)
        rows.append({"run": run.get("run", "?"), "done": done, "planned": planned})
    return rows


def partial_note(record: dict) -> str:
    """'<run>: 1 of 3 folds' for each run of a submission record that stopped early; '' if none."""
    folds = record.get("folds")
    short = [item for item in folds if item["done"] < item["planned"]] if isinstance(folds, list) else []
    return "; ".join(f"{item['run']}: {item['done']} of {item['planned']} folds" for item in short)
