"""``regnet-space sweep`` and ``regnet-space export``: persistent, resumable, multi-worker Optuna
sweeps of a design space under a complexity budget, and their population tables.

    regnet-space sweep --space regnetx --flops 2M:6M --n 100 --sampler tpe \\
        --data fashion-mnist --train-size 5000 --epochs 1
    regnet-space export --study regnetx-28px-flops-2.0M-6.0M --out pop.csv

The study lives in ``--storage`` (default ``sqlite:///regnet-space.db`` in the working
directory). Rerunning the same command resumes it: finished trials are kept, a trial whose worker
died is retried with the same parameters, and ``--n`` is the study's total. Several workers
(processes, or machines with ``--storage postgresql://...``) can run the same command at once.
The complexity budget is counted at the data's resolution (28x28 for Fashion-MNIST).
"""

from __future__ import annotations

import argparse
import sys

from .train import add_train_arguments, data_from_args, settings_from_args

DEFAULT_STORAGE = "sqlite:///regnet-space.db"
#: Recipe fields that must match when a study resumes (hardware fields may differ per worker).
RECIPE_KEYS = ("epochs", "lr", "weight_decay", "momentum", "nesterov", "batch_size",
               "label_smoothing", "augment", "seed", "zero_init_last_bn", "preset")
DATA_KEYS = ("name", "resolution", "in_channels", "num_classes", "train_size", "val_size",
             "test_size", "eval_split", "seed", "flip", "crop_pad")
PROBE_DRAWS = 500_000


def _usage(msg: str):
    from ..cli import UsageError
    return UsageError(msg)


def _pruner(name: str):
    import optuna
    key = (name or "none").lower()
    if key == "none":
        return optuna.pruners.NopPruner()
    if key == "median":
        return optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=1)
    if key == "hyperband":
        return optuna.pruners.HyperbandPruner()
    raise _usage(f"unknown pruner {name!r}; choose none, median or hyperband")


def run_sweep(args: argparse.Namespace) -> int:
    import optuna

    from .. import optuna_space as osp
    from ..budget import Budget
    from ..spaces import BudgetError, get_space

    optuna.logging.set_verbosity(optuna.logging.WARNING)

    if args.n < 1:
        raise _usage(f"--n must be >= 1 (the study's total number of trials), got {args.n}")
    budget = Budget.parse(args.flops, args.params, args.acts)
    sampler_name = args.sampler
    seed = args.sampler_seed if args.sampler_seed is not None else (
        args.seed if args.seed is not None else 0)
    get_space(args.space)  # unknown space: fail before loading data
    settings = settings_from_args(args)
    storage = osp.open_storage(args.storage, heartbeat=args.heartbeat, grace=args.grace,
                               retry=args.max_retry)  # bad URL: fail before loading data
    data = data_from_args(args)
    space = get_space(args.space, resolution=data.resolution, in_channels=data.in_channels,
                      num_classes=data.num_classes)
    try:  # an impossible budget fails here, before any study is created or touched
        space.sample_arrays(1, seed=0, budget=budget, max_draws=PROBE_DRAWS)
    except BudgetError as e:
        raise _usage(str(e)) from None
    sampler = osp.make_sampler(sampler_name, space, budget, seed=seed)
    sdict = settings.to_dict()
    ddict = data.describe()
    meta = osp.study_meta(space, budget, osp.canonical_sampler(sampler_name), seed,
                          data={k: ddict.get(k) for k in DATA_KEYS},
                          settings={k: sdict.get(k) for k in RECIPE_KEYS})
    meta["settings_full"] = osp._jsonable(sdict)
    name = args.study or osp.default_study_name(space, budget)
    study = osp.open_study(storage, name, meta, sampler, pruner=_pruner(args.pruner))
    fn = osp.objective(space, data, settings, budget=budget, prune=args.pruner != "none")
    progress = sys.stderr.isatty() if args.progress is None else args.progress
    print(f"study {name!r} in {osp.normalize_storage(args.storage)}: {space.name} at "
          f"{space.resolution}px, {budget.describe()}, sampler {sampler_name}, {args.n} trials "
          f"in total", file=sys.stderr)
    try:
        s = osp.run_worker(study, fn, args.n, progress=progress,
                           grace=args.grace or 4 * args.heartbeat, max_failures=args.max_failures,
                           heartbeat=args.heartbeat, retry=args.max_retry)
    except osp.TooManyFailures as e:
        print(f"regnet-space sweep: {e}", file=sys.stderr)
        return 1
    best = "-" if s["best_error"] is None else f"{100 * s['best_error']:.2f}%"
    line = (f"{name}: {s['finished']} finished (ok {s['ok']}, infeasible {s['infeasible']}, "
            f"pruned {s['pruned']}); failed {s['failed']}, retried {s['dead']}; best error {best}")
    print(line)
    if s["ok"]:
        bt = study.best_trial
        print(f"best trial {bt.number}: {bt.user_attrs.get('config')}")
    print(f"export: regnet-space export --storage {osp.normalize_storage(args.storage)} "
          f"--study {name} --out pop.csv", file=sys.stderr)
    return 0


