"""The Kaggle verbs: `data` downloads, `submit`, `leaderboard`, `kernel`, `kernel-push`,
`kernel-status` and `kernel-output`. `kit.commands` re-exports the `cmd_*` functions.

A submission is validated with the validator that wrote it, refused when it was made from the
embedded sample or was already submitted (same content hash, unless FORCE=1), checked against
the daily limit, uploaded once, polled until scored, and tracked in `kit.tracking`.
Offline competitions (`competition.kaggle = ""`) are scored here against their test labels.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from kit import fileio, kaggle, paths, tracking
from kit.config import Config
from kit.errors import KitError

POLL_TIMEOUT = 600.0  # seconds `make submit` waits for the score before leaving it to `leaderboard`


def poll_first() -> float:
    """The first wait between score checks (KIT_KAGGLE_POLL_SECONDS; tests make it short)."""
    return float(os.environ.get("KIT_KAGGLE_POLL_SECONDS", "5"))


# ---------------------------------------------------------------- data


def ensure_data(cfg: Config) -> None:
    """Download a Kaggle competition's files into data/<slug>/ when no local copy exists."""
    slug, competition = cfg.competition.slug, cfg.competition.kaggle
    if cfg.data.dir or any(paths.data_dir(slug).glob(f"{cfg.data.train_file}*")):
        return
    if not competition:
        print(
            f"{slug} is not a Kaggle competition: nothing to download "
            "(DATA=<folder> reads a full copy)"
        )
        return
    print(f"downloading {competition} from Kaggle into {paths.data_dir(slug)} ...")
    files = kaggle.download_competition(competition, paths.data_dir(slug))
    print(
        f"  {len(files)} files: {', '.join(p.name for p in files[:8])}"
        f"{' ...' if len(files) > 8 else ''}"
    )


# ---------------------------------------------------------------- submit


def expected_for(cfg: Config, path: Path):
    """(Expected, loaded data or None): from the sample submission when there is one (no need
    to read the test images), else from the test set; from the config alone without data."""
    from kit import competitions, data, submission

    try:
        folder, _ = competitions.data_folder(cfg)
    except KitError:
        if cfg.data.test_labels:
            raise
        return config_only_expected(cfg, path), None
    sample = data.read_sample_submission(cfg, folder)
    if sample is not None and not cfg.data.test_labels:
        return submission.expected(cfg, None, sample), None
    loaded = data.load(cfg)
    return submission.expected(cfg, loaded.test.ids, loaded.sample_submission), loaded


def config_only_expected(cfg: Config, path: Path):
    """Without the competition's files: ids id_start.. in order, as the kit writes them."""
    import numpy as np
    import pandas as pd

    from kit import submission

    rows = len(pd.read_csv(path, usecols=[0])) if path.is_file() else 0
    print(
        f"note: no local data for {cfg.competition.slug}: {path.name} is checked against the "
        f"config only (ids {cfg.submission.id_start}..): `make data` enables the full check",
        file=sys.stderr,
    )
    ids = np.arange(cfg.submission.id_start, cfg.submission.id_start + rows)
    return submission.Expected(
        (cfg.submission.id_column, cfg.submission.label_column), ids, tuple(range(cfg.num_classes))
    )


def with_recorded_data(cfg: Config, record: dict[str, Any]) -> Config:
    """Without DATA=, validate against the data folder the file was predicted from (its record
    names it) when no downloaded copy exists: the same ids the file was written for."""
    from kit import config

    recorded = record.get("config", {}).get("data", {}).get("dir", "")
    has_download = any(paths.data_dir(cfg.competition.slug).glob(f"{cfg.data.train_file}*"))
    if cfg.data.dir or has_download or not recorded or not Path(recorded).is_dir():
        return cfg
    return config.replace(cfg, data={"dir": recorded})


def read_record(path: Path) -> dict[str, Any]:
    record_path = path.with_suffix(".json")
    if not record_path.is_file():
        return {}
    try:
        return json.loads(record_path.read_text())
    except ValueError:
        raise KitError(f"{record_path}: unreadable submission record") from None


