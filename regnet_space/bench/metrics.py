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


def mean_ci(x: Any, axis: int = 0, level: float = 0.95, repeats: int = 2000,
            seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(mean, low, high) along ``axis``: the mean over seeds and a percentile bootstrap interval
    of it (seeds resampled with replacement). Unlike a t-interval it never leaves the range of
    the data, so an error band stays inside [0, 1].

    Example:
        >>> m, lo, hi = mean_ci([0.0, 0.0, 0.0, 1.0])
        >>> float(m), float(lo) >= 0.0, float(hi) <= 1.0
        (0.25, True, True)
    """
    x = np.moveaxis(np.asarray(x, dtype=float), axis, 0)
    m = x.mean(axis=0)
    n = x.shape[0]
    if n < 2:
        return m, np.full_like(m, np.nan), np.full_like(m, np.nan)
    idx = np.random.default_rng(seed).integers(n, size=(repeats, n))
    means = x[idx].mean(axis=1)
    alpha = (1 - level) / 2
    return m, np.quantile(means, alpha, axis=0), np.quantile(means, 1 - alpha, axis=0)


def mean_ranks(final: Any) -> np.ndarray:
    """Mean rank of each algorithm: ``final`` is (n_algos, n_seeds) final best errors; per seed the
    algorithms are ranked 1..n_algos (lowest error = 1, ties share the average rank).

    Example:
        >>> mean_ranks([[1.0, 2.0], [2.0, 2.0], [3.0, 1.0]]).tolist()
        [1.75, 2.25, 2.0]
    """
    from scipy.stats import rankdata

    return rankdata(np.asarray(final, dtype=float), axis=0).mean(axis=1)
