"""Confidence for EDF comparisons: bootstrap bands of an error EDF, and whether one population's
EDF dominates another's, with confidence intervals.

Example:
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> d = edf_dominance(rng.uniform(0.1, 0.3, 200), rng.uniform(0.2, 0.4, 200), labels=("A", "B"))
    >>> d.verdict, d.dominates
    ('a_dominates', True)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from ..errors import ConfigError
from .stats import _errors_weights, edf, ok_rows


def _check_level(level: float, repeats: int) -> None:
    if not 0 < level < 1 or int(repeats) < 2:
        raise ConfigError(f"need 0 < level < 1 and repeats >= 2, got level={level}, "
                          f"repeats={repeats}")


def _resampled_edfs(e: np.ndarray, w: np.ndarray, at: np.ndarray, repeats: int,
                    rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """EDFs (strict ``<``) at ``at`` and weighted means of ``repeats`` resamples of the models
    with replacement: arrays of shape (repeats, len(at)) and (repeats,).

    A resample is a vector of multinomial counts; each model keeps its weight (the weighted
    bootstrap), so a complexity-normalized EDF is resampled without re-binning.
    """
    order = np.argsort(e, kind="stable")
    e, w = e[order], w[order]
    n = e.size
    idx = np.searchsorted(e, at, side="left")
    edfs = np.empty((repeats, at.size))
    means = np.empty(repeats)
    chunk = max(1, 4_000_000 // max(n, 1))   # bounds the (chunk, n) count matrix to ~32 MB
    for start in range(0, repeats, chunk):
        r = min(chunk, repeats - start)
        mass = rng.multinomial(n, np.full(n, 1.0 / n), size=r) * w
        cum = np.concatenate([np.zeros((r, 1)), np.cumsum(mass, axis=1)], axis=1)
        total = cum[:, -1:]
        # a resample that drew only zero-weight models has no EDF: NaN, ignored by the percentiles
        total = np.where(total > 0, total, np.nan)
        edfs[start:start + r] = cum[:, idx] / total
        means[start:start + r] = (mass @ e) / total[:, 0]
    return edfs, means


@dataclass(frozen=True, eq=False)
class EdfBand:
    """A pointwise bootstrap confidence band of an error EDF.

    ``x``: where the EDF is evaluated; ``f``: the EDF of the population there; ``low`` /
    ``high``: the ``(1 - level) / 2`` and ``(1 + level) / 2`` percentiles over resamples (2.5 and
    97.5 for the default 95%). Pointwise: each x has its own interval, not a simultaneous band.
    """

    x: np.ndarray
    f: np.ndarray
    low: np.ndarray
    high: np.ndarray
    level: float
    repeats: int
    n: int

    def describe(self) -> str:
        width = float(np.max(self.high - self.low)) if self.x.size else 0.0
        return (f"EDF of {self.n} models with a {self.level:.0%} pointwise bootstrap band "
                f"({self.repeats} resamples), widest {width:.3f}")


def edf_band(errors: Sequence[float], at: Sequence[float] | None = None,
             weights: Sequence[float] | None = None, *, repeats: int = 1000, level: float = 0.95,
             seed: int = 0) -> EdfBand:
    """Bootstrap confidence band of the error EDF: resample the models with replacement
    ``repeats`` times and take pointwise percentiles of the resampled EDFs. Seeded.

    ``at`` gives the points (the EDF there is :func:`edf`'s, strict ``<``). Without ``at`` the
    points are the distinct errors and the values are taken just after each one, as
    :func:`edf_steps` does, so ``x``, ``f``, ``low`` and ``high`` plot as ``steps-post`` lines.
    ``weights`` stay attached to their models (a complexity-normalized EDF keeps its weights).

    Example:
        >>> e = np.linspace(0.30, 0.40, 101)
        >>> b = edf_band(e, at=[0.35], repeats=500, seed=0)
        >>> round(float(b.f[0]), 3), bool(b.low[0] < b.f[0] < b.high[0])
        (0.495, True)
        >>> bool(b.high[0] - b.low[0] < 0.3)
        True
    """
    _check_level(level, repeats)
    e, w = _errors_weights(errors, weights)
    if at is None:
        x = np.unique(e)
        pts = np.nextafter(x, np.inf)   # just after each error: F(x+) = mass of e <= x
    else:
        x = np.asarray(at, dtype=float).ravel()
        pts = x
    f = edf(e, pts, w)
    edfs, _ = _resampled_edfs(e, w, pts, int(repeats), np.random.default_rng(seed))
    tail = 50.0 * (1.0 - level)
    low, high = np.nanpercentile(edfs, [tail, 100.0 - tail], axis=0)
    return EdfBand(x, f, low, high, float(level), int(repeats), int(e.size))


#: :attr:`Dominance.verdict` values and how :meth:`Dominance.describe` words them.
VERDICTS: dict[str, str] = {
    "a_dominates": "{a} dominates {b}",
    "b_dominates": "{b} dominates {a}",
    "a_better": "{a} is better on average, without dominating {b}",
    "b_better": "{b} is better on average, without dominating {a}",
    "crossing": "the EDFs cross (each is better on part of the range)",
    "no_difference": "no significant difference between {a} and {b}",
}


@dataclass(frozen=True)
class Dominance:
    """Whether population A's error EDF lies above B's (A has more good models), with bootstrap
    confidence; errors are fractions.

    ``lo``..``hi``: the error range compared (pooled percentiles). ``frac_above`` /
    ``frac_below``: fraction of that range where the pointwise CI of ``F_A - F_B`` lies entirely
    above / below 0 (A / B significantly better there). ``mean_diff``: mean error of A minus B
    (negative: A better) with its CI ``mean_diff_low``..``mean_diff_high``. ``area``: the
    integral of ``F_A - F_B`` over ``lo``..``hi`` (in error units; positive: A better) with its
    CI ``area_low``..``area_high``. ``verdict``: a key of :data:`VERDICTS`.
    """

    label_a: str
    label_b: str
    n_a: int
    n_b: int
    lo: float
    hi: float
    frac_above: float
    frac_below: float
    mean_diff: float
    mean_diff_low: float
    mean_diff_high: float
    area: float
    area_low: float
    area_high: float
    level: float
    repeats: int
    verdict: str

    @property
    def dominates(self) -> bool:
        """A's EDF is significantly above B's over most of the range and never below."""
        return self.verdict == "a_dominates"

    def describe(self) -> str:
        head = VERDICTS[self.verdict].format(a=self.label_a, b=self.label_b)
        return (f"{self.label_a} vs {self.label_b}: {head}; EDF of {self.label_a} significantly "
                f"above on {self.frac_above:.0%} and below on {self.frac_below:.0%} of errors "
                f"{self.lo:.3f}-{self.hi:.3f}; mean error difference {self.mean_diff:+.4f} "
                f"[{self.mean_diff_low:+.4f}, {self.mean_diff_high:+.4f}]; area between EDFs "
                f"{self.area:+.4f} [{self.area_low:+.4f}, {self.area_high:+.4f}] "
                f"({self.level:.0%} bootstrap CIs, {self.repeats} resamples, "
                f"n={self.n_a} vs {self.n_b})")


def _area(d: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """Trapezoid integral of d (..., len(grid)) over the grid."""
    if grid.size < 2:
        return np.zeros(d.shape[:-1])
    return ((d[..., 1:] + d[..., :-1]) * 0.5 * np.diff(grid)).sum(axis=-1)


def edf_dominance(errors_a: Sequence[float], errors_b: Sequence[float], *,
                  weights_a: Sequence[float] | None = None,
                  weights_b: Sequence[float] | None = None, labels: Sequence[str] = ("A", "B"),
                  repeats: int = 1000, level: float = 0.95, seed: int = 0, points: int = 200,
                  span: tuple[float, float] = (5.0, 95.0), min_frac: float = 0.5) -> Dominance:
    """Does A's error EDF dominate B's? A bootstrap test of the EDF difference.

    Both populations are resampled independently (``repeats`` times, seeded). On ``points``
    error values spanning the ``span`` percentiles of the pooled errors (5th to 95th by default:
    the extreme tails, where both EDFs are near 0 or 1, say little), the pointwise CI of
    ``F_A - F_B`` gives ``frac_above`` / ``frac_below``; the resampled mean errors and the area
    between the EDFs give their CIs. Verdict: ``a_dominates`` when A is significantly above on at
    least ``min_frac`` of the range, never significantly below, and the area CI excludes 0
    (``b_dominates`` symmetrically); else ``a_better`` / ``b_better`` when only the area CI
    excludes 0; ``crossing`` when each is significantly above somewhere; else ``no_difference``.
    Pointwise CIs are not simultaneous: over many points a few may exclude 0 by chance, which
    the ``min_frac`` and area conditions absorb.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> a, b = rng.normal(0.30, 0.02, 200), rng.normal(0.34, 0.02, 200)
        >>> d = edf_dominance(a, b, labels=("A", "B"), repeats=300)
        >>> d.verdict, d.dominates, d.mean_diff_high < 0 < d.area_low
        ('a_dominates', True, True)
        >>> edf_dominance(a, a, repeats=300).verdict
        'no_difference'
    """
    _check_level(level, repeats)
    if not 0 < min_frac <= 1 or int(points) < 2 or not 0 <= span[0] < span[1] <= 100:
        raise ConfigError(f"need 0 < min_frac <= 1, points >= 2 and 0 <= span[0] < span[1] <= "
                          f"100, got {min_frac}, {points}, {span}")
    ea, wa = _errors_weights(errors_a, weights_a)
    eb, wb = _errors_weights(errors_b, weights_b)
    lo, hi = np.percentile(np.concatenate([ea, eb]), list(span))
    grid = np.linspace(lo, hi, int(points)) if hi > lo else np.array([lo])
    rng = np.random.default_rng(seed)
    fa, ma = _resampled_edfs(ea, wa, grid, int(repeats), rng)
    fb, mb = _resampled_edfs(eb, wb, grid, int(repeats), rng)
    diff = fa - fb
    tail = 50.0 * (1.0 - level)
    d_low, d_high = np.nanpercentile(diff, [tail, 100.0 - tail], axis=0)
    frac_above, frac_below = float(np.mean(d_low > 0)), float(np.mean(d_high < 0))
    m_low, m_high = np.nanpercentile(ma - mb, [tail, 100.0 - tail])
    a_low, a_high = np.nanpercentile(_area(diff, grid), [tail, 100.0 - tail])
    area = float(_area(edf(ea, grid, wa) - edf(eb, grid, wb), grid))
    if frac_below == 0 and frac_above >= min_frac and a_low > 0:
        verdict = "a_dominates"
    elif frac_above == 0 and frac_below >= min_frac and a_high < 0:
        verdict = "b_dominates"
    elif a_low > 0:
        verdict = "a_better"
    elif a_high < 0:
        verdict = "b_better"
    elif frac_above > 0 and frac_below > 0:
        verdict = "crossing"
    else:
        verdict = "no_difference"
    la, lb = (str(s) for s in labels)
    mean_diff = float(np.dot(ea, wa) - np.dot(eb, wb))
    return Dominance(la, lb, int(ea.size), int(eb.size), float(lo), float(hi), frac_above,
                     frac_below, mean_diff, float(m_low), float(m_high), area, float(a_low),
                     float(a_high), float(level), int(repeats), verdict)


def pairwise_dominance(pops: Mapping[str, pd.DataFrame],
                       weights: Mapping[str, Sequence[float] | None] | None = None,
                       **kwargs: Any) -> list[Dominance]:
    """:func:`edf_dominance` of every pair of populations (first against later ones, in order)
    over their ok rows; ``weights`` (per label, e.g. complexity-normalized) are optional and
    ``kwargs`` go to :func:`edf_dominance`.

    Example:
        >>> rng = np.random.default_rng(1)
        >>> pops = {k: pd.DataFrame({"error": rng.normal(m, 0.02, 100), "status": "ok"})
        ...         for k, m in (("X", 0.30), ("Y", 0.35))}
        >>> [d.verdict for d in pairwise_dominance(pops, repeats=200)]
        ['a_dominates']
    """
    labels = list(pops)
    weights = weights or {}
    errs = {k: ok_rows(df)["error"].to_numpy(float) for k, df in pops.items()}
    return [edf_dominance(errs[a], errs[b], weights_a=weights.get(a), weights_b=weights.get(b),
                          labels=(a, b), **kwargs)
            for i, a in enumerate(labels) for b in labels[i + 1:]]
