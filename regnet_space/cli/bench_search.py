"""``regnet-space bench-search``: benchmark Optuna samplers against a population table."""

from __future__ import annotations


def register(sub) -> None:
    from ..bench.runs import ALGORITHMS, DEFAULT_ALGORITHMS
    from .compare import add_table_argument
    from .flags import alias

    p = sub.add_parser(
        "bench-search", help="benchmark search algorithms on a population table (tabular oracle)",
        description="Run Optuna samplers against a tabular oracle built from a population table: "
                    "a proposed configuration is answered with the table's error (exact match, "
                    "else the same architecture, else the nearest row in the normalized parameter "
                    "space, counted as a surrogate answer; infeasible proposals get the worst "
                    "error in the table). Writes best-so-far and regret curves (PNG, mean and "
                    "95% CI over seeds), summary.csv, curves.csv and traces.csv, and prints the "
                    "summary.",
    )
    add_table_argument(p)
    p.add_argument("--sampler", dest="algos", default=",".join(DEFAULT_ALGORITHMS),
                   metavar="NAMES",
                   help=f"comma-separated samplers, from: {', '.join(ALGORITHMS)} (default: "
                        f"{','.join(DEFAULT_ALGORITHMS)}; gp is very slow on a CPU)")
    alias(p, "--algos", dest="algos")
    p.add_argument("--encoding", default="feasible", metavar="NAMES",
                   help="what the algorithms search: feasible (default), raw, or both "
                        "(feasible,raw: every algorithm runs in each, labelled algo/encoding)")
    p.add_argument("--seeds", type=int, default=20, metavar="N",
                   help="searches per algorithm, seeds 0..N-1 (default 20)")
    p.add_argument("--trials", dest="budget", type=int, default=64, metavar="N",
                   help="evaluations per search, >= 2 (default 64)")
    alias(p, "--budget", dest="budget", type=int)
    p.add_argument("--out", default="out/bench-search", metavar="DIR",
                   help="output folder (default: out/bench-search)")
    p.add_argument("--space", default=None,
                   help="design space of the table (default: the table's space column, which "
                   "regnet-space export writes)")
    p.add_argument("--flops", default=None, metavar="LOW:HIGH",
                   help="feasible flops range, e.g. 360M:400M; it must be reachable in the "
                        "space (default: the range of the table's ok rows)")
    p.add_argument("--top", type=float, default=0.05,
                   help="fraction defining the population's top for evaluations-to-top "
                        "(default 0.05)")
    p.add_argument("--reference", choices=("landscape", "table"), default="landscape",
                   help="what regret and the top-fraction threshold are measured against: "
                        "landscape (default: the benchmark's answers to 2,000 draws of the "
                        "paper's distribution in budget, which searchers can reach) or table "
                        "(the trained rows themselves)")
    p.add_argument("--jobs", type=int, default=1, metavar="N",
                   help="worker processes (default 1; results do not depend on it)")
    p.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    p.add_argument("--force", action="store_true", help="overwrite earlier outputs in --out")
    p.set_defaults(func=run)


def run(args) -> int:
    import sys

    from ..errors import require
    from .common import UsageError
    from .compare import tables_of

    if args.seeds < 1:
        raise UsageError(f"--seeds must be >= 1, got {args.seeds}")
    if args.budget < 2:
        raise UsageError(f"--trials/--budget must be >= 2, got {args.budget}")
    if args.jobs < 1:
        raise UsageError(f"--jobs must be >= 1, got {args.jobs}")
    if not 0 < args.top <= 1:
        raise UsageError(f"--top must be a fraction in (0, 1], got {args.top}")
    from pathlib import Path

    from ..errors import ConfigError
    from ..files import check_int, check_target

    try:  # absurd sizes fail here, not after minutes of searching
        check_int(args.seeds, "--seeds", 1, 10_000)
        check_int(args.budget, "--trials/--budget", 2, 1_000_000)
        check_int(args.jobs, "--jobs", 1, 1024)
        out = Path(args.out)
        if out.exists() and not out.is_dir():
            raise ConfigError(f"--out {out} exists and is not a folder; name a folder")
        for name in ("summary.csv", "curves.csv", "traces.csv", "best_so_far.png", "regret.png"):
            check_target(out / name, force=args.force, root=out)
    except ConfigError as e:
        raise UsageError(str(e)) from None
    from ..bench.runs import parse_algorithms
    from ..budget import Budget

    algos = parse_algorithms(args.algos)  # a bad name fails before the table is read
    encodings = [e.strip() for e in str(args.encoding).split(",") if e.strip()]
    if not encodings or any(e not in ("feasible", "raw") for e in encodings):
        raise UsageError(f"--encoding must be feasible, raw or feasible,raw, got "
                         f"{args.encoding!r}")
    budget = Budget.parse(flops=args.flops)  # so does a bad or empty --flops
    require("optuna", pip="'regnet-space[optuna]'", purpose="bench-search")
    from ..bench.oracle import TabularOracle
    from ..bench.outputs import write_outputs
    from ..bench.runs import run_benchmark

    (args.table,) = tables_of(args, one=True)
    oracle = TabularOracle.from_table(args.table, args.space, flops=args.flops)
    if args.flops is not None:
        # a range the space never reaches would make every proposal infeasible: a useless run
        from ..budget import fmt_amount
        from ..errors import BudgetError

        sp = oracle.space
        try:
            sp.sample_arrays(1, seed=0, budget=budget, max_draws=500_000)
        except BudgetError:
            raise UsageError(
                f"--flops {args.flops} is out of reach: no configuration of space {sp.name} at "
                f"{sp.resolution}px met it in 500,000 draws; the table's ok rows span "
                f"{fmt_amount(oracle.row_flops.min())}..{fmt_amount(oracle.row_flops.max())} "
                "flops") from None
    print(f"oracle: {oracle.describe()}")
    total = len(algos) * len(encodings) * args.seeds
    done = [0]

    def progress(algo: str, seed: int, sec: float) -> None:
        done[0] += 1
        if not args.quiet:
            print(f"[{done[0]}/{total}] {algo} seed {seed}: {sec:.2f} s", file=sys.stderr,
                  flush=True)

    result = run_benchmark(oracle, algos, seeds=args.seeds, budget=args.budget, top=args.top,
                           jobs=args.jobs, progress=progress, encodings=encodings,
                           reference=args.reference)
    paths = write_outputs(result, args.out)
    print(f"{len(algos)} algorithms x {len(encodings)} encoding(s) x {args.seeds} seeds x "
          f"{args.budget} evaluations; "
          f"reference {args.reference}: top {args.top * 100:g}% threshold "
          f"{result.threshold:.4g}, min {result.pop_min:.4g}, median {result.pop_median:.4g}")
    print(result.format_summary())
    print("wrote " + ", ".join(str(p) for p in paths.values()))
    return 0
