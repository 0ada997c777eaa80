"""Hot paths before and after issue 17, as ratios measured in one process.

1. ``suggest(trial, space, budget)`` per trial: the encoding rebuilt every call (before), the
   cached encoding (after), and an encoding built once by hand (the target: after within 1.5x).
2. ``complexity_arrays`` configs/s at N = 1e3 .. 1e6: one pass over all rows (before) against
   8,192-row chunks (after; 2,048..65,536 measured, 4,096..8,192 best at 1e6).
3. ``regnetx`` sampling of n = 100,000 in the paper's 360-400 MF regime: the old fixed
   20,000,000-draw limit (before: fails) against the default limit that grows with n and the
   acceptance (after).

Usage:

    .venv/bin/python benchmarks/bench_hotpath.py [--trials 20] [--max-n 1000000] [--skip-sampling]
"""

from __future__ import annotations

import argparse
import time

import numpy as np


from bench_complexity import best_time  # noqa: E402  (one timing helper for the benchmarks)


def bench_suggest(trials: int) -> None:
    import optuna

    from regnet_space.search.optuna import encoding as enc_mod
    from regnet_space.spaces import get_space
    from regnet_space.spaces.encoding import get_encoding

    optuna.logging.set_verbosity(optuna.logging.ERROR)
    space = get_space("regnetx", resolution=28, in_channels=1, num_classes=10)

    def per_trial(fn) -> float:
        study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
        t = time.perf_counter()
        for _ in range(trials):
            trial = study.ask()
            fn(trial)
            study.tell(trial, 0.5)
        return (time.perf_counter() - t) / trials

    def rebuilt(trial):  # what suggest did before: a new encoding (and repair pool) per call
        enc_mod.suggest(trial, get_encoding(space, "2M:5M"))

    once = get_encoding(space, "2M:5M")
    once._pool  # noqa: B018 -- built up front, as a user holding the encoding would have it
    before = per_trial(rebuilt)
    enc_mod.suggest(optuna.create_study().ask(), space, "2M:5M")  # fills the cache
    after = per_trial(lambda trial: enc_mod.suggest(trial, space, "2M:5M"))
    target = per_trial(lambda trial: enc_mod.suggest(trial, once))
    print(f"suggest(trial, space, '2M:5M') per trial, {trials} trials (regnetx at 28 px):")
    print(f"  rebuilt each call (before) {before * 1e3:8.2f} ms")
    print(f"  cached (after)             {after * 1e3:8.2f} ms   before / after = "
          f"{before / after:.1f}x")
    print(f"  encoding built once        {target * 1e3:8.2f} ms   after / once = "
          f"{after / target:.2f}x (target <= 1.5x)")


def bench_complexity(max_n: int, repeats: int) -> None:
    import importlib

    from regnet_space.spaces import get_space

    cx = importlib.import_module("regnet_space.complexity")  # the module, not the function
    space = get_space("anynetx_a")
    rng = np.random.default_rng(0)
    v = space.draw(rng, max_n)
    ds, ws, ss, bs, gs, _ = space.stage_arrays(v)
    net = space.net_kwargs
    net.pop("block")
    chunk = cx.CHUNK_ROWS
    print(f"complexity_arrays configs/s (AnyNetX_A at 224 px), one pass vs {chunk}-row chunks:")
    n = 1000
    while n <= max_n:
        args = (ds[:n], ws[:n], ss[:n], bs[:n], gs[:n])
        try:
            cx.CHUNK_ROWS = 1 << 62  # before: every row at once
            t_before = best_time(lambda: cx.complexity_arrays(*args, block="X", **net), repeats)
        finally:
            cx.CHUNK_ROWS = chunk
        t_after = best_time(lambda: cx.complexity_arrays(*args, block="X", **net), repeats)
        print(f"  N = {n:>9,}: before {n / t_before:>12,.0f}/s, after {n / t_after:>12,.0f}/s, "
              f"after / before = {t_before / t_after:.2f}x")
        n *= 10


def bench_sampling(n: int) -> None:
    from regnet_space.errors import BudgetError
    from regnet_space.spaces import get_space

    space = get_space("regnetx")
    t = time.perf_counter()
    try:
        space.sample_arrays(n, seed=0, flops="360M:400M", max_draws=20_000_000)
        before = f"ok in {time.perf_counter() - t:.1f} s"
    except BudgetError as e:
        before = f"fails after {time.perf_counter() - t:.1f} s ({str(e)[:60]}...)"
    t = time.perf_counter()
    b = space.sample_arrays(n, seed=0, flops="360M:400M")
    after = time.perf_counter() - t
    print(f"regnetx sample_arrays(n={n:,}, flops 360M:400M):")
    print(f"  fixed 20,000,000-draw limit (before): {before}")
    print(f"  default limit (after): {len(b):,} samples in {after:.1f} s, {b.draws:,} draws, "
          f"acceptance {b.acceptance:.2e}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--trials", type=int, default=20)
    ap.add_argument("--max-n", type=int, default=1_000_000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--sampling-n", type=int, default=100_000)
    ap.add_argument("--skip-sampling", action="store_true")
    args = ap.parse_args()
    bench_suggest(args.trials)
    bench_complexity(args.max_n, args.repeats)
    if not args.skip_sampling:
        bench_sampling(args.sampling_n)


if __name__ == "__main__":
    main()
