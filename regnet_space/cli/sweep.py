"""``regnet-space sweep``: a persistent, resumable, multi-worker Optuna study of a design space.

    regnet-space sweep --space regnetx --flops 2M:5M --trials 100 --sampler tpe

The study lives in ``--storage`` (default ``sqlite:///regnet-space.db`` in the working
directory). Rerunning the same command resumes it: finished trials are kept, a trial whose worker
died is retried with the same parameters, and ``--trials`` (old spelling ``--n``) is the study's
total. Several workers
(processes, or machines with ``--storage postgresql://...``) can run the same command at once.
The complexity budget is counted at the data's resolution (28x28 for Fashion-MNIST).
"""

from __future__ import annotations

import argparse
import sys

from ..files import MAX_SEED
from .common import UsageError, positive, printable, shell_command
from .flags import alias
from .launch import add_launcher_options, check_launcher, launch
from .sample import add_budget_options

DEFAULT_STORAGE = "sqlite:///regnet-space.db"
#: Data-description keys that must match when a sweep resumes a study.
DATA_KEYS = ("name", "resolution", "in_channels", "num_classes", "train_size", "val_size",
             "test_size", "eval_split", "seed", "flip", "crop_pad")
PROBE_DRAWS = 500_000


def _pruner(name: str, epochs: int):
    """The study's pruner; Hyperband's brackets span 1 .. ``epochs`` (the recipe's length)."""
    import optuna

    key = (name or "none").lower()
    if key == "none":
        return optuna.pruners.NopPruner()
    if key == "median":
        return optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=1)
    if key == "hyperband":
        return optuna.pruners.HyperbandPruner(min_resource=1, max_resource=max(int(epochs), 1))
    raise UsageError(f"unknown pruner {name!r}; choose none, median or hyperband")


def _trial_line(study: str, n: int):
    """A line per finished trial on stderr, for logs (the progress bar needs a terminal)."""
    from ..budget import fmt_amount

    def line(t) -> None:
        a = t.user_attrs
        err = a.get("error", t.value if a.get("status") == "ok" else None)
        text = f"{err:.4f}" if isinstance(err, (int, float)) and err == err else "-"
        print(f"{printable(study)}: trial {t.number} of {n}: {a.get('status', t.state.name.lower())}, "
              f"error {text}, {fmt_amount(a.get('flops'))} flops, "
              f"{a.get('time_s', 0.0):.1f} s", file=sys.stderr, flush=True)

    return line


#: Concurrent trainings per GPU by default. A guess until benchmarks/gpu_check.py has measured
#: the population factory on a GPU (BENCHMARKS.md, "GPU"); then its fastest level. On the CPU
#: one worker per command (the threads share the cores).
DEFAULT_CUDA_WORKERS = 8


def workers_per_device(n: int | None, device: str) -> int:
    """Worker processes per device: ``n``, or the default for the device (CPU 1, CUDA
    :data:`DEFAULT_CUDA_WORKERS`).

    Example:
        >>> workers_per_device(None, "cpu"), workers_per_device(3, "cpu")
        (1, 3)
    """
    if n is not None:
        return n
    return DEFAULT_CUDA_WORKERS if _devices(device)[0].startswith("cuda") else 1


def _devices(device: str) -> list[str]:
    """The devices a sweep's workers spread over: every visible GPU for ``cuda``/``auto`` on a
    CUDA machine, else the one named."""
    from ..training.evaluator import resolve_device

    dev = resolve_device(device)
    if dev.type == "cuda" and dev.index is None:
        import torch

        return [f"cuda:{i}" for i in range(torch.cuda.device_count())]
    return [str(dev)]


def _spawn_workers(args: argparse.Namespace, name: str, study, device: str, n: int) -> int:
    """Run the sweep as ``n`` worker processes per device on the one study, and wait for them.

    Each worker is this same command with ``--workers-per-device 1 --device DEV``: an ordinary
    sweep worker (retries, heartbeats, the study's total), so the population factory adds no
    scheduling of its own. SIGINT and SIGTERM are passed on to the workers.
    """
    import signal
    import subprocess

    devices = _devices(device)
    argv = list(getattr(args, "argv", None) or sys.argv[1:])
    procs = []
    print(f"{name}: {n} worker(s) on each of {', '.join(devices)}", file=sys.stderr, flush=True)
    for i in range(n * len(devices)):
        cmd = [sys.executable, "-m", "regnet_space", *argv, "--workers-per-device", "1",
               "--device", devices[i % len(devices)], "--study", name]
        procs.append(subprocess.Popen(cmd))

    def forward(signum, _frame):
        for p in procs:
            if p.poll() is None:
                p.send_signal(signum)

    old = signal.signal(signal.SIGTERM, forward)
    try:
        codes = [p.wait() for p in procs]
    except KeyboardInterrupt:
        forward(signal.SIGINT, None)
        codes = [p.wait() for p in procs]
        raise
    finally:
        signal.signal(signal.SIGTERM, old)
    states = [t.state.name for t in study.get_trials(deepcopy=False)]
    print(f"{name}: {states.count('COMPLETE')} complete, {states.count('FAIL')} failed, "
          f"{states.count('RUNNING')} running; workers exited with {sorted(set(codes))}")
    return max(codes) if any(codes) else 0


