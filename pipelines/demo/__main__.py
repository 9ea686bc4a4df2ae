"""``python -m pipelines.demo``: write the demo's reference tables and submissions (data/ by default)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import pipelines.demo as demo


def main(argv: list[str] | None = None) -> int:
    from pipelines import settings

    p = argparse.ArgumentParser(prog="python -m pipelines.demo", description=demo.__doc__.split("\n\n")[0])
    p.add_argument("--out", type=Path, default=None,
                   help="output folder (default: data/, writing data/reference and data/sample)")
    p.add_argument("--states", type=int, default=1, help="number of fictional states (50 for the national benchmark)")
    p.add_argument("--quarters", type=int, default=None,
                   help=f"number of quarters ending {demo.DEMO_LAST_QUARTER} (default: the 12 demo quarters)")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--no-stories", action="store_true", help="leave out the demo stories")
    p.add_argument("--layout", choices=("sample", "single"), default=None)
    args = p.parse_args(argv)
    out = args.out or settings.DATA
    quarters = demo.last_quarters(args.quarters) if args.quarters else None
    result = demo.generate(out, states=args.states, quarters=quarters, seed=args.seed,
                           with_stories=not args.no_stories, layout=args.layout)
    result["files"] = len(result["files"])
    json.dump(result, sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
