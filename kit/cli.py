"""`python -m kit VERB --comp NAME [--preset P] [--set key=value ...] [--data DIR]`.

Every Makefile target wraps one of these verbs. User mistakes (`KitError`) print one line
`error: ...` on stderr and exit 2, never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from kit.console import signals
from kit.errors import KitError
from kit.training.determinism import set_xla_flag

# verb -> ("module:function", help line): the one table of where each verb lives. Modules are
# imported only when their verb runs, so --help and config errors stay instant.
VERBS = {
    "new": ("kit.commands.new:cmd_new", "set up a competition from its files: competitions/NAME/competition.toml"),
    "run": ("kit.commands.local:cmd_run", "audit, train, predict with TTA and write a scored submission"),
    "data": ("kit.commands.local:cmd_data", "check the competition's files and say where they are read from"),
    "audit": ("kit.commands.local:cmd_audit", "duplicates, blank images, class balance, example grid"),
    "train": ("kit.commands.local:cmd_train", "train the configured model (every fold); --resume continues a run"),
    "runs": ("kit.commands.local:cmd_runs", "list the runs: status, model, data, validation score"),
    "predict": ("kit.commands.local:cmd_predict", "predict the test set with TTA and ensembling, write a submission"),
    "models": ("kit.commands.local:cmd_models", "list the registered models"),
    "config": (
        "kit.commands.local:cmd_config",
        "print the resolved settings (defaults < toml < preset < params < SET)",
    ),
    "compare": ("kit.commands.compare:cmd_compare", "train several models on one seeded split; table and chart"),
    "learning-curve": ("kit.commands.compare:cmd_learning_curve", "one model on growing fractions of the data"),
    "reproduce": (
        "kit.commands.reproduce:cmd_reproduce",
        "re-create a submission (--file) from its record alone: same data, config, seeds, split; compare",
    ),
    "tune": ("kit.tune.study:cmd_tune", "Optuna study over competitions/NAME/space.py; writes best_params.toml"),
    "dashboard": ("kit.tune.study:cmd_dashboard", "optuna-dashboard on the competition's study, on localhost"),
    "submit": ("kit.kaggle.submit:cmd_submit", "validate, upload once, poll the score, track (--file)"),
    "leaderboard": ("kit.kaggle.leaderboard:cmd_leaderboard", "sync submissions and leaderboard; rank, table, plot"),
    "kernel": ("kit.kaggle.kernel:cmd_kernel", "build a self-contained Kaggle kernel under build/<slug>/kernel/"),
    "kernel-push": ("kit.kaggle.kernel:cmd_kernel_push", "push the built kernel to Kaggle (it starts a run)"),
    "kernel-status": ("kit.kaggle.kernel:cmd_kernel_status", "status of the pushed kernel's latest run"),
    "kernel-output": ("kit.kaggle.kernel:cmd_kernel_output", "fetch the kernel's submission and log; track it"),
}


NO_CONFIG_VERBS = {"new"}


def verb_function(verb: str):
    """The function behind `verb`, imported now."""
    module, _, function = VERBS[verb][0].partition(":")
    return getattr(importlib.import_module(module), function)


def common_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--comp", default="fashion-mnist", help="competition name or alias (default: fashion-mnist)")
    common.add_argument("--preset", default="", help="a [presets.NAME] table of competition.toml")
    common.add_argument(
        "--set", nargs="*", default=[], metavar="KEY=VALUE", help="config overrides, e.g. train.epochs=3"
    )
    common.add_argument("--data", default="", help="a folder in the competition's Kaggle layout")
    common.add_argument("--params", default="", help="a TOML file of tuned parameters, or 'best'")
    return common


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m kit", description="Kaggle image-classification kit")
    verbs = parser.add_subparsers(dest="verb", required=True, metavar="VERB")
    common = common_parser()
    sub = {name: verbs.add_parser(name, parents=[common], help=text) for name, (_, text) in VERBS.items()}
    sub["train"].add_argument(
        "--resume",
        nargs="?",
        const="",
        default=None,
        metavar="RUN",
        help="continue an interrupted run (default: the newest interrupted one)",
    )
    sub["compare"].add_argument(
        "--models",
        nargs="*",
        default=[],
        metavar="MODEL",
        help="models to compare (default: compare.models); 'a b' or a,b",
    )
    sub["learning-curve"].add_argument(
        "--fractions",
        nargs="*",
        default=[],
        metavar="F",
        help="fractions of the training split (default: compare.fractions)",
    )
    sub["predict"].add_argument(
        "--runs",
        nargs="*",
        default=[],
        metavar="RUN",
        help="runs to ensemble (default: predict.runs, else the newest run)",
    )
    sub["new"].add_argument("--metric", default="", help="the competition's metric (default: inferred)")
    sub["new"].add_argument("--force", action="store_true", help="replace an existing competition.toml")
    sub["reproduce"].add_argument(
        "--file", default="", help="the submission .csv to re-create (default: the newest submission)"
    )
    add_tune_arguments(sub["tune"], sub["dashboard"])
    add_kaggle_arguments(sub)
    return parser


def add_kaggle_arguments(sub: dict[str, argparse.ArgumentParser]) -> None:
    """Flags of `submit` (FILE, MSG, FORCE) and `kernel` (GPU, INTERNET)."""
    submit, kernel = sub["submit"], sub["kernel"]
    submit.add_argument("--file", default="", help="the CSV to submit (default: the newest)")
    submit.add_argument("--message", default="", help="the submission's description")
    submit.add_argument("--force", action="store_true", help="submit a file already submitted")
    submit.add_argument("--timeout", type=float, default=600.0, help="seconds to wait for a score")
    kernel.add_argument("--gpu", action="store_true", help="run the kernel on a GPU")
    kernel.add_argument("--internet", action="store_true", help="enable internet (off: code competitions forbid it)")


def add_tune_arguments(tune: argparse.ArgumentParser, dashboard: argparse.ArgumentParser) -> None:
    """Flags of `tune` and `dashboard`; each overrides its key of the [tune] config section."""
    for parser in (tune, dashboard):
        parser.add_argument(
            "--storage",
            default=os.environ.get("KIT_STORAGE") or None,  # how make and spawned workers pass it
            help="database URL or journal file (default: $KIT_STORAGE, which keeps a password "
            "off the command line, else SQLite under artifacts/<slug>/tune; a journal file with "
            "--workers > 1)",
        )
        parser.add_argument("--study", help="study name (default: the competition's slug)")
    tune.add_argument("--n-trials", type=int, help="trials to add, shared by the workers")
    tune.add_argument("--timeout", type=float, help="seconds after which no new trial starts")
    tune.add_argument("--workers", type=int, help="processes on this machine sharing the study")
    tune.add_argument("--sampler", help="tpe (default) | random")
    tune.add_argument("--pruner", help="median (default) | hyperband | none")
    tune.add_argument("--worker", type=int, default=0, help=argparse.SUPPRESS)  # spawned workers
    dashboard.add_argument("--port", type=int, default=8080, help="port on 127.0.0.1")


def split_words(values: list[str]) -> list[str]:
    """--set, --runs, --models and --fractions accept 'a b' as one argument (the Makefile passes
    SET="a=1 b=2", RUN, MODELS and FRACTIONS as one word each) or as several."""
    return [item for value in values for item in value.split()]


def as_fractions(values: list[str]) -> list[float]:
    try:
        return [float(value) for value in values]
    except ValueError:
        raise KitError(f"FRACTIONS: expected numbers like 0.1 0.5 1, got {' '.join(values)!r}") from None


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line as the verbs see it: list flags split into words, fractions as floats."""
    args = build_parser().parse_args(argv)
    for name in ("set", "runs", "models", "fractions"):
        if hasattr(args, name):
            setattr(args, name, split_words(getattr(args, name)))
    if hasattr(args, "fractions"):
        args.fractions = as_fractions(args.fractions)
    return args


