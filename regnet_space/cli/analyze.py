"""``regnet-space analyze``: the compare report for a single population."""

from __future__ import annotations

from .compare import add_report_options, report


def run(args) -> int:
    return report([args.population], args)


def register(sub) -> None:
    a = sub.add_parser("analyze", help="report on one population (the compare report)",
                       description="The compare report for a single population table. Only rows "
                       "with status ok are analysed; errors must be fractions in [0, 1].")
    a.add_argument("population", metavar="POP", help="population table (.csv, .csv.gz, .parquet)")
    add_report_options(a)
    a.set_defaults(func=run)
