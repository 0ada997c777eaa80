"""Searches per minute of each ``bench-search`` algorithm against a tabular oracle.

Builds a synthetic population (real samples of the space, a smooth synthetic error; see
``regnet_space.bench.synthetic_population``) of ``--rows`` rows, then times ``--seeds`` searches
of ``--budget`` evaluations per algorithm in this process, and prints searches per minute and the
ratio to the plain random sampler measured in the same process. Rates are given from wall time and
from the process's CPU time (what one idle core would take: the searches are single-threaded, so
CPU time is the honest figure on a shared, loaded machine). Also times the oracle alone (one
answer, memo disabled) to show where the time goes, and optionally the whole default benchmark
with ``--jobs`` worker processes.

    python benchmarks/bench_search_speed.py [--space regnetx] [--rows 500] [--trials 64]
        [--seeds 5] [--sampler random,design,tpe,cmaes,nsga2,qmc] [--jobs 2]
"""

from __future__ import annotations

import argparse
import platform
import time

import numpy as np

from regnet_space import bench
from regnet_space.spaces import get_space


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--space", default="regnetx")
    ap.add_argument("--count-at", "--resolution", dest="resolution", type=int, default=32)
    ap.add_argument("--rows", type=int, default=500)
    ap.add_argument("--trials", "--budget", dest="budget", type=int, default=64)
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--sampler", "--algos", dest="algos", default=",".join(bench.DEFAULT_ALGORITHMS))
    ap.add_argument("--jobs", type=int, default=0,
                    help="also time the whole benchmark with this many processes (0: skip)")
    args = ap.parse_args()

    import optuna
    space = get_space(args.space, resolution=args.resolution, in_channels=3, num_classes=10)
    pop = bench.synthetic_population(space, args.rows, seed=123)
    oracle = bench.TabularOracle.from_table(pop)
    print(f"optuna {optuna.__version__}, python {platform.python_version()}, "
          f"{platform.machine()}; {oracle.describe()}")

    # the oracle alone: answers to random raw draws (memo off: every answer computed)
    draws = space.draw(np.random.default_rng(0), 2000)
    points = [{k: float(v[i]) for k, v in draws.items()} for i in range(2000)]
    t, c = time.perf_counter(), time.process_time()
    for p in points:
        oracle._memo.clear()
        oracle.answer(p)
    print(f"oracle answer: {(time.perf_counter() - t) / len(points) * 1e6:.0f} us wall, "
          f"{(time.process_time() - c) / len(points) * 1e6:.0f} us cpu")

    algos = bench.parse_algorithms(args.algos)
    if "random" in algos:
        algos.remove("random")
    base = None
    print(f"\n{'algo':8s} {'wall s':>7s} {'cpu s':>7s} {'per min':>8s} {'per min':>8s} "
          f"{'vs random':>9s} {'cpu ms':>7s}")
    print(f"{'':8s} {'/search':>7s} {'/search':>7s} {'(wall)':>8s} {'(cpu)':>8s} {'(cpu)':>9s} "
          f"{'/trial':>7s}   budget {args.budget}, {args.seeds} seeds, 1 process")
    for algo in ["random"] + algos:
        bench.run_benchmark(oracle, [algo], seeds=[999], budget=8)  # warm-up (imports, caches)
        t, c = time.perf_counter(), time.process_time()
        bench.run_benchmark(oracle, [algo], seeds=args.seeds, budget=args.budget)
        wall = (time.perf_counter() - t) / args.seeds
        cpu = (time.process_time() - c) / args.seeds
        base = base or cpu
        print(f"{algo:8s} {wall:7.3f} {cpu:7.3f} {60 / wall:8.0f} {60 / cpu:8.0f} "
              f"{base / cpu:9.2f} {cpu / args.budget * 1e3:7.2f}")

    if args.jobs:
        names = ["random"] + algos
        for jobs in sorted({1, args.jobs}):
            t = time.perf_counter()
            bench.run_benchmark(oracle, names, seeds=args.seeds, budget=args.budget, jobs=jobs)
            wall = time.perf_counter() - t
            n = len(names) * args.seeds
            print(f"\nall {len(names)} algorithms x {args.seeds} seeds, jobs={jobs}: {wall:.1f} s, "
                  f"{n * 60 / wall:.0f} searches/min overall")


if __name__ == "__main__":
    main()
