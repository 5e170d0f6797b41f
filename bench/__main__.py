"""python -m bench [--scale smoke|medium|full] [--runs 3] [--only SCENARIO ...] [--jobs JOB ...] [--out FILE]"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bench import compare, report, suite
from bench.scales import SCALES


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description="The job set's benchmark suite.")
    parser.add_argument("--scale", choices=list(SCALES), default="medium")
    parser.add_argument("--runs", type=int, default=3, help="runs per figure; the report gives their median")
    parser.add_argument("--only", nargs="+", choices=list(suite.SCENARIOS), metavar="SCENARIO",
                        help=f"run only these: {', '.join(suite.SCENARIOS)}")
    parser.add_argument("--jobs", nargs="+", choices=list(compare.COMPARED), metavar="JOB",
                        help=f"vs_bare and vs_row_client measure only these: {', '.join(compare.COMPARED)}")
    parser.add_argument("--out", type=Path, help="also write the Markdown report here")
    parser.add_argument("--plans", type=Path, default=suite.PLANS, help="where to save query plans")
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    return args


def main(argv: list[str] | None = None) -> report.Report:
    args = parse(argv)
    result = suite.run(args.scale, args.runs, args.only, args.plans, args.jobs)
    text = report.render(result)
    sys.stdout.write(text)
    if args.out:
        args.out.write_text(text, encoding="utf-8")
    return result


if __name__ == "__main__":
    main()
