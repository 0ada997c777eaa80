"""The surrogate that answers a benchmark proposal the population table does not hold.

A search benchmark on a trained population needs an error for configurations nobody trained. The
surrogate predicts it from the nearest trained models, and how far its answers can be trusted is
measured, not assumed: :func:`fidelity` predicts every row from the others (leave-one-out) and
reports the rank correlation with the truth (Spearman's rho, Kendall's tau), which is what matters
when the answers are used to rank search algorithms.

Three regressors are compared:

* ``params``: nearest neighbours (k in 1, 3, 5, 8 and 12, weighted by inverse distance) in the
  space's parameters, each scaled to [0, 1] over its range (log scale for log-distributed
  parameters): the benchmark's original surrogate (k = 1);
* ``arch``: nearest neighbours in architecture features that do not depend on how the space is
  parametrised, standardised: log flops, log params, log activations, total depth, and per stage
  log width, depth, log group width and bottleneck ratio;
* ``ridge``: a linear ridge regression on the same standardised architecture features (alpha in
  1, 10, 100 and 1000; leave-one-out by refitting without each row), its predictions clipped to
  the table's error range (a surrogate must not invent errors no trained
  model had). Brief-training errors of one regime are noisy and close together, and a smooth
  trend (bigger is better, for one) is often all the table can support, which averaging a few
  neighbours captures poorly.

:func:`best_surrogate` picks the one with the highest leave-one-out Spearman's rho.

Example:
    >>> from regnet_space.bench.oracle import synthetic_population
    >>> from regnet_space.spaces import get_space
    >>> space = get_space("anynetx_a", resolution=28, in_channels=1, num_classes=10)
    >>> pop = synthetic_population(space, 120, seed=0, flops="2M:5M")
    >>> values = {n: pop[n].to_numpy(float) for n in space.names}
    >>> s = best_surrogate(space, values, pop["error"].to_numpy())
    >>> s.kind in ("params", "arch", "ridge"), -1 <= s.loo_spearman <= 1
    (True, True)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np

from ..spaces import DesignSpace

KS = (1, 3, 5, 8, 12)


def param_features(space: DesignSpace, values: Mapping[str, Any]) -> np.ndarray:
    """Parameters scaled to [0, 1] over their allowed range (log scale where log)."""
    cols = []
    for p in space.params:
        v = np.asarray(values[p.name], dtype=float).reshape(-1)
        vals = p.values().astype(float)
        lo, hi = float(vals.min()), float(vals.max())
        if p.log:
            v, lo, hi = np.log(np.maximum(v, 1e-300)), math.log(lo), math.log(hi)
        cols.append((v - lo) / (hi - lo) if hi > lo else np.zeros(len(v)))
    return np.stack(cols, axis=1)


def arch_features(space: DesignSpace, values: Mapping[str, Any]) -> np.ndarray:
    """Architecture features of parameter values (see the module docstring), unstandardised."""
    arrays = {n: np.asarray(values[n], dtype=float).reshape(-1) for n in space.names}
    ds, ws, _, bs, gs, _ = space.stage_arrays(arrays)
    f, p, a, _, _ = space.check_arrays(arrays)
    ds, ws = np.asarray(ds, float), np.asarray(ws, float)
    cols = [np.log(np.maximum(f, 1)), np.log(np.maximum(p, 1)), np.log(np.maximum(a, 1)),
            ds.sum(1)]
    for i in range(ds.shape[1]):
        cols += [np.log(np.maximum(ws[:, i], 1)), ds[:, i],
                 np.log(np.maximum(np.asarray(gs, float)[:, i], 1)), np.asarray(bs, float)[:, i]]
    return np.stack(cols, axis=1)


@dataclass(frozen=True)
class Surrogate:
    """A fitted nearest-neighbour surrogate and its leave-one-out fidelity on the table."""

    kind: str
    k: int
    space: DesignSpace
    x: np.ndarray
    errors: np.ndarray
    center: np.ndarray
    scale: np.ndarray
    loo_spearman: float
    loo_kendall: float
    alpha: float = 0.0
    coef: np.ndarray | None = None

    def _features(self, values: Mapping[str, Any]) -> np.ndarray:
        raw = (param_features if self.kind == "params" else arch_features)(self.space, values)
        return (raw - self.center) / self.scale

    def predict(self, values: Mapping[str, Any]) -> np.ndarray:
        """Predicted errors of parameter values (arrays or scalars per parameter)."""
        q = self._features(values)
        if self.kind == "ridge":
            return np.clip(self.errors.mean() + q @ self.coef, self.errors.min(),
                           self.errors.max())
        return _knn(self.x, self.errors, q, self.k)

    def describe(self) -> str:
        what = (f"arch ridge (alpha {self.alpha:g})" if self.kind == "ridge"
                else f"{self.kind} {self.k}-NN")
        return (f"{what} surrogate: leave-one-out Spearman {self.loo_spearman:.2f}, Kendall "
                f"{self.loo_kendall:.2f}")


def _knn(x: np.ndarray, y: np.ndarray, q: np.ndarray, k: int,
         exclude_self: bool = False) -> np.ndarray:
    d2 = ((q[:, None, :] - x[None, :, :]) ** 2).sum(-1)
    if exclude_self:
        np.fill_diagonal(d2, np.inf)
    k = min(k, x.shape[0] - (1 if exclude_self else 0))
    idx = np.argsort(d2, axis=1, kind="stable")[:, :k]
    d = np.sqrt(np.take_along_axis(d2, idx, axis=1))
    w = 1.0 / np.maximum(d, 1e-9)
    return (w * y[idx]).sum(1) / w.sum(1)


def _ranks(a: np.ndarray) -> np.ndarray:
    order = np.argsort(a, kind="stable")
    r = np.empty(len(a))
    r[order] = np.arange(len(a))
    # average ranks of ties
    _, inv, counts = np.unique(a, return_inverse=True, return_counts=True)
    sums = np.bincount(inv, weights=r)
    return (sums / counts)[inv]


def spearman(a: np.ndarray, b: np.ndarray) -> float:
    """Spearman's rank correlation (ties get average ranks)."""
    ra, rb = _ranks(np.asarray(a, float)), _ranks(np.asarray(b, float))
    if ra.std() == 0 or rb.std() == 0:
        return 0.0
    return float(np.corrcoef(ra, rb)[0, 1])