def refuse_duplicates(slug: str, sha: str, force: bool) -> None:
    """A file already submitted (by content) is refused unless FORCE=1; so is one whose earlier
    upload has no known outcome (it may have counted)."""
    if force:
        return
    made = tracking.already_made(slug, sha)
    if made:
        row = made[-1]
        score = f", score {row['public_score']:.5f}" if row["public_score"] is not None else ""
        raise KitError(
            f"this file was already submitted ({row['file']}, {row['submitted'] or row['created']}"
            f"{', ref ' + str(row['kaggle_ref']) if row['kaggle_ref'] else ''}{score}): "
            "FORCE=1 submits it again"
        )
    unsure = tracking.query(
        slug, "SELECT id FROM submissions WHERE sha256 = ? AND status = 'uploading'", (sha,)
    )
    if unsure:
        raise KitError(
            f"an earlier upload of this file ended without an answer: run `make leaderboard "
            f"COMP={slug}` to see whether Kaggle has it, or FORCE=1 to submit anyway"
        )


def default_message(path: Path, record: dict[str, Any], sha: str) -> str:
    cv = record.get("cv_score")
    cv_text = f" CV {cv:.5f}" if isinstance(cv, int | float) else ""
    return f"{path.stem}{cv_text} sha256:{sha[:12]}"


def cmd_submit(args, cfg: Config) -> int:
    """Validate, refuse wasted submissions, upload once, poll the score, track it."""
    from kit import submission

    slug = cfg.competition.slug
    if not cfg.competition.kaggle and not cfg.data.test_labels:
        raise KitError(f"{slug} has no Kaggle slug (`kaggle` in its competition.toml) and no test labels "
                       "to score against: nowhere to submit")
    path = Path(args.file).expanduser() if args.file else submission.newest(slug)
    record = read_record(path)
    cfg = with_recorded_data(cfg, record)
    exp, loaded = expected_for(cfg, path)
    frame = submission.read_and_validate(path, exp)
    sha = fileio.sha256_file(path)
    if record.get("sha256") and record["sha256"] != sha:
        print(
            f"warning: {path.name} changed since it was written (hash differs from its record)",
            file=sys.stderr,
        )
    if record.get("embedded_sample") and cfg.competition.kaggle:
        raise KitError(
            f"{path.name} was made from the embedded sample, not the competition's data: "
            f"run `make data COMP={slug}` and predict again"
        )
    refuse_duplicates(slug, sha, args.force)
    message = args.message or default_message(path, record, sha)
    print(f"{path} valid: {len(frame)} rows, sha256 {sha[:12]}")
    if not cfg.competition.kaggle:
        return score_offline(cfg, path, frame, exp, record, sha, message, loaded)
    return submit_to_kaggle(cfg, path, record, sha, message, getattr(args, "timeout", POLL_TIMEOUT))


def tracker_row(slug: str, path: Path, record: dict[str, Any], sha: str, **fields: Any) -> int:
    """The row of this file written and not yet submitted, updated; else a new row."""
    rows = tracking.query(
        slug,
        "SELECT id FROM submissions WHERE file = ? AND sha256 = ? AND kaggle_ref "
        "IS NULL AND status IN ('written', 'failed') ORDER BY id DESC",
        (path.name, sha),
    )
    base = tracking.record_fields({**record, "file": path.name, "sha256": sha})
    if rows:
        tracking.update_submission(slug, rows[0]["id"], **fields)
        return rows[0]["id"]
    return tracking.add_submission(slug, **{**base, **fields})


def score_offline(
    cfg: Config, path: Path, frame, exp, record, sha: str, message: str, loaded
) -> int:
    """An offline competition: score the file against the test labels and track the score."""
    import numpy as np

    from kit import metrics

    id_column, label_column = exp.columns
    order = frame.set_index(id_column).loc[loaded.test.ids, label_column].to_numpy()
    index = {label: i for i, label in enumerate(exp.labels)}
    predicted = np.array([index[label] for label in order])
    scores = metrics.score_labels(loaded.test.labels, predicted, cfg.competition.metric)
    stamp = tracking.now()
    tracker_row(
        cfg.competition.slug,
        path,
        record,
        sha,
        status="scored",
        message=message,
        local_score=scores["score"],
        public_score=scores["score"],
        submitted=stamp,
        scored=stamp,
    )
    where = "the embedded sample's" if loaded.embedded else "the"
    print(
        f"scored locally on {where} test labels "
        f"({cfg.competition.slug} has no Kaggle leaderboard): "
        f"accuracy {scores['accuracy']:.4f}, macro-F1 {scores['macro_f1']:.4f}"
    )
    print(f"  tracked in {tracking.db_path(cfg.competition.slug)}")
    return 0


