"""Accepted samples/s and acceptance rates of budget sampling in the paper's 360-400MF regime.

Reports, per space, accepted configurations per second as arrays (``sample_arrays``) and as
NetConfig objects (``sample``), the acceptance rate, and the ratio to AnyNetX_A in the same process.

    python benchmarks/bench_sampling.py [--n 20000]
"""

from __future__ import annotations

import argparse
import time

from regnet_space.spaces import get_space


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--n", type=int, default=20_000)
    ap.add_argument("--n-objects", type=int, default=2_000)
    ap.add_argument("--flops", default="360M:400M")
    ap.add_argument("--spaces", default="anynetx_a,anynetx_c,anynetx_e,regnetx,regnety,regnetx_constrained")
    args = ap.parse_args()
    base = None
    print(f"{'space':22s} {'arrays/s':>10s} {'objects/s':>10s} {'acceptance':>10s} {'vs A':>6s}")
    for name in args.spaces.split(","):
        space = get_space(name)
        space.sample_arrays(10, seed=99, flops=args.flops)  # warm-up
        t = time.perf_counter()
        batch = space.sample_arrays(args.n, seed=0, flops=args.flops)
        rate = args.n / (time.perf_counter() - t)
        t = time.perf_counter()
        space.sample(args.n_objects, seed=1, flops=args.flops)
        obj_rate = args.n_objects / (time.perf_counter() - t)
        base = base or rate
        print(f"{name:22s} {rate:10,.0f} {obj_rate:10,.0f} {batch.acceptance:10.2e} {rate / base:6.2f}")


if __name__ == "__main__":
    main()
