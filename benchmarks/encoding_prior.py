"""How the feasible encoding decodes, and how its prior differs from the paper's distribution.

For each space and regime, 10,000 points uniform over the encoding's coordinates (what a random
searcher proposes; log-uniform on log coordinates) are decoded, and compared with 10,000 samples
of the paper's distribution under the same budget (``space.sample``, the ``design`` sampler):

* feasible: decoded inside the budget and the structural constraints (the raw box, for contrast);
* as proposed / depth moved / pool: decoded at the proposed shape, after moving its depth (too
  deep or too shallow for any width), or repaired to the nearest configuration of the seeded pool;
* the prior: per parameter, the Kolmogorov-Smirnov distance between the two distributions, and
  the median of depth and flops under each.

Run:

    .venv/bin/python benchmarks/encoding_prior.py

It prints the Markdown tables recorded in docs/encodings.md.
"""

from __future__ import annotations

import time

import numpy as np

from regnet_space.spaces import get_space
from regnet_space.spaces.encoding import RawEncoding, get_encoding

CASES = [("regnetx", 28, "2M:5M"), ("anynetx_a", 28, "2M:5M"), ("anynetx_e", 28, "2M:5M"),
         ("regnetx", 224, "360M:400M"), ("anynetx_a", 224, "360M:400M"),
         ("anynetx_e", 224, "360M:400M"), ("regnetx_constrained", 224, "3G:3.4G")]
N = 10_000


def ks(a: np.ndarray, b: np.ndarray) -> float:
    """Two-sample Kolmogorov-Smirnov distance (the largest gap between the two EDFs)."""
    grid = np.union1d(a, b)
    fa = np.searchsorted(np.sort(a), grid, side="right") / len(a)
    fb = np.searchsorted(np.sort(b), grid, side="right") / len(b)
    return float(np.abs(fa - fb).max())


def depth(space, values) -> np.ndarray:
    ds, *_ = space.stage_arrays(values)
    return np.asarray(ds).sum(1)


def main() -> None:
    rates, priors = [], []
    for name, res, budget in CASES:
        space = get_space(name, resolution=res, in_channels=1 if res == 28 else 3,
                          num_classes=10 if res == 28 else 1000)
        enc = get_encoding(space, budget)
        rng = np.random.default_rng(0)
        t = time.perf_counter()
        values, repaired = enc.decode_arrays(enc.random_coords(rng, N))
        sec = time.perf_counter() - t
        f, _, _, _, feasible = space.check_arrays(values, budget)
        raw = RawEncoding(space)
        rv, _ = raw.decode_arrays(raw.random_coords(np.random.default_rng(0), N))
        *_, raw_feasible = space.check_arrays(rv, budget)
        rep = enc.last_repairs
        rates.append(f"| {name} | {res} | {budget} | {raw_feasible.mean():.2%} | "
                     f"{feasible.mean():.2%} | {1 - repaired.mean():.1%} | "
                     f"{rep['depth'] / N:.1%} | {rep['pool'] / N:.1%} | {N / sec:,.0f} |")
        paper = space.sample_arrays(N, seed=0, budget=budget, max_draws=100_000_000)
        dists = sorted(((ks(np.asarray(values[p.name], float),
                            np.asarray(paper.values[p.name], float)), p.name)
                        for p in space.params), reverse=True)
        worst = ", ".join(f"{n} {d:.2f}" for d, n in dists[:3])
        priors.append(f"| {name} | {res} | {budget} | {worst} | "
                      f"{np.median(depth(space, values)):.0f} / "
                      f"{np.median(depth(space, paper.values)):.0f} | "
                      f"{np.median(f) / 1e6:.2f} / {np.median(paper.flops) / 1e6:.2f} |")
    print("| space | px | budget | raw box feasible | feasible | as proposed | depth moved | "
          "pool | decodes/s |")
    print("|---|---|---|---|---|---|---|---|---|")
    print("\n".join(rates))
    print("\n| space | px | budget | largest KS distances to the paper's distribution | "
          "median depth (encoding / paper) | median MF (encoding / paper) |")
    print("|---|---|---|---|---|---|")
    print("\n".join(priors))


if __name__ == "__main__":
    main()
