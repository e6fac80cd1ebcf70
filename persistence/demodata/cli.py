"""Command-line interface: ``python -m persistence.demodata --patients N --seed S --out DIR``."""

from __future__ import annotations

import argparse
import sys
import time

from .check import check_dataset, summarize
from .generator import DEFAULT_NOW, DEFAULT_SEED, KINDS, Generator


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m persistence.demodata",
        description="Write a deterministic patient-portal demo dataset as JSON Lines "
        "(one <kind>.jsonl file per entity kind, plus manifest.json).",
    )
    p.add_argument(
        "--patients", type=int, help="number of patients to generate (required to generate)"
    )
    p.add_argument(
        "--seed", type=int, default=DEFAULT_SEED, help=f"random seed (default {DEFAULT_SEED})"
    )
    p.add_argument(
        "--now",
        default=DEFAULT_NOW,
        help=f"reference instant all dates are relative to (default {DEFAULT_NOW})",
    )
    p.add_argument(
        "--out", help="output directory (created if missing; existing files are overwritten)"
    )
    p.add_argument("--check", metavar="DIR", help="validate an existing dataset directory and exit")
    p.add_argument(
        "--verify", action="store_true", help="after generating, run the same checks as --check"
    )
    p.add_argument("--quiet", action="store_true", help="print nothing but errors")
    return p


def _report_check(path: str, quiet: bool) -> int:
    problems = check_dataset(path)
    if problems:
        for line in problems:
            print(f"FAIL {line}", file=sys.stderr)
        print(f"check: {len(problems)} problem(s) in {path}", file=sys.stderr)
        return 1
    if not quiet:
        stats = summarize(path)
        print(f"check: OK ({', '.join(f'{k}={v}' for k, v in stats.items())})")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.check:
        return _report_check(args.check, args.quiet)
    if args.patients is None or args.out is None:
        build_parser().error("--patients and --out are required to generate (or use --check DIR)")
    if args.patients < 1:
        build_parser().error("--patients must be at least 1")
    started = time.perf_counter()
    manifest = Generator(patients=args.patients, seed=args.seed, now=args.now).write(args.out)
    elapsed = time.perf_counter() - started
    if not args.quiet:
        counts = {k: manifest["files"][k]["records"] for k in KINDS}
        width = max(len(k) for k in KINDS)
        for k in KINDS:
            print(f"  {k:<{width}} {counts[k]:>9,}")
        print(
            f"wrote {sum(counts.values()):,} records for {args.patients:,} patients "
            f"(seed {args.seed}, now {manifest['now']}) in {elapsed:.1f}s"
        )
    if args.verify:
        return _report_check(args.out, args.quiet)
    return 0
