"""``regnet-space analyze``: the compare report for a single population."""

from __future__ import annotations

from .compare import add_report_options, add_table_argument, report, tables_of


def run(args) -> int:
    return report(tables_of(args, one=True), args)


def register(sub) -> None:
    a = sub.add_parser("analyze", help="report on one population (the compare report)",
                       description="The compare report for a single population table. Only rows "
                       "with status ok are analysed; errors must be fractions in [0, 1].")
    add_table_argument(a)
    add_report_options(a)
    a.set_defaults(func=run)
