"""`make leaderboard`: our submissions and the public leaderboard synced from Kaggle; best score,
rank and percentile, a table of CV beside public score, and a plot over time.

"Best" follows the competition's metric (`kit.metrics.best`: the lowest for log-loss): the one
Kaggle's competition record names when the kit knows it, else `competition.metric`."""

from __future__ import annotations

import math
import os
import sys
from pathlib import Path
from typing import Any

from kit import metrics, paths, tracker
from kit.config import Config
from kit.errors import KitError
from kit.kaggle import endpoints
from kit.kaggle.client import NO_CREDENTIALS, api, has_credentials, username


def our_standing(entries: list[dict], remote: list[dict]) -> dict[str, Any] | None:
    """Our team's rank on the leaderboard (matched by team name or user name), as a percentile."""
    names = {item["team_name"].lower() for item in remote if item.get("team_name")}
    if username():
        names.add(username().lower())
    for entry in entries:
        if (entry["team_name"] or "").lower() in names:
            teams = len(entries)
            return {
                "rank": entry["rank"],
                "teams": teams,
                "score": entry["score"],
                "percentile": 100.0 * entry["rank"] / teams,
            }
    return None


def cmd_leaderboard(args, cfg: Config) -> int:
    """Sync our submissions and the public leaderboard, print the standing, plot the history."""
    slug, competition = cfg.competition.slug, cfg.competition.kaggle
    standing, metric = None, cfg.competition.metric
    if competition and not has_credentials():  # offline: what the tracker knows is still worth showing
        print(f"warning: {NO_CREDENTIALS}", file=sys.stderr)
        print(f"not synced with Kaggle: {competition} as the local tracker last knew it")
        known = tracker.standings(slug)
        standing = known[-1] if known else None
    elif competition:
        client = api()
        metric = kaggle_metric(client, competition, metric)
        remote = endpoints.list_submissions(client, competition)
        changed = tracker.sync_remote(slug, remote)
        print(f"synced {changed} submission(s) of {competition} from Kaggle")
        if tracker.settle_uploads(slug):
            print("  interrupted uploads that never reached Kaggle are marked failed")
        try:
            entries = endpoints.leaderboard(client, competition)
        except KitError as error:
            print(f"warning: public leaderboard unavailable: {error}", file=sys.stderr)
        else:
            standing = our_standing(entries, remote)
            tracker.save_leaderboard(slug, entries, standing)
    else:
        print(f"{slug} has no Kaggle leaderboard: its submissions are scored locally")
    rows = tracker.submissions(slug)
    print_standing(cfg, rows, standing, metric)
    print_table(rows)
    plot = plot_history(slug, rows, tracker.standings(slug), metric)
    print(f"plot: {plot}")
    return 0


def kaggle_metric(client, competition: str, configured: str) -> str:
    """The metric Kaggle's competition record names, when the kit knows it (a warning when the
    config says another); else `configured` (no record, a metric the kit lacks, no answer)."""
    try:
        name = endpoints.competition_metric(client, competition)
    except KitError:
        return configured
    found = metrics.from_kaggle(name) if name else None
    if found and found != configured:
        print(
            f"warning: Kaggle scores {competition} by '{name}' ({found}), the config says {configured}: "
            f'best follows Kaggle\'s; set competition.metric = "{found}" in its competition.toml',
            file=sys.stderr,
        )
    return found or configured


def best_scored(rows: list[dict], metric: str) -> dict | None:
    """The submission with the best public (or local) score for `metric`; None before any score."""
    scored = [row for row in rows if isinstance(score := row["public_score"], int | float) and math.isfinite(score)]
    return metrics.best(metric, scored, key=lambda row: row["public_score"]) if scored else None


def print_standing(cfg: Config, rows: list[dict], standing: dict | None, metric: str) -> None:
    best = best_scored(rows, metric)
    if best is None:
        print("no scored submissions yet")
        return
    label = "public" if cfg.competition.kaggle else "local test"
    way = "higher" if metrics.greater_is_better(metric) else "lower"
    print(f"best {label} score {best['public_score']:.5f} ({best['file']}; {metric}, {way} is better)")
    if standing:
        when = f" on {standing['synced'][:10]}" if standing.get("synced") else ""
        print(f"rank {standing['rank']} of {standing['teams']} (top {standing['percentile']:.1f}%){when}")
    elif cfg.competition.kaggle:
        print("not found on the public leaderboard")