def kendall(a: np.ndarray, b: np.ndarray) -> float:
    """Kendall's tau-b."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    i, j = np.triu_indices(len(a), 1)
    sa, sb = np.sign(a[i] - a[j]), np.sign(b[i] - b[j])
    n0 = len(i)
    n1, n2 = np.sum(sa == 0), np.sum(sb == 0)
    denom = math.sqrt((n0 - n1) * (n0 - n2))
    return float(np.sum(sa * sb) / denom) if denom > 0 else 0.0


def _standardization(raw: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(center, scale) making every feature mean 0 and sd 1 (constant features: scale 1)."""
    scale = raw.std(0)
    return raw.mean(0), np.where(scale > 0, scale, 1.0)


def _fit(space, values, errors, kind, k) -> Surrogate:
    raw = (param_features if kind == "params" else arch_features)(space, values)
    center, scale = (_standardization(raw) if kind == "arch"
                     else (np.zeros(raw.shape[1]), np.ones(raw.shape[1])))
    x = (raw - center) / scale
    y = np.asarray(errors, dtype=float)
    pred = _knn(x, y, x, k, exclude_self=True)
    return Surrogate(kind, k, space, x, y, center, scale, spearman(pred, y), kendall(pred, y))


def _ridge(raw: np.ndarray, y: np.ndarray, alpha: float):
    """(center, scale, coef) of a ridge fit on standardised features, intercept = mean(y)."""
    center, scale = _standardization(raw)
    x = (raw - center) / scale
    coef = np.linalg.solve(x.T @ x + alpha * np.eye(x.shape[1]), x.T @ (y - y.mean()))
    return center, scale, coef


def _fit_ridge(space, values, errors, alpha) -> Surrogate:
    raw = arch_features(space, values)
    y = np.asarray(errors, dtype=float)
    loo = np.empty(len(y))
    for i in range(len(y)):  # exact: each row predicted by a fit (standardisation too) without it
        keep = np.arange(len(y)) != i
        c, sc, w = _ridge(raw[keep], y[keep], alpha)
        loo[i] = np.clip(y[keep].mean() + ((raw[i] - c) / sc) @ w, y[keep].min(), y[keep].max())
    center, scale, coef = _ridge(raw, y, alpha)
    return Surrogate("ridge", 0, space, (raw - center) / scale, y, center, scale,
                     spearman(loo, y), kendall(loo, y), alpha=float(alpha), coef=coef)


