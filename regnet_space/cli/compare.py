"""``regnet-space compare``: an HTML report comparing population tables."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..errors import ConfigError
from ..files import MAX_SEED, check_int
from .common import UsageError


def add_table_argument(p: argparse.ArgumentParser, *, several: bool = False) -> None:
    """The population table(s), the same way in compare, analyze and bench-search: positional
    POP, or ``--table POP`` (repeatable where several are taken)."""
    what = "population table (.csv, .csv.gz, .parquet)"
    p.add_argument("populations", nargs="*" if several else "?", metavar="POP",
                   help=what + ("; one or more" if several else "") + "; only status ok rows "
                   "are used")
    if several:
        p.add_argument("--table", dest="tables", action="append", default=[], metavar="POP",
                       help="the same, as an option (repeatable)")
    else:  # given twice, the last one counts (as any option)
        p.add_argument("--table", dest="tables", metavar="POP", help="the same, as an option")


def tables_of(args, *, one: bool = False) -> list[str]:
    """The tables given positionally and with --table; a UsageError when none (or, with
    ``one``, more than one) is given."""
    got = list(args.populations if isinstance(args.populations, list) else
               ([args.populations] if args.populations else []))
    got += [args.tables] if isinstance(args.tables, str) else list(args.tables or [])
    if not got:
        raise UsageError("give a population table: POP or --table POP")
    if one and len(got) > 1:
        raise UsageError(f"give one population table, got {len(got)}: {', '.join(got)}")
    return got


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
    p.add_argument("--seed-sd", type=float, default=None, metavar="SD",
                   help="seed-noise sd of one training run, printed next to every single-model "
                   "figure (default: from the table's error_sd column when it was trained with "
                   "--seeds K, else the sd measured for the space under the default recipe)")
    p.add_argument("--force", action="store_true", help="overwrite an existing report in --out")


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
    for flag, value, high in (("--bins", args.bins, 1000), ("--repeats", args.repeats, 10**7),
                              ("--regimes", args.regimes, 100), ("--efit-max", args.efit_max, 10**6),
                              ("--seed", args.seed, MAX_SEED)):
        try:
            check_int(value, flag, 0 if flag == "--seed" else 1, high)
        except ConfigError as e:
            raise UsageError(str(e)) from None
    sd = getattr(args, "seed_sd", None)
    if sd is not None and not 0 <= sd < 1:
        raise UsageError(f"--seed-sd must be a fraction in [0, 1), got {sd:g}")
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out} exists and is not a folder; name a folder (it is created "
                         "if missing)")
    if (out / "index.html").exists() and not args.force:
        raise UsageError(f"{out / 'index.html'} exists; pass --force to overwrite the report")
    pops = load_populations(paths, labels)
    index = build_report(pops, args.out, normalize=args.normalize, bins=args.bins, seed=args.seed,
                         repeats=args.repeats, efit_max=args.efit_max, regimes=args.regimes,
                         sources=[str(p) for p in paths], seed_sd=sd,
                         **({"title": args.title} if args.title else {}))
    n_ok = {k: int((v["status"] == "ok").sum()) for k, v in pops.items()}
    print(f"wrote {index} ({', '.join(f'{k}: {n} ok of {len(pops[k])}' for k, n in n_ok.items())})")
    return 0


def run(args) -> int:
    return report(tables_of(args), args)


def register(sub) -> None:
    p = sub.add_parser(
        "compare", help="compare populations: EDFs, search efficiency, bootstrap, e_fit (HTML)",
        description="Compare population tables (from `export` or `nni-export`) in a "
                    "self-contained HTML report: OUT/index.html with the figures embedded, plus "
                    "the PNGs. Only rows with status ok are analysed; errors must be fractions "
                    "in [0, 1].")
    add_table_argument(p, several=True)
    add_report_options(p)
    p.set_defaults(func=run)
