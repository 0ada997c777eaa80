"""What the benchmark's truth, noise and simulated time cost per search.

Times, in this process, one algorithm's searches against the same oracle in four modes and
prints searches per minute (from CPU time: the searches are single-threaded) and the ratio to
the first mode, the plain sequential noise-free loop (``run_search``, the harness before the
simulator):

* ``legacy``: ``run_search`` (ask, answer the seed mean, tell);
* ``seed``: ``simulate_search`` with one worker and seed noise (a recorded seed or modelled
  noise per query, a learning curve per answer);
* ``workers4``: the same with 4 simulated asynchronous workers;
* ``hyperband``: one worker with Optuna's Hyperband pruner, one event per epoch.

    python benchmarks/bench_simulator.py [--table results/regnetx.csv] [--sampler random]
        [--trials 32] [--seeds 5]
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--table", default="results/regnetx.csv")
    ap.add_argument("--sampler", default="random")
    ap.add_argument("--trials", type=int, default=32)
    ap.add_argument("--seeds", type=int, default=5)
    args = ap.parse_args()

    import optuna

    from regnet_space.bench import TabularOracle
    from regnet_space.bench.runs import answer_rng, make_sampler, run_search, sampler_seed
    from regnet_space.bench.simulate import simulate_search
    from regnet_space.search.registry import make_pruner

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    warnings.simplefilter("ignore")
    oracle = TabularOracle.from_table(args.table)
    print(f"{oracle.describe()}\n{oracle.epochs} epochs; {oracle.noise_model.describe()}")

    def legacy(seed):
        run_search(oracle, make_sampler(args.sampler, oracle, sampler_seed(seed), args.trials),
                   args.trials)

    def sim(workers, pruner=None):
        def go(seed):
            simulate_search(oracle, make_sampler(args.sampler, oracle, sampler_seed(seed),
                                                 args.trials), args.trials,
                            rng=answer_rng(seed), workers=workers,
                            pruner=make_pruner(pruner, max_resource=oracle.epochs)
                            if pruner else None)
        return go

    modes = [("legacy", legacy), ("seed", sim(1)), ("workers4", sim(4)),
             ("hyperband", sim(1, "hyperband"))]
    legacy(99)  # warm-up: encodings, memo of the first answers, imports
    base = None
    print(f"{'mode':10s} {'cpu s/search':>12s} {'searches/min':>12s} {'vs legacy':>9s}")
    for name, fn in modes:
        # every mode pays for its own answers: the same seeds propose the same points
        oracle._memo.clear()
        oracle._facts.clear()
        c = time.process_time()
        for s in range(args.seeds):
            fn(s)
        per = (time.process_time() - c) / args.seeds
        base = base or per
        print(f"{name:10s} {per:12.3f} {60 / per:12.0f} {base / per:9.2f}")


if __name__ == "__main__":
    main()