def run_export(args: argparse.Namespace) -> int:
    from .. import optuna_space as osp

    storage = osp.open_storage(args.storage, heartbeat=None)
    if args.study is None:
        names = osp.study_names(storage)
        if len(names) != 1:
            listing = ", ".join(names) if names else "none"
            raise _usage(f"give --study; studies in this storage: {listing}")
        args.study = names[0]
    study = osp.open_study(storage, args.study, None, create=False)
    df = osp.export_population(study)
    out = args.out
    try:
        from ..table import write_population
    except ImportError:  # pragma: no cover - table module absent
        write_population = None
    if out in (None, "-"):
        df.to_csv(sys.stdout, index=False)
    elif write_population is not None:
        write_population(df, out)
    else:  # pragma: no cover
        df.to_csv(out, index=False)
    if out not in (None, "-"):
        counts = df["status"].value_counts().to_dict() if len(df) else {}
        print(f"{len(df)} trials of study {args.study!r} -> {out} "
              f"({', '.join(f'{k} {v}' for k, v in sorted(counts.items())) or 'empty'})",
              file=sys.stderr)
    return 0


def register(sub) -> None:
    p = sub.add_parser(
        "sweep", help="run (or resume) an Optuna study of a design space under a budget",
        description=__doc__.split("\n\n")[0] + " Rerunning the same command resumes the study; "
        "several workers may run it at once on one storage.")
    g = p.add_argument_group("search")
    g.add_argument("--space", default="regnetx", help="design space (see `regnet-space spaces`)")
    g.add_argument("--flops", help="flops budget LOW:HIGH at the data's resolution, e.g. 2M:6M")
    g.add_argument("--params", help="parameter budget LOW:HIGH")
    g.add_argument("--acts", help="activation budget LOW:HIGH")
    g.add_argument("--n", type=int, default=100, help="trials in the study in total, over all "
                   "workers and restarts (default 100); infeasible ones count")
    g.add_argument("--sampler", default="design", choices=("design", "random", "tpe", "cmaes",
                   "gp", "nsga2", "qmc"), help="design: the paper's distribution with exact "
                   "budget rejection (default); others: Optuna's, with budget constraints")
    g.add_argument("--sampler-seed", type=int, help="sampler seed (default: --seed, else 0)")
    g.add_argument("--pruner", default="none", help="none (default), median or hyperband: "
                   "stop poor trials early (their errors are then not comparable)")
    s = p.add_argument_group("storage")
    s.add_argument("--storage", default=DEFAULT_STORAGE, help="sqlite:///file.db (default "
                   f"{DEFAULT_STORAGE}), postgresql://user:pass@host/db, or journal:FILE / "
                   "FILE.journal for a journal file")
    s.add_argument("--study", help="study name (default: from the space and budget)")
    s.add_argument("--heartbeat", type=int, default=30, help="seconds between a running trial's "
                   "heartbeats (RDB storages; default 30)")
    s.add_argument("--grace", type=int, help="a running trial without heartbeat for this long "
                   "is retried (default 4 x heartbeat); dead workers on this host are detected "
                   "at once")
    s.add_argument("--max-retry", type=int, default=3, help="retries of a dead worker's trial")
    s.add_argument("--max-failures", type=int, default=20, help="stop this worker after this "
                   "many failed evaluations (default 20)")
    s.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                   help="progress bar (default: when stderr is a terminal)")
    add_train_arguments(p)
    p.set_defaults(func=run_sweep)

    e = sub.add_parser("export", help="write an Optuna study as a population table",
                       description="One row per trial (ok, infeasible, pruned, failed) with the "
                       "sampled parameters, the NetConfig JSON, flops/params/acts, error (%), "
                       "status and timings.")
    e.add_argument("--storage", default=DEFAULT_STORAGE, help=f"default {DEFAULT_STORAGE}")
    e.add_argument("--study", help="study name (default: the only study in the storage)")
    e.add_argument("--out", default="-", help="output .csv, .csv.gz or .parquet (default: CSV "
                   "on stdout)")
    e.set_defaults(func=run_export)

