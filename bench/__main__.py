"""Run the benchmarks: `python -m bench [NAME ...] [--quick]`; each prints its own table."""

from __future__ import annotations

import argparse
import importlib

BENCHMARKS = (
    "generate",
    "capture_parse",
    "ingest",
    "freshness",
    "metrics",
    "analyses",
    "web",
    "experiments_sim",
    "playground",
)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("names", nargs="*", help=f"some of: {', '.join(BENCHMARKS)} (default all)")
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    args = parser.parse_args()
    unknown = set(args.names) - set(BENCHMARKS)
    if unknown:
        parser.error(f"unknown benchmark {sorted(unknown)[0]!r}; known: {', '.join(BENCHMARKS)}")
    for name in args.names or BENCHMARKS:
        importlib.import_module(f"bench.{name}").main(quick=args.quick)


if __name__ == "__main__":
    main()
