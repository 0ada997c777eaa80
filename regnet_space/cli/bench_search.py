"""``regnet-space bench-search``: benchmark Optuna samplers against a population table."""

from __future__ import annotations


def register(sub) -> None:
    from ..bench.runs import ALGORITHMS, DEFAULT_ALGORITHMS
    from .compare import add_table_argument
    from .flags import alias

    p = sub.add_parser(
        "bench-search", help="benchmark search algorithms on a population table (tabular oracle)",
        description="Run Optuna samplers against a tabular benchmark built from a population "
                    "table. The truth of an architecture is its seed mean in the table (else a "
                    "surrogate's prediction of it); a query answers one recorded seed, or the "
                    "truth plus the measured seed noise (--noise none: the truth), as a learning "
                    "curve with a simulated cost per epoch, so pruners (hyperband, bohb) and "
                    "--workers N asynchronous workers run in simulated time. Incumbents are "
                    "chosen by the answers and scored by the truth. Writes the summary, curves "
                    "against evaluations and simulated time, traces, a Friedman/critical-"
                    "difference table and diagram, average ranks, benchmark.json (answer "
                    "sources, noise, curve and cost models, the surrogate's held-out fidelity) "
                    "and, with --objectives error,<cost>, hypervolume; prints the summary.",
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
    p.add_argument("--noise", choices=("seed", "none"), default="seed",
                   help="what a query answers: seed (default: one of the architecture's recorded "
                        "seeds, chosen by the benchmark's generator, or the truth plus the "
                        "measured seed noise when the table holds fewer than 2) or none (the "
                        "seed mean). Scores are always taken on the truth (seed means)")
    p.add_argument("--seed-sd", type=float, default=None, metavar="SD",
                   help="seed sd of one run for the noise model when the table has too few "
                        "repeated seeds (default: the published measurement for the space)")
    p.add_argument("--workers", type=int, default=1, metavar="N",
                   help="simulated asynchronous workers (default 1); evaluations finish in "
                        "simulated-time order from the fitted cost per epoch")
    p.add_argument("--objectives", default="error", metavar="LIST",
                   help="error (default) or error,params / error,flops / error,acts: a "
                        "two-objective search scored by hypervolume (random, design, qmc, tpe, "
                        "nsga2, gp)")
    p.add_argument("--curves", default="auto", metavar="PATH",
                   help="per-epoch curve table of --table (default: NAME.curves.csv beside it "
                        "when it exists; 'none' for none)")
    p.add_argument("--curves-from", default=None, metavar="TABLE",
                   help="fit the epoch-to-final curve gaps on this table's curves (same recipe) "
                        "when --table has none, so hyperband and bohb can prune")
    p.add_argument("--holdout", default=None, metavar="TABLE",
                   help="architectures the surrogate never saw, each with 2+ seeds (e.g. "
                        "results/bench/noise_regnetx.csv): report its rank correlation with "
                        "their seed means next to the ceiling their noise allows")
    p.add_argument("--jobs", type=int, default=1, metavar="N",
                   help="worker processes (default 1; results do not depend on it)")
    p.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    p.add_argument("--force", action="store_true", help="overwrite earlier outputs in --out")
    p.set_defaults(func=run)


def _seeds(oracle) -> str:
    counts = {}
    for k in oracle.seeds_per_arch:
        counts[int(k)] = counts.get(int(k), 0) + 1
    return ", ".join(f"{n} with {k}" for k, n in sorted(counts.items()))


def run(args) -> int:
    import sys

    import numpy as np

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
        from ..bench.outputs import OUTPUT_FILES

        for name in OUTPUT_FILES:
            check_target(out / name, force=args.force, root=out)
        check_int(args.workers, "--workers", 1, 1024)
        if args.seed_sd is not None and not 0 <= args.seed_sd < 1:
            raise ConfigError(f"--seed-sd must be a fraction in [0, 1), got {args.seed_sd}")
        from ..bench.simulate import parse_objectives

        objectives = parse_objectives(args.objectives)
    except ConfigError as e:
        raise UsageError(str(e)) from None
    from ..bench.runs import parse_algorithms
    from ..budget import Budget

    # a bad name fails before the table is read
    algos = parse_algorithms(args.algos, multi=len(objectives) > 1)
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
    curve_model = cost_model = None
    if args.curves_from:
        from ..bench.truth import CurveModel

        donor = TabularOracle.from_table(args.curves_from, args.space)
        if donor.curves is None:
            raise UsageError(f"--curves-from {args.curves_from} has no per-epoch curves")
        curve_model = CurveModel(donor.curve_model.gaps, donor.curve_model.runs,
                                 f"fitted on {donor.curve_model.runs} runs of {args.curves_from}")
        cost_model = donor.cost_model
    curves = None if str(args.curves).lower() == "none" else args.curves
    oracle = TabularOracle.from_table(args.table, args.space, flops=args.flops, curves=curves,
                                      seed_sd=args.seed_sd, curve_model=curve_model)
    if cost_model is not None and not (oracle.cost_model.r2 >= cost_model.r2):
        oracle.use_cost_model(cost_model)  # the same recipe's epoch times, better measured
    algos = parse_algorithms(algos, epochs=oracle.epochs, multi=len(objectives) > 1)
    holdout = None
    if args.holdout:
        holdout = oracle.holdout_fidelity(args.holdout)
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
    print(f"truth and noise: objective {oracle.objective}; seeds per architecture "
          f"{_seeds(oracle)}; "
          f"answers --noise {args.noise}: {oracle.noise_model.describe()}")
    print(f"fidelity: {oracle.epochs} epoch(s), curves: {oracle.curve_model.source}; "
          f"cost: {oracle.cost_model.describe()}")
    if holdout is not None:
        print(f"surrogate on {holdout['n']} held-out architectures ({holdout['seeds']:g} seeds "
              f"each): Spearman {holdout['spearman']:.2f} [{holdout['spearman_lo']:.2f}, "
              f"{holdout['spearman_hi']:.2f}] against their seed means; ceiling "
              f"{holdout['ceiling']:.2f} from their seed noise")
    total = len(algos) * len(encodings) * args.seeds
    done = [0]

    def progress(algo: str, seed: int, sec: float) -> None:
        done[0] += 1
        if not args.quiet:
            print(f"[{done[0]}/{total}] {algo} seed {seed}: {sec:.2f} s", file=sys.stderr,
                  flush=True)

    result = run_benchmark(oracle, algos, seeds=args.seeds, budget=args.budget, top=args.top,
                           jobs=args.jobs, progress=progress, encodings=encodings,
                           reference=args.reference, noise=args.noise, workers=args.workers,
                           objectives=objectives)
    if holdout is not None:
        result.info["surrogate_holdout"] = {"table": str(args.holdout), **holdout}
    paths = write_outputs(result, args.out)
    print(f"{len(algos)} algorithms x {len(encodings)} encoding(s) x {args.seeds} seeds x "
          f"{args.budget} evaluations; "
          f"reference {args.reference}: top {args.top * 100:g}% threshold "
          f"{result.threshold:.4g}, min {result.pop_min:.4g}, median {result.pop_median:.4g}")
    print(result.format_summary())
    src = result.answer_sources()
    print("answer sources: " + ", ".join(f"{k} {v:.1%}" for k, v in src.items()))
    print("wrote " + ", ".join(str(p) for p in paths.values()))
    return 0