def run(args: argparse.Namespace) -> int:
    import optuna

    from ..budget import Budget
    from ..errors import BudgetError
    from ..search import optuna as so
    from ..search.optuna import faults
    from ..search.registry import get_searcher
    from ..spaces import get_space
    from ..spaces.encoding import get_encoding
    from ..training.options import data_options, settings_from_options

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    positive("--trials", args.trials)
    positive("--workers-per-device", args.workers_per_device, 1, 256)
    positive("--max-retry", args.max_retry, 0, 1000)
    positive("--max-failures", args.max_failures)
    positive("--heartbeat", args.heartbeat, 1, 86_400)  # a day; more overflows the storage's clock
    positive("--grace", args.grace, 1, 7 * 86_400)
    positive("--sampler-seed", args.sampler_seed, 0, MAX_SEED)
    positive("--storage-timeout", args.storage_timeout, 0, 7 * 86_400)
    check_launcher(args, so.normalize_storage(args.storage))
    patience = faults.Patience(timeout=args.storage_timeout)
    budget = Budget.parse(args.flops, args.params, args.acts)
    searcher = get_searcher(args.sampler, "optuna")
    seed = args.sampler_seed if args.sampler_seed is not None else (
        args.seed if args.seed is not None else 0)
    get_space(args.space)  # an unknown space fails before any data is loaded
    settings = settings_from_options(args)
    from ..training.evaluator import resolve_device

    resolve_device(settings.device)  # --device cuda without CUDA fails before any trial exists
    storage = so.open_storage(args.storage, heartbeat=args.heartbeat, grace=args.grace,
                              retry=args.max_retry, patience=patience)  # before loading data
    data = data_options(args).load()
    space = get_space(args.space, resolution=data.resolution, in_channels=data.in_channels,
                      num_classes=data.num_classes)
    try:  # an impossible budget fails here, before any study is created or touched
        space.sample_arrays(1, seed=0, budget=budget, max_draws=PROBE_DRAWS)
    except BudgetError as e:
        raise UsageError(str(e)) from None
    # design draws the paper's distribution in any encoding; the raw one round-trips exactly
    name_enc = args.encoding or ("raw" if searcher.name == "design" else "feasible")
    encoding = get_encoding(space, budget, name_enc)  # one for the sampler and the objective
    sampler = so.make_sampler(searcher.name, space, budget, seed=seed, encoding=encoding)
    ddict = data.describe()
    meta = so.study_meta(space, budget, searcher.name, seed,
                         data={k: ddict.get(k) for k in DATA_KEYS}, settings=settings.recipe(),
                         encoding=encoding.name)
    meta["settings_full"] = settings.to_dict()
    name = args.study or so.default_study_name(space, budget)
    pruner = args.pruner or searcher.pruner or "none"  # hyperband and bohb bring their own
    study = so.open_study(storage, name, meta, sampler, pruner=_pruner(pruner, settings.epochs),
                          patience=patience)
    if args.launcher != "local":  # the study exists: the cluster's workers cannot race on it
        return launch(args, name, so.normalize_storage(args.storage))
    n_workers = workers_per_device(args.workers_per_device, settings.device)
    if n_workers > 1 or len(_devices(settings.device)) > 1:  # the study exists: no create race
        return _spawn_workers(args, name, study, settings.device, n_workers)
    fn = so.objective(space, data, settings, budget=budget, prune=pruner != "none",
                      encoding=encoding)
    progress = sys.stderr.isatty() if args.progress is None else args.progress
    print(f"study {name!r} in {so.redact(so.normalize_storage(args.storage))}: {space.name} at "
          f"{space.resolution}px, {budget.describe()}, sampler {searcher.name}, {args.trials} trials "
          f"in total", file=sys.stderr)
    print(f"{settings.describe()}; threads {settings.threads or 'a share of the cores'}",
          file=sys.stderr)
    try:
        with faults.terminate_on_sigterm() as term:  # preemption, time limits, scancel, kubectl
            reconnect = faults.Reconnect(patience, so.normalize_storage(args.storage),
                                         f"study {printable(name)!r}", stop=term.received)
            s = so.run_worker(study, fn, args.trials, progress=progress,
                              grace=args.grace or 4 * args.heartbeat,
                              max_failures=args.max_failures, heartbeat=args.heartbeat,
                              retry=args.max_retry, reconnect=reconnect,
                              on_trial=None if progress else _trial_line(name, args.trials))
    except so.TooManyFailures as e:
        print(f"regnet-space sweep: {e}", file=sys.stderr)
        return 1
    except faults.Terminated:
        print(f"regnet-space sweep: stopped by SIGTERM; the running trial of {printable(name)!r}"
              f" is marked for retry (rerun the command to go on)", file=sys.stderr)
        return 143
    best = "-" if s["best_error"] is None else f"{s['best_error']:.4f}"
    print(f"{printable(name)}: {s['finished']} finished (ok {s['ok']}, infeasible {s['infeasible']}, "
          f"pruned {s['pruned']}); failed {s['failed']}, retried {s['dead']}; best error {best}")
    if s["ok"]:
        bt = study.best_trial
        print(f"best trial {bt.number}: {bt.user_attrs.get('config')}")
    print("export: " + shell_command("regnet-space", "export", "--storage",
                                     so.redact(so.normalize_storage(args.storage)), "--study",
                                     name, "--out", "pop.csv"), file=sys.stderr)
    return 0


