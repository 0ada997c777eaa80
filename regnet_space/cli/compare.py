"""``regnet-space compare``: an HTML report comparing population tables."""

from __future__ import annotations

import argparse

from .common import UsageError


def add_report_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", default="report", help="output folder (default: report/)")
    p.add_argument("--labels", default=None, help="comma-separated labels (default: file names)")
    p.add_argument("--normalize", default="flops", choices=("flops", "params", "none"),
                   help="complexity normalization of EDFs and efficiency curves (default: flops)")
    p.add_argument("--bins", type=int, default=10, help="log-spaced complexity bins (default 10)")
    p.add_argument("--seed", type=int, default=0, help="seed of every bootstrap (default 0)")
    p.add_argument("--repeats", type=int, default=10_000, help="bootstrap repeats (default 10^4)")
    p.add_argument("--efit-max", type=int, default=500,
                   help="at most this many models per population get the (slow) e_fit "
                   "(default 500)")
    p.add_argument("--regimes", type=int, default=3, help="flops regimes of the trend plots "
                   "(default 3)")
    p.add_argument("--title", default=None, help="report title")


def report(paths, args) -> int:
    from ..analysis import load_populations
    from ..analysis.report import build_report

    labels = None
    if args.labels:
        labels = [s.strip() for s in args.labels.split(",")]
        if len(labels) != len(paths) or not all(labels):
            raise UsageError(f"--labels needs {len(paths)} non-empty comma-separated labels, "
                             f"got {args.labels!r}")
    if args.bins < 1 or args.repeats < 1 or args.regimes < 1 or args.efit_max < 1:
        raise UsageError("--bins, --repeats, --regimes and --efit-max must be >= 1")
    pops = load_populations(paths, labels)
    index = build_report(pops, args.out, normalize=args.normalize, bins=args.bins, seed=args.seed,
                         repeats=args.repeats, efit_max=args.efit_max, regimes=args.regimes,
                         sources=[str(p) for p in paths],
                         **({"title": args.title} if args.title else {}))
    n_ok = {k: int((v["status"] == "ok").sum()) for k, v in pops.items()}
    print(f"wrote {index} ({', '.join(f'{k}: {n} ok of {len(pops[k])}' for k, n in n_ok.items())})")
    return 0


def run(args) -> int:
    return report(args.populations, args)


def register(sub) -> None:
    p = sub.add_parser(
        "compare", help="compare populations: EDFs, search efficiency, bootstrap, e_fit (HTML)",
        description="Compare population tables (from `export` or `nni-export`) in a "
                    "self-contained HTML report: OUT/index.html with the figures embedded, plus "
                    "the PNGs. Only rows with status ok are analysed; errors must be fractions "
                    "in [0, 1].")
    p.add_argument("populations", nargs="+", metavar="POP",
                   help="population table (.csv, .csv.gz, .parquet)")
    add_report_options(p)
    p.set_defaults(func=run)