# verbs that use a competition's preset of this name unless --preset names another: a
# comparison trains ten models, so it needs its own (shorter) epochs to finish in an hour
VERB_PRESETS = {"compare": "compare", "learning-curve": "compare"}


def verb_preset(verb: str, comp: str) -> str:
    """The verb's default preset when the competition defines it, else ''."""
    from kit import paths
    from kit.config import competitions, read_toml

    name = VERB_PRESETS.get(verb, "")
    if not name:
        return ""
    toml_path = paths.competition_dir(competitions.resolve_name(comp)) / "competition.toml"
    if name not in read_toml(toml_path).get("presets", {}):
        return ""
    print(f"using [presets.{name}] of {toml_path.parent.name} (--preset / PRESET= picks another)")
    return name


BACKENDS = ("tensorflow", "jax", "torch")


def check_backend() -> str:
    """KERAS_BACKEND (the Makefile's BACKEND=) names a backend Keras has, checked before Keras
    loads (it would raise a bare ValueError at import)."""
    backend = os.environ.get("KERAS_BACKEND", "tensorflow")
    if backend not in BACKENDS:
        raise KitError(f"BACKEND={backend}: Keras backends are {', '.join(BACKENDS)} (tensorflow is the default)")
    return backend


def main(argv: list[str] | None = None) -> int:
    try:
        args = parse(argv)
        check_backend()
        from kit.config import competitions

        if args.verb in NO_CONFIG_VERBS:  # the competition's config is what they make
            return verb_function(args.verb)(args, None)
        args.preset = args.preset or verb_preset(args.verb, args.comp)
        cfg = competitions.load_config(args.comp, args.preset, args.set, args.data, args.params)
        from kit import models

        # MODEL=nosuch or MODELS="cnn nosuch": said before any data, scikit-learn or Keras loads
        for name in [cfg.train.model, *(n for v in getattr(args, "models", []) for n in v.replace(",", " ").split())]:
            models.check_name(name)
            models.check_channels(name, cfg.data.channels, cfg.data.channel_files)  # an RGB backbone: 3
        set_xla_flag(cfg.train.deterministic)  # before Keras starts JAX, which reads it once
        return verb_function(args.verb)(args, cfg)
    except KitError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as interrupt:  # a training run says how to continue it
        print(str(interrupt) or "interrupted", file=sys.stderr)
        return signals.INTERRUPTED
