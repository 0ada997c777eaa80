"""Random-search efficiency that a reader can trust: exact order statistics with a bootstrap band.

The paper's estimate (:func:`~regnet_space.analysis.stats.efficiency_bootstrap`) draws
``floor(N/k)`` groups of k models and averages their minima. At large k it is left with one or two
groups, so its curve is noisy, can rise with k (a best-of-8 worse than the best-of-4) and its band
collapses. Here the curve is the exact expectation of the best of k models drawn from the
population (:func:`~regnet_space.analysis.stats.expected_min`, with replacement: a smooth,
non-increasing function of k), and its band is a percentile bootstrap over *models*: the
population is resampled and the exact curve recomputed. Every resampled curve is non-increasing,
so each band edge (a quantile over resamples at each k) is too.

Example:
    >>> tab = efficiency_curve([0.30, 0.25, 0.22, 0.21, 0.20, 0.35], ks=[1, 2, 4], seed=0)
    >>> tab.columns.tolist()
    ['k', 'exact', 'low', 'high', 'resamples', 'level']
    >>> bool((tab["exact"].diff().dropna() <= 0).all() and (tab["low"] <= tab["exact"]).all())
    True
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd

from ..errors import ConfigError
from .stats import default_ks, expected_min


def efficiency_curve(errors: Sequence[float], ks: Sequence[int] | None = None, *,
                     weights: Sequence[float] | None = None, seed: int = 0,
                     resamples: int = 1000, level: float = 0.95) -> pd.DataFrame:
    """E[best error of k random models] for each k, with a bootstrap band over the models.

    Args:
        errors: the population's errors (fractions).
        ks: the k values (default 1, 2, 4, ... up to N).
        weights: sampling probabilities of the models (the complexity-normalized variant); the
            resamples then draw models with these probabilities.
        seed: the bootstrap's seed (the same seed gives the same table).
        resamples: bootstrap resamples of the population.
        level: the band's coverage (a central percentile interval).

    Returns:
        A table with ``k``, ``exact`` (on the population), ``low`` / ``high`` (the band),
        ``resamples`` and ``level``. ``exact``, ``low`` and ``high`` are non-increasing in k.
    """
    e = np.asarray(errors, dtype=float).ravel()
    if e.size < 1:
        raise ConfigError("need at least one model")
    if not np.all(np.isfinite(e)):
        raise ConfigError("errors must be finite numbers")
    if isinstance(resamples, bool) or not isinstance(resamples, (int, np.integer)) \
            or resamples < 2:
        raise ConfigError(f"resamples must be an integer >= 2, got {resamples!r}")
    if not 0 < float(level) < 1:
        raise ConfigError(f"level must be in (0, 1), got {level!r}")
    ks = default_ks(e.size) if ks is None else np.asarray(ks, dtype=np.int64).ravel()
    point = expected_min(e, ks, weights=weights)
    p = None
    if weights is not None:
        p = np.asarray(weights, dtype=float).ravel()
        p = p / p.sum()
    rng = np.random.default_rng(seed)
    boots = np.empty((int(resamples), ks.size))
    for b in range(int(resamples)):
        idx = rng.choice(e.size, size=e.size, replace=True, p=p)
        boots[b] = expected_min(e[idx], ks)
    a = (1 - float(level)) / 2
    low, high = np.quantile(boots, [a, 1 - a], axis=0)
    return pd.DataFrame({"k": ks.astype(int), "exact": point, "low": low, "high": high,
                         "resamples": int(resamples), "level": float(level)})


__all__ = ["efficiency_curve"]