def register(sub) -> None:
    from ..search.registry import searcher_names
    from ..training.options import add_options

    p = sub.add_parser(
        "sweep", help="run (or resume) an Optuna study of a design space under a budget",
        description="Train configurations of a design space under a complexity budget in a "
        "persistent Optuna study. Rerunning the same command resumes the study; several workers "
        "(terminals or machines) may run it at once on one storage.")
    g = p.add_argument_group("search")
    g.add_argument("--space", default="regnetx", help="design space (default regnetx; list "
                   "them with `regnet-space spaces`)")
    add_budget_options(g, what="budget at the data's resolution")
    g.add_argument("--trials", type=int, default=100, metavar="N", help="trials in the study in "
                   "total, over all workers and restarts (default 100); infeasible ones count")
    alias(g, "--n", dest="trials", type=int)
    g.add_argument("--sampler", default="design", help="design (the paper's distribution with "
                   "exact budget rejection; default) or another search algorithm: "
                   + ", ".join(n for n in searcher_names("optuna") if n != "design")
                   + " (re: regularized evolution, ls: local search, hyperband: random + "
                   "Hyperband pruner, bohb: TPE + Hyperband pruner)")
    g.add_argument("--encoding", default=None, choices=("feasible", "raw"),
                   help="what the sampler searches: feasible (the default for every sampler but "
                   "design: each proposal decodes to a network inside the budget and the space's "
                   "constraints) or raw (the space's parameters as they are; most proposals are "
                   "then infeasible under a narrow budget; the default for design, which draws "
                   "the paper's distribution either way)")
    g.add_argument("--sampler-seed", type=int, metavar="N",
                   help="sampler seed, >= 0 (default: --seed, else 0)")
    g.add_argument("--pruner", default=None, help="none, median or hyperband: stop poor "
                   "trials early on their per-epoch validation error (their errors are then not "
                   "comparable); default: hyperband for --sampler hyperband and bohb, else none")
    g.add_argument("--workers-per-device", type=int, metavar="N", help="worker processes of "
                   "this sweep per device, all on the one study (default: 1 on the CPU, "
                   f"{DEFAULT_CUDA_WORKERS} per GPU, not yet measured on a GPU; every visible "
                   "GPU gets N with --device cuda)")
    s = p.add_argument_group("storage")
    s.add_argument("--storage", default=DEFAULT_STORAGE, metavar="URL", help="where the study "
                   f"lives: sqlite:///file.db (default {DEFAULT_STORAGE}), "
                   "postgresql://user:password@host/db, or journal:FILE")
    s.add_argument("--study", help="study name (default: from the space and budget)")
    s.add_argument("--heartbeat", type=int, default=30, metavar="SECONDS", help="seconds "
                   "between a running trial's heartbeats (default 30)")
    s.add_argument("--grace", type=int, metavar="SECONDS", help="a running trial without "
                   "heartbeat for this long is retried (default 4 x heartbeat); dead workers on "
                   "this host are detected at once")
    s.add_argument("--max-retry", type=int, default=3, metavar="N", help="times a trial whose "
                   "worker died is retried, >= 0 (default 3)")
    s.add_argument("--max-failures", type=int, default=20, metavar="N", help="stop this worker "
                   "after this many failed evaluations, >= 1 (default 20)")
    s.add_argument("--storage-timeout", type=int, default=300, metavar="SECONDS", help="keep "
                   "retrying a storage that went away (database restart, lost connection, gRPC "
                   "proxy down) or a SQLite file another process holds locked for this long, "
                   "with backoff and a line per retry, then give up with exit 2 (default 300; "
                   "0 gives up at once)")
    s.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                   help="progress bar (default: when stderr is a terminal; otherwise a line per "
                   "trial)")
    add_launcher_options(p)
    add_options(p)
    p.set_defaults(func=run)
