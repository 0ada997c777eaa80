"""Scores of a search trace: top-q threshold, evaluations to reach it, regret, intervals, ranks."""

from __future__ import annotations

from ..errors import ConfigError

import math
from typing import Any, Sequence

import numpy as np


# ------------------------------------------------------------------------------ metrics
def top_threshold(errors: Sequence[float], top: float = 0.05) -> float:
    """The error of the ``ceil(top * n)``-th best of ``errors``: reaching it (``<=``) means being
    in the top ``top`` fraction.

    Example:
        >>> top_threshold(range(100), 0.05)   # the 5th best of 0..99
        4.0
    """
    e = np.sort(np.asarray(errors, dtype=float))
    if not 0 < top <= 1:
        raise ConfigError(f"top must be a fraction in (0, 1], got {top}")
    if e.size == 0:
        raise ConfigError("no errors")
    k = max(1, math.ceil(top * e.size - 1e-9))
    return float(e[k - 1])


def evals_to_threshold(trace: Sequence[float], threshold: float) -> float:
    """The 1-based index of the first evaluation whose best-so-far is <= threshold; inf if none.

    Example:
        >>> evals_to_threshold([5, 4, 3.5, 2, 1], 3.5), evals_to_threshold([5, 4], 3)
        (3, inf)
    """
    hit = np.flatnonzero(np.minimum.accumulate(np.asarray(trace, dtype=float)) <= threshold)
    return int(hit[0]) + 1 if hit.size else math.inf


def normalized_regret(best: Any, pop_min: float, pop_median: float) -> Any:
    """``(best - pop_min) / (pop_median - pop_min)``: 0 at the population's best, 1 at its median.

    A population whose median equals its minimum gives 0 where ``best == pop_min``, else inf.

    Example:
        >>> normalized_regret(30.0, 20.0, 40.0)
        0.5
    """
    best = np.asarray(best, dtype=float)
    scale = pop_median - pop_min
    if scale <= 0:
        out = np.where(best <= pop_min, 0.0, np.inf)
    else:
        out = (best - pop_min) / scale
    return float(out) if out.ndim == 0 else out


def _t_quantile(df: int, p: float = 0.975) -> float:
    """Student t quantile: exact for df 1 and 2, else the Cornish-Fisher expansion around the
    normal quantile (relative error below 0.5% for df >= 3 at p = 0.975)."""
    z = {0.975: 1.959963984540054}.get(p)
    if z is None:
        from statistics import NormalDist
        z = NormalDist().inv_cdf(p)
    if df <= 0:
        return math.nan
    if df == 1:
        return math.tan(math.pi * (p - 0.5))
    if df == 2:
        return (2 * p - 1) * math.sqrt(2 / (4 * p * (1 - p)))
    g1 = (z ** 3 + z) / 4
    g2 = (5 * z ** 5 + 16 * z ** 3 + 3 * z) / 96
    g3 = (3 * z ** 7 + 19 * z ** 5 + 17 * z ** 3 - 15 * z) / 384
    g4 = (79 * z ** 9 + 776 * z ** 7 + 1482 * z ** 5 - 1920 * z ** 3 - 945 * z) / 92160
    return z + g1 / df + g2 / df ** 2 + g3 / df ** 3 + g4 / df ** 4


def mean_ci(x: Any, axis: int = 0, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """(mean, half-width of the Student t confidence interval of the mean) along ``axis``.

    Example:
        >>> m, h = mean_ci([1.0, 2.0, 3.0])
        >>> float(m), round(float(h), 2)
        (2.0, 2.48)
    """
    x = np.asarray(x, dtype=float)
    n = x.shape[axis]
    m = x.mean(axis=axis)
    if n < 2:
        return m, np.full_like(m, np.nan)
    sd = x.std(axis=axis, ddof=1)
    return m, _t_quantile(n - 1, 0.5 + level / 2) * sd / math.sqrt(n)


def mean_ranks(final: Any) -> np.ndarray:
    """Mean rank of each algorithm: ``final`` is (n_algos, n_seeds) final best errors; per seed the
    algorithms are ranked 1..n_algos (lowest error = 1, ties share the average rank).

    Example:
        >>> mean_ranks([[1.0, 2.0], [2.0, 2.0], [3.0, 1.0]]).tolist()
        [1.75, 2.25, 2.0]
    """
    f = np.asarray(final, dtype=float)
    ranks = np.empty_like(f)
    for s in range(f.shape[1]):
        col = f[:, s]
        for a in range(f.shape[0]):
            ranks[a, s] = 1 + np.sum(col < col[a]) + (np.sum(col == col[a]) - 1) / 2
    return ranks.mean(axis=1)
