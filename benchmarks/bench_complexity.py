"""Configs/s of the vectorised complexity against a per-config Python loop and instantiate-and-count.

All three run in this process on the same configurations, so the printed ratios are robust to a
noisy machine. Usage:

    python benchmarks/bench_complexity.py [--n 200000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from regnet_space.complexity import complexity, complexity_arrays
from regnet_space.spaces import get_space


def best_time(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--n", type=int, default=200_000, help="configs for the vectorised count")
    ap.add_argument("--loop-n", type=int, default=2_000, help="configs for the Python loop")
    ap.add_argument("--torch-n", type=int, default=5, help="models for FlopCounterMode")
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()

    space = get_space("anynetx_a")
    rng = np.random.default_rng(0)
    v = space.draw(rng, args.n)
    ds, ws, ss, bs, gs, _ = space.stage_arrays(v)
    net = space.net_kwargs
    net.pop("block")

    t_vec = best_time(lambda: complexity_arrays(ds, ws, ss, bs, gs, block="X", **net), args.repeats)
    vec_rate = args.n / t_vec

    configs = [space.decode({k: x[i] for k, x in v.items()}) for i in range(args.loop_n)]
    t_loop = best_time(lambda: [complexity(c) for c in configs], args.repeats)
    loop_rate = args.loop_n / t_loop

    line = [f"vectorised complexity_arrays: {vec_rate:,.0f} configs/s (N={args.n:,}, AnyNetX_A, 224px)",
            f"per-config Python loop (complexity(cfg)): {loop_rate:,.0f} configs/s (N={args.loop_n:,})",
            f"ratio vectorised / loop: {vec_rate / loop_rate:,.0f}x"]
    try:
        import torch
        from torch.utils.flop_counter import FlopCounterMode

        from regnet_space.nn import build_model

        small = [c for c in configs if complexity(c).flops < 2e9][: args.torch_n]

        def torch_count():
            for c in small:
                m = build_model(c).eval()
                with torch.no_grad(), FlopCounterMode(display=False):
                    m(torch.zeros(1, 3, c.resolution, c.resolution))

        t_torch = best_time(torch_count, 1)
        torch_rate = len(small) / t_torch
        line += [f"instantiate + FlopCounterMode: {torch_rate:,.2f} configs/s (N={len(small)})",
                 f"ratio vectorised / instantiate-and-count: {vec_rate / torch_rate:,.0f}x"]
    except ImportError as e:
        line.append(f"instantiate-and-count skipped: {e}")
    print("\n".join(line))


if __name__ == "__main__":
    main()
