"""`python -m bwma_exp.report SWEEP [SWEEP ...] [--out DIR]`: tables and figure of many runs."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .aggregate import aggregate
from .collect import ReportInputError, collect_runs
from .search import is_search, write_search_report
from .tables import markdown_table
from .write import write_report


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bwma_exp.report",
        description="Collect every job's summary.json under run or sweep folders into "
        "report.csv, report_aggregated.csv, report.md and acc_vs_energy.png.",
    )
    parser.add_argument("folders", nargs="+", type=Path, help="Hydra run or sweep folders")
    parser.add_argument("--out", type=Path, default=None,
                        help="where to write the report (default: the first folder)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        rows = collect_runs(args.folders)
    except ReportInputError as err:
        print(err, file=sys.stderr)
        return 2
    paths = write_report(rows, args.out or args.folders[0])
    print(markdown_table(aggregate(rows)))
    written = [str(p) for p in paths.values() if p is not None]
    for folder in args.folders:
        if is_search(folder):   # a Pareto study: its front, drawn and tabulated
            table, files = write_search_report(folder, args.out or folder)
            print(f"\nPareto front of {folder}:\n{table}")
            written += [str(p) for p in files]
    print(f"\nwrote {', '.join(written)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