def check_limits(limits: dict[str, Any] | None, competition: str) -> None:
    """Refuse before uploading when Kaggle allows no submission now. All counts zero is what
    Kaggle answers to someone with no team yet, whose upload would be refused (403) anyway."""
    if not limits:
        return
    if limits["allowed_now"] > 0:
        print(f"  {limits['allowed_now']} submission(s) left today")
        return
    if limits["by_total"]:
        why = "the competition's lifetime cap is reached"
    elif limits["today"] > 0:
        why = f"today's limit is reached ({limits['today']} made today; a new day starts 00:00 UTC)"
    else:
        why = (
            "Kaggle allows none now; if you have not joined, accept the rules at "
            f"{kaggle.WEBSITE}/competitions/{competition}/rules"
        )
    raise KitError(f"{competition}: no submissions left: {why}; nothing was uploaded")


def submit_to_kaggle(
    cfg: Config, path: Path, record, sha: str, message: str, timeout: float
) -> int:
    """Check the limit, upload once (tracked `uploading` first, so a crash leaves a trace),
    settle an unclear answer from Kaggle's list, then follow the score."""
    slug, competition = cfg.competition.slug, cfg.competition.kaggle
    client = kaggle.api()
    check_limits(kaggle.submission_limits(client, competition), competition)
    known = {row["kaggle_ref"] for row in tracking.submissions(slug) if row["kaggle_ref"]}
    started = time.time()
    row = tracker_row(
        slug,
        path,
        record,
        sha,
        status="uploading",
        message=message,
        submitted=tracking.now(),
        error=None,
    )
    try:
        ref = kaggle.upload_submission(client, competition, path, message)
    except kaggle.AmbiguousSubmission as unclear:
        ref = reconcile(client, cfg, row, path, message, (known, started), unclear)
    except KitError as error:
        tracking.update_submission(slug, row, status="failed", error=str(error))
        raise
    except KeyboardInterrupt:
        print(
            f"interrupted during the upload: `make leaderboard COMP={slug}` finds out whether it "
            "counted",
            file=sys.stderr,
        )
        return 130
    tracking.update_submission(slug, row, kaggle_ref=ref, status="pending")
    print(f"submitted {path.name} to {competition}: ref {ref}; waiting for the score ...")
    return follow(client, cfg, row, ref, timeout)


def reconcile(client, cfg: Config, row: int, path: Path, message: str, seen: tuple, unclear) -> int:
    """CreateSubmission had no clear answer: look in Kaggle's list instead of sending it again.
    `seen` is (refs the tracker already holds, when the upload began)."""
    slug, competition = cfg.competition.slug, cfg.competition.kaggle
    error = unclear.args[0]
    try:
        found = kaggle.find_submission(
            kaggle.list_submissions(client, competition), path.name, message, *seen
        )
    except KitError as listing:
        tracking.update_submission(slug, row, error=f"{error}; {listing}")  # stays 'uploading'
        raise KitError(
            f"{error}; and Kaggle's list is unavailable ({listing}): `make leaderboard "
            f"COMP={slug}` finds out later whether the upload counted"
        ) from None
    if found is None:
        tracking.update_submission(slug, row, status="failed", error=str(error))
        raise KitError(
            f"{error}; Kaggle lists no submission of {path.name}: nothing was submitted, "
            "try again later"
        ) from None
    print(
        f"note: {error}; but Kaggle lists the submission (ref {found['ref']}): recorded",
        file=sys.stderr,
    )
    return found["ref"]


