"""What a finished study leaves: a table of the best trials, PNG reports, best_params.toml."""

from __future__ import annotations

import time
import warnings
from pathlib import Path

import numpy as np

from kit import config, fileio
from kit.config import Config
from kit.config.params import best_params_path, tunable
from kit.errors import KitError
from kit.metrics import greater_is_better
from kit.tune.objective import BASELINE, format_value
from kit.tune.space import load_space, sample_sections
from kit.tune.storage import first_line, show_storage, study_dir


def print_summary(cfg: Config, study, trials) -> None:
    """The counts by state, then the top trials by value as a table."""
    import pandas as pd

    metric = cfg.competition.metric
    counts = pd.Series([t.state.name.lower() for t in trials]).value_counts()
    states = ", ".join(f"{n} {s}" for s, n in counts.items())
    print(f"study '{study.study_name}': {len(trials)} trials ({states})")
    rows = [
        {
            "trial": t.number,
            "state": t.state.name.lower(),
            metric: t.value,
            "seconds": round(t.duration.total_seconds()) if t.duration else None,
            **{k: format_value(v) for k, v in t.params.items()},
        }
        for t in trials
    ]
    if not rows:
        return
    table = pd.DataFrame(rows).sort_values(metric, ascending=not greater_is_better(metric), na_position="last")
    # '—': a value not sampled (trial 0 trains the configuration as it is) or not reached (a failed trial)
    print(table.head(cfg.tune.top).to_string(index=False, float_format=lambda v: f"{v:.4f}", na_rep="—"))


MIN_TRIALS_FOR_IMPORTANCES = 10


def write_reports(study, folder: Path, metric: str = "") -> list[Path]:
    """Optimisation history, parameter importances, parallel coordinates (PNG, matplotlib). The
    parameter plots draw the sampled trials only: trial 0 (the untuned configuration) has no
    parameters, and was drawn as a line to 'None' on every axis."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import optuna
    from optuna.visualization import matplotlib as plots

    folder.mkdir(parents=True, exist_ok=True)
    written = []
    sampled = sampled_study(study)
    n_params = len({name for trial in sampled.get_trials(deepcopy=False) for name in trial.params})
    finished = len(sampled.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,)))
    for name, plot, drawn in (
        ("history", plots.plot_optimization_history, study),
        ("importances", plots.plot_param_importances, sampled),
        ("parallel_coordinate", plots.plot_parallel_coordinate, sampled),
    ):
        needed = {"importances": MIN_TRIALS_FOR_IMPORTANCES, "parallel_coordinate": 2}.get(name, 1)
        if name != "history" and finished < needed:
            # fANOVA's importances from a handful of trials are noise drawn as a ranking
            print(f"  no {name} plot yet: {finished} finished trial(s) with sampled parameters, {needed} needed")
            (folder / f"{name}.png").unlink(missing_ok=True)  # an earlier, thinner one would mislead
            continue
        with warnings.catch_warnings():
            # experimental-API notes, axes of a parameter that did not vary: not the user's concern
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            warnings.simplefilter("ignore", UserWarning)
            try:
                axes = plot(drawn)
            except (ValueError, RuntimeError, ZeroDivisionError) as exc:  # too few trials for it
                print(f"  no {name} plot yet: {first_line(exc)}")
                continue
        figure = np.ravel(axes)[0].figure
        if name == "history":
            label_history(np.ravel(axes)[0], metric)
        # Optuna's default size squeezes a dozen parameter axes into unreadable labels
        width = max(8.0, 1.1 * (n_params + 2)) if name != "history" else 8.0
        figure.set_size_inches(width, 6.0 if name != "importances" else width / 2)
        figure.savefig(folder / f"{name}.png", dpi=120, bbox_inches="tight")
        plt.close(figure)
        written.append(folder / f"{name}.png")
    return written


def sampled_study(study):
    """An in-memory copy of `study` without the trials that sampled nothing (trial 0, the baseline)."""
    import optuna

    copy = optuna.create_study(directions=study.directions)
    copy.add_trials([t for t in study.get_trials(deepcopy=False) if t.params or t.state.name != "COMPLETE"])
    return copy


def label_history(ax, metric: str) -> None:
    """Whole trial numbers on the x axis (not 0.2, 0.4 ...), the metric by name, which way is better."""
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    if metric:
        better = "higher" if greater_is_better(metric) else "lower"
        ax.set_ylabel(f"validation {metric} ({better} is better)")
        ax.set_title(f"{metric} of each trial; trial 0 trains the configuration untuned")


def write_best_params(cfg: Config, study_name: str, best, storage_spec: str) -> Path:
    """best_params.toml beside the study and for the competition (what PARAMS=best reads)."""
    import optuna
    import tomli_w

    try:  # the local space replayed on the trial's parameters: keys this machine's space.py sets
        sections = sample_sections(load_space(cfg), optuna.trial.FixedTrial(best.params))
    except (KitError, ValueError):  # the space changed since: the trial's stored config, minus fixed tables
        sections = tunable(best.user_attrs.get("config") or {})
    config.resolve(sections, source=f"trial {best.number} of study '{study_name}'")  # known keys, right types
    header = {
        "study": study_name,
        "trial": best.number,
        "value": best.value,
        "metric": cfg.competition.metric,
        "storage": show_storage(storage_spec),
        "tuned_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    if best.user_attrs.get(BASELINE):  # no tables below: PARAMS=best says so instead of changing nothing in silence
        header["untuned"] = True
    note = (
        "its best trial is the untuned baseline: no tables, PARAMS=best changes nothing"
        if header.get("untuned")
        else "`make train PARAMS=best` applies the tables below"
    )
    text = f"# written by `make tune`; {note}\n" + tomli_w.dumps({**header, **sections})
    fileio.atomic_write(study_dir(cfg, study_name) / "best_params.toml", text.encode())
    return fileio.atomic_write(best_params_path(cfg.competition.slug), text.encode())
