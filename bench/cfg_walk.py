"""The route of `cfg` through `make run`: every kit function that receives the resolved config, in
the order first called, the files they sit in, and the climbs (a stop in a higher layer of
tests/test_layout.py's LAYERS than the stop before it: the walk goes back up).

    .venv/bin/python bench/cfg_walk.py [--preset tiny] [--comp fashion]

Runs `python -m kit run` in-process on the embedded sample in a temporary working folder, under
`sys.setprofile`; prints the counts and the route. A reading aid for the layout, not a benchmark.
"""

from __future__ import annotations

import argparse
import itertools
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))


def layer_of(module: str, layers: tuple[str, ...]) -> int:
    rank = {name: number for number, names in enumerate(layers) for name in names.split()}
    return rank.get(".".join(module.split(".")[:2]), rank.get(module, -1))


def walk(argv: list[str]) -> list[tuple[str, str]]:
    """(module, function) of every kit call that holds a Config among its arguments, first calls only."""
    from kit import cli
    from kit.config import Config

    route: dict[tuple[str, str], None] = {}

    def profile(frame, event, arg):
        if event != "call":
            return
        module = frame.f_globals.get("__name__", "")
        if not module.startswith("kit"):
            return
        code = frame.f_code
        names = code.co_varnames[: code.co_argcount + code.co_kwonlyargcount]
        if any(isinstance(frame.f_locals.get(name), Config) for name in names):
            route.setdefault((module, code.co_qualname), None)

    sys.setprofile(profile)
    try:
        status = cli.main(argv)
    finally:
        sys.setprofile(None)
    if status:
        raise SystemExit(f"kit run exited {status}")
    return list(route)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--comp", default="fashion")
    parser.add_argument("--preset", default="tiny")
    args = parser.parse_args()
    os.environ["KIT_WORKDIR"] = tempfile.mkdtemp(prefix="cfg-walk-")
    from test_layout import LAYERS

    route = walk(["run", "--comp", args.comp, "--preset", args.preset])
    layers = [layer_of(module, LAYERS) for module, _ in route]
    climbs = sum(1 for before, after in itertools.pairwise(layers) if after > before)
    print(
        f"cfg through `make run COMP={args.comp} PRESET={args.preset}`: {len(route)} stops in "
        f"{len({m for m, _ in route})} files, {climbs} climbs back up"
    )
    for (module, function), layer, before in zip(route, layers, [layers[0], *layers], strict=False):
        print(f"  {'^' if layer > before else ' '} L{layer:<2} {module}.{function}")


if __name__ == "__main__":
    main()