def follow(client, cfg: Config, row: int, ref: int, timeout: float) -> int:
    """Poll until scored; Ctrl-C or a timeout leaves it pending for `make leaderboard`."""
    slug = cfg.competition.slug
    later = f"`make leaderboard COMP={slug}` picks up its score"
    try:
        state = kaggle.poll_submission(client, cfg.competition.kaggle, ref, timeout, poll_first())
    except KeyboardInterrupt:
        print(f"stopped waiting: submission {ref} is made and tracked; {later}", file=sys.stderr)
        return 130
    except KitError as error:
        print(f"warning: could not follow submission {ref} ({error}); {later}", file=sys.stderr)
        return 1
    if not state or state["status"] not in ("complete", "error"):
        print(f"not scored after {timeout:.0f} s: {later}")
        return 0
    stamp = tracking.now()
    tracking.update_submission(
        slug,
        row,
        status=state["status"],
        public_score=state["public_score"],
        private_score=state["private_score"],
        error=state["error"],
        scored=stamp,
    )
    if state["status"] == "error":
        raise KitError(
            f"Kaggle could not score submission {ref}: {state['error'] or 'no reason given'}"
        )
    print(
        f"public score {state['public_score']}"
        f"{'' if state['private_score'] is None else ', private ' + str(state['private_score'])}"
    )
    print(f"  tracked in {tracking.db_path(slug)}")
    return 0


# ---------------------------------------------------------------- leaderboard


def our_standing(entries: list[dict], remote: list[dict]) -> dict[str, Any] | None:
    """Our team's rank on the leaderboard (matched by team name or user name), as a percentile."""
    names = {item["team_name"].lower() for item in remote if item.get("team_name")}
    if kaggle.username():
        names.add(kaggle.username().lower())
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
    standing = None
    if competition:
        client = kaggle.api()
        remote = kaggle.list_submissions(client, competition)
        changed = tracking.sync_remote(slug, remote)
        print(f"synced {changed} submission(s) of {competition} from Kaggle")
        if tracking.settle_uploads(slug):
            print("  interrupted uploads that never reached Kaggle are marked failed")
        try:
            entries = kaggle.leaderboard(client, competition)
        except KitError as error:
            print(f"warning: public leaderboard unavailable: {error}", file=sys.stderr)
        else:
            standing = our_standing(entries, remote)
            tracking.save_leaderboard(slug, entries, standing)
    else:
        print(f"{slug} has no Kaggle leaderboard: its submissions are scored locally")
    rows = tracking.submissions(slug)
    print_standing(cfg, rows, standing)
    print_table(rows)
    plot = plot_history(slug, rows, tracking.standings(slug))
    print(f"plot: {plot}")
    return 0


def print_standing(cfg: Config, rows: list[dict], standing: dict | None) -> None:
    scored = [row for row in rows if row["public_score"] is not None]
    if not scored:
        print("no scored submissions yet")
        return
    best = max(scored, key=lambda row: row["public_score"])
    label = "public" if cfg.competition.kaggle else "local test"
    print(f"best {label} score {best['public_score']:.5f} ({best['file']})")
    if standing:
        print(f"rank {standing['rank']} of {standing['teams']} (top {standing['percentile']:.1f}%)")
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


