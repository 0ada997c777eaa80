"""``regnet-space nni-export``: an NNI experiment's results as a population table."""

from __future__ import annotations

import sys

from .common import UsageError


def run(args) -> int:
    from ..analysis.table import write_population
    from ..errors import ConfigError
    from ..files import check_target
    from ..search.nni import export_population

    try:
        check_target(args.out, force=args.force)
    except ConfigError as e:
        raise UsageError(str(e)) from None
    df = export_population(args.experiment_id, args.experiment_dir)
    try:
        path = write_population(df, args.out)
    except OSError as e:  # a full disk, no permission: the previous file is kept as it was
        raise UsageError(f"cannot write {args.out}: {e.strerror or e}; nothing was changed") \
            from None
    counts = df["status"].value_counts().to_dict() if len(df) else {}
    parts = ", ".join(f"{v} {k}" for k, v in sorted(counts.items()))
    running = df.attrs.get("running", 0)
    extra = f"; {running} still running, left out" if running else ""
    print(f"wrote {len(df)} rows ({parts or 'none'}{extra}) to {path}")
    if "consistent" in df and (df["consistent"] == False).any():  # noqa: E712
        bad = df.loc[df["consistent"] == False, "parameter_id"].tolist()  # noqa: E712
        print(f"warning: parameter ids {bad}: the echoed configuration differs from the "
              f"parameters joined by id; the echoed one was kept", file=sys.stderr)
    return 0


def register(sub) -> None:
    p = sub.add_parser(
        "nni-export", help="write an NNI experiment's results as a population table",
        description="Read an NNI experiment's sqlite database (running or stopped) and write the "
        "population table. Results are joined to parameters by parameter id (NNI 3.0 can pair "
        "them wrongly when trials run concurrently), and the configuration each trial echoed is "
        "checked against them.")
    p.add_argument("experiment_id", help="NNI experiment id (as `nnictl create` printed it)")
    p.add_argument("--out", required=True, metavar="FILE",
                   help="output table (.csv, .csv.gz or .parquet)")
    p.add_argument("--experiment-dir", metavar="DIR", help="the experiment's experimentWorkingDirectory "
                   "(default ~/nni-experiments), or the experiment's own folder")
    p.add_argument("--force", action="store_true", help="overwrite an existing --out file")
    p.set_defaults(func=run)
