"""``regnet-space export``: an Optuna study as a population table."""

from __future__ import annotations

import argparse
import sys

from ..errors import ConfigError
from ..files import check_target
from .common import UsageError, printable
from .sweep import DEFAULT_STORAGE


def run(args) -> int:
    from ..analysis.table import curves_path, write_population
    from ..search import optuna as so

    curves_out = None if args.out in (None, "-") or not args.curves else curves_path(args.out)
    if args.out not in (None, "-"):  # before the storage is read: a bad --out loses nothing
        try:
            check_target(args.out, force=args.force)
            if curves_out:
                check_target(curves_out, force=args.force)
        except ConfigError as e:
            raise UsageError(str(e)) from None
    storage = so.open_storage(args.storage, heartbeat=None, create=False)  # read-only
    if args.study is None:
        names = so.study_names(storage)
        if len(names) != 1:
            listing = ", ".join(printable(x) for x in names) if names else "none"
            raise UsageError(f"give --study; studies in this storage: {listing}")
        args.study = names[0]
    study = so.open_study(storage, args.study, None, create=False)
    df = so.export_population(study)
    if args.out in (None, "-"):
        df.to_csv(sys.stdout, index=False)
        return 0
    try:  # the curves first: if the table then fails, the previous table is kept as it was
        if curves_out:
            write_table(so.export_curves(study), curves_out)
        write_population(df, args.out)
    except OSError as e:  # a full disk, no permission: each file is replaced whole or not at all
        raise UsageError(f"cannot write {args.out}: {e.strerror or e}; the previous table is "
                         "kept as it was") from None
    counts = df["status"].value_counts().to_dict() if len(df) else {}
    print(f"{len(df)} trials of study {args.study!r} -> {args.out} "
          f"({', '.join(f'{k} {v}' for k, v in sorted(counts.items())) or 'empty'})"
          + (f"; per-epoch curves -> {curves_out}" if curves_out else ""), file=sys.stderr)
    return 0




def write_table(df, path: str) -> None:
    """A plain table (CSV, CSV.gz or parquet by suffix), written atomically."""
    from ..files import atomic_write

    if path.lower().endswith(".parquet"):
        atomic_write(path, lambda tmp: df.to_parquet(tmp, index=False))
    else:
        comp = "gzip" if path.lower().endswith(".gz") else None
        atomic_write(path, lambda tmp: df.to_csv(tmp, index=False, compression=comp))


def register(sub) -> None:
    e = sub.add_parser("export", help="write an Optuna study as a population table",
                       description="Write an Optuna study (from `regnet-space sweep`) as a "
                       "population table: one row per trial (ok, infeasible, pruned, failed) "
                       "with the sampled parameters, the config JSON, flops, params, acts, the "
                       "test error (a fraction in [0, 1]), the validation error the search "
                       "ranked by, seed sds when trained with --seeds, status and timings.")
    e.add_argument("--storage", default=DEFAULT_STORAGE, metavar="URL", help="the study storage "
                   f"`regnet-space sweep` used (default {DEFAULT_STORAGE})")
    e.add_argument("--study", help="study name (default: the only study in the storage)")
    e.add_argument("--out", default="-", metavar="FILE", help="output .csv, .csv.gz or .parquet (default: CSV "
                   "on stdout)")
    e.add_argument("--force", action="store_true", help="overwrite an existing --out file")
    e.add_argument("--curves", action=argparse.BooleanOptionalAction, default=True,
                   help="also write the per-epoch learning curves (validation error and loss, "
                   "training loss, epoch time; long format, one row per trial and epoch) beside "
                   "--out as NAME.curves.csv")
    e.set_defaults(func=run)