def fmt(value) -> str:
    return "" if value is None else f"{value:.5f}"


def print_table(rows: list[dict]) -> None:
    """Every submission, oldest first, CV next to the public (or local) score."""
    print(f"{'submitted':20} {'status':9} {'CV':>8} {'public':>8} {'private':>8}  file / message")
    for row in rows:
        when = (row["submitted"] or row["created"] or "")[:19]
        print(
            f"{when:20} {row['status']:9} {fmt(row['cv_score']):>8} {fmt(row['public_score']):>8} "
            f"{fmt(row['private_score']):>8}  {row['file'] or ''}  {row['message'] or ''}"
        )


def plot_history(slug: str, rows: list[dict], standings: list[dict], metric: str) -> Path:
    """Two panels read at a glance: CV beside the public score of each submission that reached
    Kaggle or was scored offline (x = its number in upload order; a failed try is left out; the
    best by `metric` starred), and our leaderboard rank at each sync (rank 1 at the top, whole
    ranks, dates as dates)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.dates as mdates
    import matplotlib.pyplot as plt
    import pandas as pd
    from matplotlib.ticker import MaxNLocator

    path = paths.artifacts_dir(slug) / "leaderboard.png"
    fig, (scores, ranks) = plt.subplots(2, 1, figsize=(8, 7))
    # scored on Kaggle, or offline against known test labels (an offline competition's "public")
    uploaded = [r for r in rows if r["status"] != "failed" and (r["kaggle_ref"] or r["public_score"] is not None)]
    frame = pd.DataFrame(uploaded, columns=list(rows[0]) if rows else ["submitted"])
    if len(frame):
        frame = frame.assign(when=pd.to_datetime(frame["submitted"], utc=True, format="ISO8601", errors="coerce"))
        frame = frame.sort_values("when").reset_index(drop=True)
        number = frame.index + 1
        scores.plot(number, frame["cv_score"], "s--", label="CV (local validation)")
        scores.plot(number, frame["public_score"], "o-", label="public score")
        scores.set_xticks(
            number, [f"#{n}\n{w:%m-%d}" if pd.notna(w) else f"#{n}" for n, w in zip(number, frame["when"], strict=True)]
        )
        scores.set_xlim(0.5, len(frame) + 0.5)
        public = frame["public_score"].astype(float).dropna()
        if len(public):  # the metric's best: the lowest for a loss
            at = metrics.best(metric, public.index, key=lambda i: public[i])
            scores.plot([at + 1], [public[at]], "*", markersize=16, label=f"best ({public[at]:.5f})")
        scores.legend()
    else:
        scores.text(0.5, 0.5, "no submission scored on Kaggle yet", ha="center", transform=scores.transAxes)
        scores.set(xticks=[], yticks=[])  # an empty panel's 0..1 ticks read as scores and ranks
    way = "higher" if metrics.greater_is_better(metric) else "lower"
    scores.set(
        title=f"{slug}: CV vs public score per submission",
        xlabel="submission (upload order, date)",
        ylabel=f"{metric} ({way} is better)",
    )
    if standings:
        when = pd.to_datetime([s["synced"] for s in standings], utc=True, format="ISO8601")
        ranks.plot(when, [s["rank"] for s in standings], "o-")
        if when.min() == when.max():  # one sync: a day either side, not matplotlib's years
            ranks.set_xlim(when.min() - pd.Timedelta(days=1), when.max() + pd.Timedelta(days=1))
        locator = mdates.AutoDateLocator(minticks=3, maxticks=8)
        ranks.xaxis.set_major_locator(locator)
        ranks.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
        ranks.yaxis.set_major_locator(MaxNLocator(integer=True, min_n_ticks=1))  # no rank 2.5
        low, high = min(s["rank"] for s in standings), max(s["rank"] for s in standings)
        ranks.set_ylim(high + 0.5, max(low - 0.5, 0.5))  # inverted: rank 1 at the top
    else:
        ranks.text(0.5, 0.5, "not on the public leaderboard yet", ha="center", transform=ranks.transAxes)
        ranks.set(xticks=[], yticks=[])
    ranks.set(title="our public leaderboard rank (1 is first)", ylabel="rank", xlabel="sync date")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp.png")
    fig.savefig(tmp, dpi=100)
    plt.close(fig)
    os.replace(tmp, path)
    return path
