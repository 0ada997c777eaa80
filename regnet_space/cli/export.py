"""``regnet-space export``: an Optuna study as a population table."""

from __future__ import annotations

import sys

from .common import UsageError
from .sweep import DEFAULT_STORAGE


def run(args) -> int:
    from ..analysis.table import write_population
    from ..search import optuna as so

    storage = so.open_storage(args.storage, heartbeat=None)
    if args.study is None:
        names = so.study_names(storage)
        if len(names) != 1:
            listing = ", ".join(names) if names else "none"
            raise UsageError(f"give --study; studies in this storage: {listing}")
        args.study = names[0]
    study = so.open_study(storage, args.study, None, create=False)
    df = so.export_population(study)
    if args.out in (None, "-"):
        df.to_csv(sys.stdout, index=False)
        return 0
    write_population(df, args.out)
    counts = df["status"].value_counts().to_dict() if len(df) else {}
    print(f"{len(df)} trials of study {args.study!r} -> {args.out} "
          f"({', '.join(f'{k} {v}' for k, v in sorted(counts.items())) or 'empty'})",
          file=sys.stderr)
    return 0


def register(sub) -> None:
    e = sub.add_parser("export", help="write an Optuna study as a population table",
                       description="Write an Optuna study (from `regnet-space sweep`) as a "
                       "population table: one row per trial (ok, infeasible, pruned, failed) "
                       "with the sampled parameters, the config JSON, flops, params, acts, the "
                       "test error (a fraction in [0, 1]), status and timings.")
    e.add_argument("--storage", default=DEFAULT_STORAGE, metavar="URL", help="the study storage "
                   f"`regnet-space sweep` used (default {DEFAULT_STORAGE})")
    e.add_argument("--study", help="study name (default: the only study in the storage)")
    e.add_argument("--out", default="-", metavar="FILE", help="output .csv, .csv.gz or .parquet (default: CSV "
                   "on stdout)")
    e.set_defaults(func=run)