#: The ridge penalties compared (on standardised features).
ALPHAS = (1.0, 10.0, 100.0, 1000.0)


def fidelity(space: DesignSpace, values: Mapping[str, Any], errors: Any) -> list[Surrogate]:
    """Every candidate surrogate, fitted, with its leave-one-out rank correlations."""
    return ([_fit(space, values, errors, kind, k) for kind in ("params", "arch") for k in KS]
            + [_fit_ridge(space, values, errors, a) for a in ALPHAS])


def fidelity_free(space: DesignSpace, values: Mapping[str, Any], errors: Any) -> Surrogate:
    """The 1-NN parameter surrogate without a fidelity estimate (tables of fewer than 4 rows)."""
    x = param_features(space, values)
    return Surrogate("params", 1, space, x, np.asarray(errors, float), np.zeros(x.shape[1]),
                     np.ones(x.shape[1]), math.nan, math.nan)


def best_surrogate(space: DesignSpace, values: Mapping[str, Any], errors: Any) -> Surrogate:
    """The candidate with the highest leave-one-out Spearman's rho (ties: the simpler one)."""
    return max(fidelity(space, values, errors), key=lambda s: s.loo_spearman)


__all__ = ["ALPHAS", "KS", "Surrogate", "arch_features", "best_surrogate", "fidelity", "fidelity_free",
           "kendall",
           "param_features", "spearman"]


def holdout_fidelity(surrogate: Any, values: Mapping[str, Any], seed_errors: Any, *,
                     repeats: int = 2000, seed: int = 0) -> dict:
    """How well ``surrogate`` ranks architectures it never saw, against their seed means.

    ``values``: the held-out architectures' parameters; ``seed_errors``: (n, seeds) their runs
    (NaN where a seed is missing; each needs 2+). Returns ``n``, ``seeds`` (median),
    ``spearman`` with a bootstrap 95% interval over architectures (``spearman_lo/hi``), and
    ``ceiling``: the correlation a perfect predictor of the true mean could reach given the
    seed noise left in a K-seed mean, ``sqrt(R_K)`` with ``R_K = b / (b + w / K)`` from the
    held-out runs' between-architecture (``b``) and within (``w``) variance components.

    Example:
        >>> from types import SimpleNamespace
        >>> s = SimpleNamespace(predict=lambda v: np.asarray(v["d"], float))  # ranks by depth
        >>> runs = [[1, 1.1], [2, 2.1], [3, 3.1], [4, 4.1]]   # 4 architectures x 2 seeds
        >>> out = holdout_fidelity(s, dict(d=[1, 2, 3, 4]), runs)
        >>> out["spearman"], out["n"]
        (1.0, 4)
    """
    y = np.asarray(seed_errors, dtype=float)
    k = np.sum(np.isfinite(y), axis=1)
    if np.any(k < 2) or len(y) < 4:
        raise ValueError("holdout needs 4+ architectures with 2+ seeds each")
    mean = np.nanmean(y, axis=1)
    pred = np.asarray(surrogate.predict(values), dtype=float)
    rho = spearman(pred, mean)
    rng = np.random.default_rng(seed)
    boots = []
    for _ in range(repeats):
        i = rng.integers(len(y), size=len(y))
        if np.ptp(pred[i]) > 0 and np.ptp(mean[i]) > 0:
            boots.append(spearman(pred[i], mean[i]))
    lo, hi = np.percentile(boots, [2.5, 97.5]) if boots else (math.nan, math.nan)
    w = float(np.nansum((y - mean[:, None]) ** 2) / np.sum(k - 1))
    kk = float(np.median(k))
    b = max(float(np.var(mean, ddof=1)) - w / kk, 0.0)
    r_k = b / (b + w / kk) if b + w > 0 else 0.0
    return {"n": int(len(y)), "seeds": kk, "spearman": float(rho), "spearman_lo": float(lo),
            "spearman_hi": float(hi), "ceiling": float(math.sqrt(r_k)), "seed_sd": math.sqrt(w)}