def plot_history(slug: str, rows: list[dict], standings: list[dict]) -> Path:
    """CV and public score per submission over time, and our rank over time, in one PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import pandas as pd

    path = paths.artifacts_dir(slug) / "leaderboard.png"
    fig, (scores, ranks) = plt.subplots(2, 1, figsize=(8, 7), sharex=False)
    frame = pd.DataFrame(
        [r for r in rows if r["submitted"]], columns=list(rows[0]) if rows else ["submitted"]
    )
    if len(frame):
        # Kaggle's dates and the tracker's differ in form (offset or not): ISO 8601 reads both
        when = pd.to_datetime(frame["submitted"], utc=True, format="ISO8601", errors="coerce")
        frame["when"] = when
        frame = frame.dropna(subset=["when"]).sort_values("when")
        scores.plot(frame["when"], frame["cv_score"], "s--", label="CV (local validation)")
        scores.plot(frame["when"], frame["public_score"], "o-", label="public / test score")
        scores.legend()
    scores.set_title(f"{slug}: CV vs public score")
    scores.set_ylabel("score")
    if standings:
        ranks.plot(
            pd.to_datetime([s["synced"] for s in standings], utc=True),
            [s["rank"] for s in standings],
            "o-",
        )
        ranks.invert_yaxis()  # rank 1 at the top
    else:
        ranks.text(
            0.5, 0.5, "not on the public leaderboard yet", ha="center", transform=ranks.transAxes
        )
    ranks.set_title("public leaderboard rank")
    ranks.set_ylabel("rank")
    for axis in (scores, ranks):
        axis.tick_params(axis="x", labelrotation=20)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp.png")
    fig.savefig(tmp, dpi=100)
    plt.close(fig)
    os.replace(tmp, path)
    return path


# ---------------------------------------------------------------- kernels


def kernel_folder(cfg: Config) -> Path:
    return paths.build_dir(cfg.competition.slug) / "kernel"


def cmd_kernel(args, cfg: Config) -> int:
    """Build the self-contained kernel bundle under build/<slug>/kernel/."""
    from kit import kernel, tuned

    params = tuned.load_params(args.comp, args.params) if args.params else None
    if args.data:
        print("note: DATA is not baked into the kernel: it reads /kaggle/input/", file=sys.stderr)
    folder = kernel.build(cfg, args.preset, args.set, params, gpu=args.gpu, internet=args.internet)
    meta = json.loads((folder / "kernel-metadata.json").read_text())
    print(f"kernel bundle: {folder}")
    print(
        f"  id {meta['id']}, script {meta['code_file']}, GPU {meta['enable_gpu']}, "
        f"internet {meta['enable_internet']}, sources {meta['competition_sources']}"
    )
    if meta["id"].startswith(kernel.PLACEHOLDER_USER):
        print("  the user name is filled in at `make kernel-push` (from your Kaggle credentials)")
    return 0


def cmd_kernel_push(args, cfg: Config) -> int:
    """Push the built kernel; Kaggle starts a run of it."""
    from kit import kernel

    folder = kernel_folder(cfg)
    client = kaggle.api()
    meta = kernel.with_user(folder, client.get_config_value("username") or kaggle.username())
    pushed = kaggle.push_kernel(client, folder)
    tracking.record_kernel(
        cfg.competition.slug, meta["id"], pushed["version"], pushed["url"], "pushed"
    )
    print(f"pushed {meta['id']} version {pushed['version']}: {pushed['url']}")
    print(f"  follow it with `make kernel-status COMP={cfg.competition.slug}`")
    return 0


def kernel_id(cfg: Config) -> tuple[str, int]:
    """(user/slug, version) of the newest pushed kernel; else the built one's id, version 0."""
    from kit import kernel

    pushed = tracking.latest_kernel(cfg.competition.slug)
    if pushed:
        return pushed["ref"], pushed["version"]
    built = kernel.read_metadata(kernel_folder(cfg))["id"]
    if built.startswith(kernel.PLACEHOLDER_USER):
        raise KitError(f"no kernel pushed yet: run `make kernel-push COMP={cfg.competition.slug}` first")
    return built, 0


def cmd_kernel_status(args, cfg: Config) -> int:
    ref, version = kernel_id(cfg)
    status, failure = kaggle.kernel_status(kaggle.api(), ref)
    tracking.record_kernel(cfg.competition.slug, ref, version, status=status, failure=failure)
    print(f"{ref}: {status}{' - ' + failure if failure else ''}")
    if status == "complete":
        print(f"  fetch its submission with `make kernel-output COMP={cfg.competition.slug}`")
    return 1 if status == "error" else 0


def cmd_kernel_output(args, cfg: Config) -> int:
    """Fetch the kernel's submission and log; the submission joins submissions/<slug>/."""
    from kit import submission

    slug = cfg.competition.slug
    ref, version = kernel_id(cfg)
    dest = paths.build_dir(slug) / "kernel-output" / time.strftime("%Y%m%d-%H%M%S")
    files = kaggle.kernel_output(kaggle.api(), ref, dest)
    for path in files:
        print(f"  {path}")
    produced = dest / "submission.csv"
    if not produced.is_file():
        raise KitError(
            f"the kernel's output has no submission.csv (files: {[p.name for p in files]})"
        )
    exp, _ = expected_for(cfg, produced)
    frame = submission.read_and_validate(produced, exp)
    record = {**read_record(produced), "kernel": ref, "kernel_version": version}
    record.pop("sha256", None)
    path = submission.write(frame, exp, slug, f"kernel-v{version}", record)
    tracking.record_written(
        slug, path, json.loads(path.with_suffix(".json").read_text()), source="kernel"
    )
    print(f"kernel submission: {path} (submit it with `make submit COMP={slug}`)")
    return 0
