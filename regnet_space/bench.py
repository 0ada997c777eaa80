"""Search-algorithm benchmark on a population table: Optuna samplers against a tabular oracle.

A trained population (the table of :mod:`regnet_space.table`) is turned into an oracle: a search
algorithm proposes configurations of the table's design space, and each one is answered from the
table instead of by training. Many seeds of many samplers then run in seconds on a CPU, so their
anytime behaviour can be compared with confidence intervals.

The oracle (:class:`TabularOracle`) answers a proposal (its effective, snapped parameter values,
as :func:`regnet_space.optuna_space.suggest_values` returns them) in this order:

1. **infeasible**: the configuration breaks the space's structural constraints or caps (e.g. a
   RegNet whose widths give 3 stages) or its flops fall outside the feasible range (by default the
   flops range of the table's ``ok`` rows; ``flops=`` overrides). The answer is a penalty, the
   worst error in the table, and the sampler is also told so through an Optuna constraint
   (``trial.set_constraint("infeasible", 1.0)``; 0.0 for every feasible trial).
2. **exact**: the parameter values equal a row's parameter values. The answer is that row's error
   (the mean error when the table holds the same values several times).
3. **same_arch**: other parameter values that decode to the same architecture as a row (per-stage
   depth, width, bottleneck ratio and group width after compatibility, e.g. two RegNet ``wa``
   values that quantize to the same widths). The answer is that row's error.
4. **surrogate**: otherwise, the error of the nearest row in the normalized parameter space: each
   parameter is mapped to [0, 1] over the space's range (its allowed values), on a log scale for
   log-distributed parameters, and the nearest row in Euclidean distance answers (ties: the first
   row). Surrogate answers are counted and reported, so a benchmark that leans on them can be
   recognised.

Only rows with ``status == "ok"`` are used. Errors are in the table's unit (fractions in [0, 1]).

Metrics (per algorithm, over seeds; see :meth:`BenchResult.summary`):

* **best-so-far curve**: the lowest error seen after ``t`` evaluations, mean and 95% CI over seeds
  (Student t interval of the mean).
* **normalized regret**: ``(best_found - pop_min) / (pop_median - pop_min)``, with ``pop_min`` and
  ``pop_median`` the minimum and median error of the table's ``ok`` rows. 0 means the population's
  best model was found; 1 means the search did no better than a median model. (It exceeds 1 only
  when every evaluation was an infeasible penalty.)
* **evaluations to the top 5%**: the first evaluation whose best-so-far is at or below the
  population's top-``top`` threshold, the error of the ``ceil(top * n)``-th best ``ok`` row (so at
  least ``top * n`` rows reach it). Seeds that never reach it within the budget count as infinite:
  the summary gives the hit rate and the median (``inf`` when fewer than half the seeds hit).
* **mean rank**: per seed, the algorithms are ranked by final best error (1 = best, ties share the
  average rank); the ranks are averaged over seeds. Seed ``s`` of every algorithm uses the same
  integer seed.

Algorithms (:data:`ALGORITHMS`), with the settings used here:

=========  =====================================================================================
name       sampler
=========  =====================================================================================
random     ``RandomSampler`` + :func:`~regnet_space.optuna_space.suggest` (uniform on Optuna's
           encoding of the space, not the paper's distribution)
design     :class:`~regnet_space.optuna_space.DesignSpaceSampler`: the paper's distribution with
           exact rejection to the oracle's feasible flops range (random search as in the paper)
tpe        ``TPESampler(n_startup_trials=min(10, budget // 4))``
cmaes      ``CmaEsSampler(n_startup_trials=min(10, budget // 4))``, quiet about its independent
           fallback and the constraints it ignores (``with_margin=True`` was 3x slower and no
           better on the synthetic benchmark)
nsga2      ``NSGAIISampler(population_size=clip(budget // 4, 4, 50))``, single objective
qmc        ``QMCSampler(scramble=True)`` (scrambled Sobol; without scrambling every seed would
           propose the same sequence)
gp         ``GPSampler(n_startup_trials=min(10, budget // 4))``: opt-in, not in the default list;
           it refits a Gaussian process every trial and is about 1,000 times slower than TPE on a
           CPU (see ``benchmarks/results_search.md``)
=========  =====================================================================================

Example:
    >>> from regnet_space.spaces import get_space
    >>> space = get_space("regnetx", resolution=32, in_channels=3, num_classes=10)
    >>> pop = synthetic_population(space, 200, seed=0, flops="2M:20M")
    >>> oracle = TabularOracle.from_table(pop)
    >>> res = run_benchmark(oracle, ["random", "design"], seeds=3, budget=16)
    >>> res.summary()["algo"].tolist()
    ['random', 'design']
"""

from __future__ import annotations

import math
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from .budget import Budget, fmt_amount
from .config import NetConfig
from .spaces import DesignSpace, get_space

__all__ = [
    "ALGORITHMS", "DEFAULT_ALGORITHMS", "KINDS", "BenchResult", "TabularOracle",
    "evals_to_threshold", "make_sampler", "mean_ci", "mean_ranks", "normalize_values",
    "normalized_regret", "parse_algorithms", "plot_curves", "run_benchmark", "run_search",
    "sampler_seed", "space_from_table",
    "synthetic_population", "top_threshold", "write_outputs",
]

#: Every algorithm name :func:`run_benchmark` understands.
ALGORITHMS: tuple[str, ...] = ("random", "design", "tpe", "cmaes", "nsga2", "qmc", "gp")
#: The algorithms ``bench-search`` runs by default (``gp`` is opt-in: it is very slow on a CPU).
DEFAULT_ALGORITHMS: tuple[str, ...] = ("random", "design", "tpe", "cmaes", "nsga2", "qmc")
#: How the oracle answered an evaluation (index = code stored in :attr:`BenchResult.kinds`).
KINDS: tuple[str, ...] = ("exact", "same_arch", "surrogate", "infeasible")
_EXACT, _ARCH, _SURR, _INF = range(4)
#: Squared normalized distance under which two parameter vectors are the same values.
_SAME = 1e-12


# ------------------------------------------------------------------------------ normalization
def _bounds(space: DesignSpace) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(lo, span, log mask) per parameter for :func:`normalize_values` (log bounds where log)."""
    lo, span, log = [], [], []
    for p in space.params:
        allowed = p.values().astype(float)
        a, b = float(allowed.min()), float(allowed.max())
        if p.log:
            a, b = math.log(a), math.log(b)
        lo.append(a)
        span.append(b - a if b > a else math.inf)  # a single value maps to 0
        log.append(p.log)
    return np.array(lo), np.array(span), np.array(log)


def normalize_values(space: DesignSpace, values: Mapping[str, Any], *,
                     bounds: tuple | None = None) -> np.ndarray:
    """Parameter values -> an (n, n_params) array in [0, 1]^n_params.

    Each parameter is scaled by the range of its allowed values, on a log scale for log-distributed
    parameters (``Param.log``); a parameter with a single value maps to 0.

    Example:
        >>> from regnet_space.spaces import get_space
        >>> z = normalize_values(get_space("regnetx"), dict(d=[1, 63], w0=[8, 248], wa=[8, 255.9],
        ...                      wm=[1.5, 3], b=[1, 4], g=[1, 32]))
        >>> z.tolist()
        [[0.0, 0.0, 0.0, 0.0, 0.0, 0.0], [1.0, 1.0, 1.0, 1.0, 1.0, 1.0]]
    """
    lo, span, log = bounds if bounds is not None else _bounds(space)
    v = np.stack([np.asarray(values[n], dtype=float).reshape(-1) for n in space.names], axis=1)
    v = np.where(log, np.log(np.maximum(v, 1e-300)), v)
    return (v - lo) / span


def _arch_keys(space: DesignSpace,
               arrays: Mapping[str, np.ndarray]) -> tuple[list[bytes], np.ndarray]:
    """(architecture key per row, structurally_ok) for arrays of parameter values: the key holds
    the per-stage depth, width, stride, bottleneck ratio and group width after compatibility."""
    ds, ws, ss, bs, gs, ok = space.stage_arrays(arrays)
    stacked = np.concatenate([np.asarray(a, dtype=float) for a in (ds, ws, ss, bs, gs)], axis=1)
    stacked = np.where(np.tile(np.asarray(ds) > 0, 5), stacked, 0.0)
    return [r.tobytes() for r in np.ascontiguousarray(stacked)], np.asarray(ok, dtype=bool)


# ------------------------------------------------------------------------------ table -> space
def space_from_table(df: pd.DataFrame, space: str | DesignSpace | None = None) -> DesignSpace:
    """The design space a population table was sampled from.

    The name comes from ``space`` (a name or a :class:`DesignSpace`) or else the table's ``space``
    column (which must then hold one name); the input (resolution, channels, classes, stem, block)
    from the first row's ``config`` JSON, so complexity is counted as in the table.
    """
    if isinstance(space, DesignSpace):
        return space
    if space is None:
        names = sorted(set(df["space"].astype(str))) if "space" in df.columns else []
        if len(names) != 1:
            raise ValueError(f"the table holds {len(names)} spaces {names}: pick one with --space")
        space = names[0]
    base = get_space(space)
    if "space" in df.columns and (df["space"].astype(str) == base.name).any():
        df = df[df["space"].astype(str) == base.name]
    cfg = None
    if "config" in df.columns and len(df):
        try:
            cfg = NetConfig.from_json(str(df["config"].iloc[0]))
        except (ValueError, TypeError, KeyError):
            cfg = None
    if cfg is None:
        return base
    return get_space(space, resolution=cfg.resolution, in_channels=cfg.in_channels,
                     num_classes=cfg.num_classes, stem=cfg.stem, block=cfg.block)


# ------------------------------------------------------------------------------ oracle
class TabularOracle:
    """Answers parameter values from a population table (see the module docstring for the rules).

    Args:
        space: the table's design space (parameter names = the table's parameter columns).
        values: ``{param name: array}``, one entry per ``ok`` row.
        errors: the rows' errors.
        flops: feasible flops range ``(lo, hi)`` (either may be None); default: the rows' range.

    Example:
        >>> from regnet_space.spaces import get_space
        >>> space = get_space("regnetx")
        >>> rows = dict(d=[13, 20], w0=[24, 48], wa=[36.4, 30.0], wm=[2.49, 2.5], b=[1, 1],
        ...             g=[8, 8])
        >>> oracle = TabularOracle(space, rows, [30.0, 25.0], flops=(None, None))
        >>> oracle.query(dict(d=13, w0=24, wa=36.4, wm=2.49, b=1, g=8))
        (30.0, 'exact')
    """

    def __init__(self, space: DesignSpace, values: Mapping[str, Any], errors: Sequence[float], *,
                 flops: Any = None) -> None:
        missing = [n for n in space.names if n not in values]
        if missing:
            raise ValueError(f"the table has no column(s) {missing} of space {space.name} "
                             f"(its parameters are {list(space.names)})")
        err = np.asarray(errors, dtype=float).reshape(-1)
        arrays = {n: np.asarray(values[n], dtype=float).reshape(-1) for n in space.names}
        if any(len(a) != len(err) for a in arrays.values()):
            raise ValueError("every parameter column needs one value per error")
        keep = np.isfinite(err) & np.all([np.isfinite(a) for a in arrays.values()], axis=0)
        if not keep.any():
            raise ValueError("the table has no row with status ok, a finite error and all "
                             f"parameters of space {space.name}")
        err = err[keep]
        arrays = {n: a[keep] for n, a in arrays.items()}
        self.space = space
        self.errors = err
        keys, _ = _arch_keys(space, arrays)
        row_flops, _, _, ok = space.evaluate_arrays(arrays)
        self.row_flops = row_flops = np.asarray(row_flops, dtype=float)
        self._memo: dict[tuple, tuple[float, int]] = {}
        lo_hi = Budget.parse(flops).flops if flops is not None else (None, None)
        lo, hi = lo_hi if lo_hi is not None else (None, None)
        if flops is None:
            lo, hi = float(row_flops.min()), float(row_flops.max())
        self.flops_range: tuple[float | None, float | None] = (lo, hi)
        # unique parameter vectors (duplicates averaged) for exact and nearest-neighbour answers
        self._bounds = _bounds(space)
        z = normalize_values(space, arrays, bounds=self._bounds)
        zr = np.round(z, 9)
        _, first, inverse = np.unique(zr, axis=0, return_index=True, return_inverse=True)
        inverse = inverse.reshape(-1)
        sums = np.bincount(inverse, weights=err)
        self._z = z[first]
        self._err = sums / np.bincount(inverse)
        # architectures -> mean error
        arch: dict[bytes, list[float]] = {}
        for k, e in zip(keys, err):
            arch.setdefault(k, []).append(float(e))
        self._arch = {k: float(np.mean(v)) for k, v in arch.items()}
        self.penalty = float(err.max())
        self.n_structurally_invalid = int((~ok).sum())

    # ---------------------------------------------------------------- construction
    @classmethod
    def from_table(cls, table: Any, space: str | DesignSpace | None = None, *,
                   flops: Any = None) -> "TabularOracle":
        """From a population table (path or DataFrame; read with ``read_population``).

        ``space`` defaults to the table's ``space`` column; only that space's ``ok`` rows are
        used. Raises ValueError for a table without usable ``ok`` rows or without the space's
        parameter columns, and when the table's flops disagree with the space (wrong space or
        input).
        """
        from .table import param_columns, read_population

        df = read_population(table)
        sp = space_from_table(df, space)
        if "space" in df.columns:
            sel = df["space"].astype(str) == sp.name
            df = df[sel] if sel.any() else df
        ok = df[df["status"] == "ok"]
        if ok.empty:
            raise ValueError(f"the table has no row with status ok ({len(df)} row(s): "
                             f"{dict(df['status'].value_counts())})")
        cols = param_columns(ok)
        missing = [n for n in sp.names if n not in cols and n not in ok.columns]
        if missing:
            raise ValueError(f"the table has no column(s) {missing} of space {sp.name}; "
                             f"pick the table's space with --space")
        oracle = cls(sp, {n: pd.to_numeric(ok[n], errors="coerce").to_numpy(float)
                          for n in sp.names}, ok["error"].to_numpy(float), flops=flops)
        table_flops = pd.to_numeric(ok["flops"], errors="coerce").to_numpy(float)
        finite = np.isfinite(ok["error"].to_numpy(float))
        table_flops = table_flops[finite]
        if len(table_flops) == len(oracle.row_flops):
            rel = np.abs(oracle.row_flops - table_flops) / np.maximum(table_flops, 1)
            if np.nanmedian(rel) > 0.01:
                raise ValueError(
                    f"the table's flops do not match space {sp.name} at {sp.resolution}px "
                    f"(median difference {np.nanmedian(rel):.0%}): wrong --space for this table?")
        return oracle

    # ---------------------------------------------------------------- facts
    @property
    def n(self) -> int:
        """Number of ``ok`` rows."""
        return len(self.errors)

    @property
    def pop_min(self) -> float:
        return float(self.errors.min())

    @property
    def pop_median(self) -> float:
        return float(np.median(self.errors))

    def top_threshold(self, top: float = 0.05) -> float:
        """Error of the ``ceil(top * n)``-th best row (see :func:`top_threshold`)."""
        return top_threshold(self.errors, top)

    def describe(self) -> str:
        lo, hi = self.flops_range
        return (f"{self.space.name} at {self.space.resolution}px: {self.n} ok rows, "
                f"{len(self._z)} distinct parameter vectors, {len(self._arch)} architectures; "
                f"error min {self.pop_min:.3g}, median {self.pop_median:.3g}; feasible flops "
                f"{fmt_amount(lo)}..{fmt_amount(hi)}; penalty {self.penalty:.3g}")

    # ---------------------------------------------------------------- answers
    def feasible(self, values: Mapping[str, Any]) -> bool:
        """Whether values meet the space's constraints and the feasible flops range."""
        return self.answer(values)[1] != _INF

    def _in_range(self, f: float) -> bool:
        lo, hi = self.flops_range
        return (lo is None or f >= lo) and (hi is None or f <= hi)

    def answer(self, values: Mapping[str, Any]) -> tuple[float, int]:
        """(error, kind code) for effective parameter values; kind codes index :data:`KINDS`.

        Answers are memoized on the parameter values (samplers often propose a point again).
        """
        key = tuple(float(values[n]) for n in self.space.names)
        hit = self._memo.get(key)
        if hit is not None:
            return hit
        arrays = {n: np.array([v]) for n, v in zip(self.space.names, key)}
        arch, ok = _arch_keys(self.space, arrays)
        if ok[0]:  # structurally valid: count complexity (caps included) for the flops range
            f, _, _, ok = self.space.evaluate_arrays(arrays)
        if not (ok[0] and self._in_range(float(f[0]))):
            out = (self.penalty, _INF)
        else:
            z = normalize_values(self.space, arrays, bounds=self._bounds)[0]
            diff = self._z - z
            d2 = np.einsum("ij,ij->i", diff, diff)
            i = int(np.argmin(d2))
            if d2[i] <= _SAME:
                out = (float(self._err[i]), _EXACT)
            else:
                e = self._arch.get(arch[0])
                out = (e, _ARCH) if e is not None else (float(self._err[i]), _SURR)
        if len(self._memo) < 1_000_000:
            self._memo[key] = out
        return out

    def query(self, values: Mapping[str, Any]) -> tuple[float, str]:
        """(error, kind) with kind one of :data:`KINDS`."""
        e, k = self.answer(values)
        return e, KINDS[k]


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
        raise ValueError(f"top must be a fraction in (0, 1], got {top}")
    if e.size == 0:
        raise ValueError("no errors")
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


# ------------------------------------------------------------------------------ samplers
def _quiet_optuna() -> None:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)


def parse_algorithms(algos: str | Sequence[str] | None,
                     extra: Mapping[str, Any] | None = None) -> list[str]:
    """Comma-separated names (or a list) -> validated, de-duplicated names (lower case)."""
    if algos is None:
        return list(DEFAULT_ALGORITHMS)
    items = algos.split(",") if isinstance(algos, str) else list(algos)
    names = [str(a).strip().lower() for a in items if str(a).strip()]
    if not names:
        raise ValueError(f"no algorithm given; choose from {', '.join(ALGORITHMS)}")
    allowed = list(ALGORITHMS) + [k for k in (extra or {}) if k not in ALGORITHMS]
    bad = [a for a in names if a not in allowed]
    if bad:
        raise ValueError(f"unknown algorithm(s) {', '.join(map(repr, bad))}; allowed: "
                         f"{', '.join(allowed)}")
    return list(dict.fromkeys(names))


def make_sampler(name: str, oracle: TabularOracle, seed: int, budget: int):
    """The Optuna sampler of one benchmark run (settings in the module docstring)."""
    import optuna

    S = optuna.samplers
    startup = max(1, min(10, budget // 4))
    if name == "random":
        return S.RandomSampler(seed=seed)
    if name == "design":
        from .optuna_space import DesignSpaceSampler
        lo, hi = oracle.flops_range
        return DesignSpaceSampler(oracle.space, flops=(lo, hi), seed=seed)
    if name == "tpe":
        return S.TPESampler(seed=seed, n_startup_trials=startup)
    if name == "cmaes":
        try:
            import cmaes  # noqa: F401
        except ImportError:
            raise ValueError("algorithm cmaes needs the cmaes package: pip install cmaes") from None
        return S.CmaEsSampler(seed=seed, n_startup_trials=startup, warn_independent_sampling=False)
    if name == "nsga2":
        return S.NSGAIISampler(seed=seed, population_size=int(np.clip(budget // 4, 4, 50)))
    if name == "qmc":
        try:
            import scipy  # noqa: F401
        except ImportError:
            raise ValueError("algorithm qmc needs scipy: pip install scipy") from None
        return S.QMCSampler(seed=seed, scramble=True, warn_independent_sampling=False,
                            warn_asynchronous_seeding=False)
    if name == "gp":
        try:
            import scipy  # noqa: F401
            import torch  # noqa: F401
        except ImportError:
            raise ValueError("algorithm gp needs torch and scipy: "
                             "pip install torch scipy") from None
        return S.GPSampler(seed=seed, n_startup_trials=startup)
    raise ValueError(f"unknown algorithm {name!r}; allowed: {', '.join(ALGORITHMS)}")


def _suggester():
    """suggest_values from the Optuna integration (one suggestion per space parameter)."""
    from .optuna_space import suggest_values
    return suggest_values


def run_search(oracle: TabularOracle, sampler: Any, budget: int) -> tuple[np.ndarray, np.ndarray]:
    """One search of ``budget`` evaluations with an Optuna sampler, in an in-memory study.

    Returns (errors, kind codes), one per evaluation in order.
    """
    import optuna

    suggest_values = _suggester()
    study = optuna.create_study(sampler=sampler, direction="minimize")
    errors = np.empty(budget)
    kinds = np.empty(budget, dtype=np.int8)
    for t in range(budget):
        trial = study.ask()
        values = suggest_values(trial, oracle.space)
        e, k = oracle.answer(values)
        trial.set_constraint("infeasible", 1.0 if k == _INF else 0.0)
        study.tell(trial, e)
        errors[t], kinds[t] = e, k
    return errors, kinds


# ------------------------------------------------------------------------------ results
@dataclass
class BenchResult:
    """Traces of every (algorithm, seed) search and the population facts to score them.

    ``errors`` and ``kinds`` are (n_algos, n_seeds, budget) arrays: the answer to each evaluation
    and how it was answered (an index into :data:`KINDS`); ``seconds`` (wall) and ``cpu_seconds``
    (the worker's CPU time, unaffected by other load) are (n_algos, n_seeds) per search.
    """

    algos: list[str]
    seeds: list[int]
    budget: int
    errors: np.ndarray
    kinds: np.ndarray
    seconds: np.ndarray
    pop_min: float
    pop_median: float
    threshold: float
    top: float = 0.05
    info: dict = field(default_factory=dict)
    cpu_seconds: np.ndarray | None = None

    @property
    def best_so_far(self) -> np.ndarray:
        """(n_algos, n_seeds, budget) running minimum of the errors."""
        return np.minimum.accumulate(self.errors, axis=2)

    @property
    def final(self) -> np.ndarray:
        """(n_algos, n_seeds) best error found with the whole budget."""
        return self.errors.min(axis=2)

    def regret(self) -> np.ndarray:
        """(n_algos, n_seeds, budget) normalized regret of the best-so-far."""
        return normalized_regret(self.best_so_far, self.pop_min, self.pop_median)

    def evals_to_top(self) -> np.ndarray:
        """(n_algos, n_seeds) evaluations to reach the top-``top`` threshold (inf if never)."""
        return np.array([[evals_to_threshold(tr, self.threshold) for tr in row]
                         for row in self.errors], dtype=float)

    def curves(self) -> pd.DataFrame:
        """Long table: algo, evaluation, best-so-far mean and 95% CI bounds, regret mean and CI."""
        rows = []
        bsf, reg = self.best_so_far, self.regret()
        for a, name in enumerate(self.algos):
            m, h = mean_ci(bsf[a], axis=0)
            rm, rh = mean_ci(reg[a], axis=0)
            for t in range(self.budget):
                rows.append((name, t + 1, m[t], m[t] - h[t], m[t] + h[t], rm[t], rm[t] - rh[t],
                             rm[t] + rh[t]))
        return pd.DataFrame(rows, columns=["algo", "evaluation", "best_mean", "best_lo", "best_hi",
                                           "regret_mean", "regret_lo", "regret_hi"])

    def traces(self) -> pd.DataFrame:
        """Long table of every evaluation: algo, seed, evaluation, error, best, kind."""
        A, S, B = self.errors.shape
        bsf = self.best_so_far
        return pd.DataFrame({
            "algo": np.repeat(self.algos, S * B),
            "seed": np.tile(np.repeat(self.seeds, B), A),
            "evaluation": np.tile(np.arange(1, B + 1), A * S),
            "error": self.errors.reshape(-1),
            "best": bsf.reshape(-1),
            "kind": np.asarray(KINDS)[self.kinds.reshape(-1)],
        })

    def summary(self) -> pd.DataFrame:
        """One row per algorithm, over seeds: ``best_mean``/``best_ci95`` (final best error, mean
        and 95% CI half-width), ``regret_mean``/``regret_ci95`` (final normalized regret),
        ``top5_hit_rate`` (fraction of seeds reaching the top-5% threshold; the name follows
        ``top``), ``evals_to_top5_median`` (inf when fewer than half the seeds reach it),
        ``mean_rank``, ``exact_frac``/``same_arch_frac``/``surrogate_frac``/``infeasible_frac``
        (how the evaluations were answered), ``sec_per_search``/``searches_per_min`` (wall time
        per search in its worker) and ``cpu_sec_per_search``."""
        final = self.final
        reg_final = normalized_regret(final, self.pop_min, self.pop_median)
        ranks = mean_ranks(final)
        hits = self.evals_to_top()
        n_eval = self.errors.shape[1] * self.budget
        rows = []
        for a, name in enumerate(self.algos):
            fm, fh = mean_ci(final[a])
            rm, rh = mean_ci(reg_final[a])
            h = hits[a]
            counts = np.bincount(self.kinds[a].reshape(-1), minlength=len(KINDS))
            sec = float(self.seconds[a].mean())
            rows.append({
                "algo": name, "seeds": len(self.seeds), "budget": self.budget,
                "best_mean": float(fm), "best_ci95": float(fh),
                "regret_mean": float(rm), "regret_ci95": float(rh),
                f"top{self.top * 100:g}_hit_rate": float(np.isfinite(h).mean()),
                f"evals_to_top{self.top * 100:g}_median": float(np.median(h)),
                "mean_rank": float(ranks[a]),
                **{f"{k}_frac": float(c / n_eval) for k, c in zip(KINDS, counts)},
                "sec_per_search": sec,
                "searches_per_min": 60.0 / sec if sec > 0 else math.inf,
                "cpu_sec_per_search": (float(self.cpu_seconds[a].mean())
                                       if self.cpu_seconds is not None else math.nan),
            })
        return pd.DataFrame(rows)

    def format_summary(self) -> str:
        """The summary as an aligned text table (what ``bench-search`` prints)."""
        df = self.summary()
        top = f"{self.top * 100:g}"
        head = (f"{'algo':8s} {'best error':>16s} {'regret':>14s} {'top' + top + '%':>6s} "
                f"{'evals':>6s} {'rank':>5s} {'exact':>6s} {'arch':>6s} {'surr':>6s} "
                f"{'infeas':>6s} {'srch/min':>8s}")
        lines = [head]
        for r in df.to_dict("records"):
            med = r[f"evals_to_top{top}_median"]
            lines.append(
                f"{r['algo']:8s} {r['best_mean']:8.3f} ±{r['best_ci95']:6.3f} "
                f"{r['regret_mean']:6.3f} ±{r['regret_ci95']:5.3f} "
                f"{r[f'top{top}_hit_rate']:6.0%} "
                f"{(f'{med:.0f}' if np.isfinite(med) else '>' + str(self.budget)):>6s} "
                f"{r['mean_rank']:5.2f} {r['exact_frac']:6.1%} {r['same_arch_frac']:6.1%} "
                f"{r['surrogate_frac']:6.1%} {r['infeasible_frac']:6.1%} "
                f"{r['searches_per_min']:8.0f}")
        return "\n".join(lines)


# ------------------------------------------------------------------------------ the benchmark
SamplerFactory = Callable[[TabularOracle, int, int], Any]


def sampler_seed(seed: int) -> int:
    """The sampler seed of benchmark seed ``seed``: derived (``SeedSequence([seed, 0x5EA2C4])``)
    so that the ``design`` sampler does not replay a population that was itself drawn with a small
    seed (``DesignSpaceSampler(seed=0)`` proposes exactly ``space.sample(n, seed=0)``)."""
    return int(np.random.SeedSequence([int(seed), 0x5EA2C4]).generate_state(1)[0] >> 1)


#: What forked workers of :func:`run_benchmark` read (set before the pool starts).
_WORK: dict[str, Any] = {}


def _one(task: tuple[str, int, int]) -> tuple[np.ndarray, np.ndarray, float, float]:
    name, seed, budget = task
    oracle, factories = _WORK["oracle"], _WORK["factories"]
    _quiet_optuna()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # experimental-API and ignored-constraint warnings
        t0, c0 = time.perf_counter(), time.process_time()
        factory = factories.get(name)
        ss = sampler_seed(seed)
        sampler = (factory(oracle, ss, budget) if factory is not None
                   else make_sampler(name, oracle, ss, budget))
        errors, kinds = run_search(oracle, sampler, budget)
        return errors, kinds, time.perf_counter() - t0, time.process_time() - c0


def run_benchmark(oracle: TabularOracle, algos: str | Sequence[str] | None = None, *,
                  seeds: int | Sequence[int] = 20, budget: int = 64, top: float = 0.05,
                  jobs: int = 1, factories: Mapping[str, SamplerFactory] | None = None,
                  progress: Callable[[str, int, float], None] | None = None) -> BenchResult:
    """Run every algorithm for every seed with ``budget`` evaluations against ``oracle``.

    Args:
        oracle: a :class:`TabularOracle` (e.g. ``TabularOracle.from_table("pop.csv")``).
        algos: names from :data:`ALGORITHMS` (a list or a comma-separated string); default
            :data:`DEFAULT_ALGORITHMS`.
        seeds: number of seeds (0..n-1) or the seeds themselves; seed ``s`` gives every
            algorithm's sampler the seed :func:`sampler_seed` ``(s)``.
        budget: evaluations per search (>= 2).
        top: the "top fraction" of the evaluations-to-top metric (default 5%).
        jobs: worker processes (forked; 1 runs in this process). Results do not depend on it.
        factories: extra or replacement algorithms: ``name -> factory(oracle, seed, budget)``
            returning an Optuna sampler (e.g. a deliberately bad baseline in tests).
        progress: called as ``progress(algo, seed, seconds)`` after each search.
    """
    import optuna  # noqa: F401  (fail early, with the usual message, if it is missing)

    factories = dict(factories or {})
    names = parse_algorithms(algos, factories)
    if isinstance(budget, bool) or not isinstance(budget, (int, np.integer)) or budget < 2:
        raise ValueError(f"budget must be an integer >= 2, got {budget!r}")
    if isinstance(seeds, (int, np.integer)) and not isinstance(seeds, bool):
        if seeds < 1:
            raise ValueError(f"seeds must be >= 1, got {seeds}")
        seed_list = list(range(int(seeds)))
    else:
        seed_list = [int(s) for s in seeds]
        if not seed_list:
            raise ValueError("need at least one seed")
    if isinstance(jobs, bool) or not isinstance(jobs, (int, np.integer)) or jobs < 1:
        raise ValueError(f"jobs must be an integer >= 1, got {jobs!r}")
    if not 0 < top <= 1:
        raise ValueError(f"top must be a fraction in (0, 1], got {top}")
    if "design" in names and "design" not in factories:
        # a feasible range the space cannot meet fails now, not in a worker
        make_sampler("design", oracle, 0, budget)
    A, S = len(names), len(seed_list)
    errors = np.empty((A, S, budget))
    kinds = np.empty((A, S, budget), dtype=np.int8)
    seconds = np.empty((A, S))
    cpu = np.empty((A, S))
    tasks = [(a, s, (name, seed, int(budget))) for a, name in enumerate(names)
             for s, seed in enumerate(seed_list)]
    _WORK.update(oracle=oracle, factories=factories)
    try:
        pool = None
        if jobs > 1:
            import multiprocessing as mp
            if "fork" in mp.get_all_start_methods():
                from concurrent.futures import ProcessPoolExecutor
                pool = ProcessPoolExecutor(min(jobs, len(tasks)), mp_context=mp.get_context("fork"))
        if pool is None:
            results = map(_one, [t for _, _, t in tasks])
        else:
            results = pool.map(_one, [t for _, _, t in tasks])
        try:
            for (a, s, (name, seed, _)), (e, k, sec, c) in zip(tasks, results):
                errors[a, s], kinds[a, s], seconds[a, s], cpu[a, s] = e, k, sec, c
                if progress is not None:
                    progress(name, seed, float(sec))
        finally:
            if pool is not None:
                pool.shutdown(cancel_futures=True)
    finally:
        _WORK.clear()
    return BenchResult(algos=names, seeds=seed_list, budget=int(budget), errors=errors,
                       kinds=kinds, seconds=seconds, cpu_seconds=cpu, pop_min=oracle.pop_min,
                       pop_median=oracle.pop_median, threshold=oracle.top_threshold(top), top=top,
                       info={"space": oracle.space.name, "resolution": oracle.space.resolution,
                             "rows": oracle.n, "flops_range": oracle.flops_range,
                             "penalty": oracle.penalty, "jobs": int(jobs)})


# ------------------------------------------------------------------------------ plots, files
_COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2",
           "#7f7f7f", "#bcbd22", "#17becf"]


def plot_curves(result: BenchResult, kind: str = "best"):
    """A matplotlib Figure: best-so-far error (``kind="best"``) or normalized regret
    (``kind="regret"``) against evaluations, mean over seeds with a 95% CI band per algorithm."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    if kind not in ("best", "regret"):
        raise ValueError(f"kind must be 'best' or 'regret', got {kind!r}")
    fig = Figure(figsize=(6.4, 4.4), layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    x = np.arange(1, result.budget + 1)
    data = result.best_so_far if kind == "best" else result.regret()
    for a, name in enumerate(result.algos):
        m, h = mean_ci(data[a], axis=0)
        c = _COLORS[a % len(_COLORS)]
        ax.plot(x, m, color=c, lw=1.6, label=name)
        if len(result.seeds) > 1:
            ax.fill_between(x, m - h, m + h, color=c, alpha=0.18, lw=0)
    top = f"{result.top * 100:g}"
    if kind == "best":
        ax.axhline(result.pop_min, color="k", ls=":", lw=1, label="population best")
        ax.axhline(result.threshold, color="k", ls="--", lw=1, label=f"population top {top}%")
        ax.set_ylabel("best error so far")
    else:
        ax.axhline(0, color="k", ls=":", lw=1)
        ax.set_ylabel("normalized regret (best - min) / (median - min)")
    ax.set_xlabel("evaluations")
    ax.set_xlim(1, result.budget)
    ax.set_title(f"{result.info.get('space', '')}: {len(result.seeds)} seeds, mean and 95% CI",
                 fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return fig


def write_outputs(result: BenchResult, out: str | Path) -> dict[str, Path]:
    """Write summary.csv, curves.csv, traces.csv, best_so_far.png and regret.png into ``out``."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    paths = {"summary": out / "summary.csv", "curves": out / "curves.csv",
             "traces": out / "traces.csv", "best_so_far": out / "best_so_far.png",
             "regret": out / "regret.png"}
    result.summary().to_csv(paths["summary"], index=False)
    result.curves().to_csv(paths["curves"], index=False)
    result.traces().to_csv(paths["traces"], index=False)
    plot_curves(result, "best").savefig(paths["best_so_far"], dpi=120)
    plot_curves(result, "regret").savefig(paths["regret"], dpi=120)
    return paths


# ------------------------------------------------------------------------------ synthetic data
def synthetic_population(space: DesignSpace | str, n: int = 500, seed: int = 0, *,
                         flops: Any = None, noise: float = 0.3,
                         optimum: Sequence[float] | None = None) -> pd.DataFrame:
    """A population table of real samples of ``space`` with a smooth synthetic error.

    ``error = (25 + 40 * mean_i (z_i - c_i)^2 + noise * N(0, 1)) / 100`` (a fraction), where ``z`` are the
    normalized parameters (:func:`normalize_values`) and ``c`` the optimum (default 0.5 in every
    coordinate... offset by a fixed pattern so it is not the centre). For tests and speed
    benchmarks of the search harness, not a model of real errors.
    """
    from .table import from_samples

    if isinstance(space, str):
        space = get_space(space)
    samples = space.sample(n, seed=seed, flops=flops)
    arrays = {p.name: np.array([s.values[p.name] for s in samples], dtype=float)
              for p in space.params}
    z = normalize_values(space, arrays)
    k = z.shape[1]
    c = (np.asarray(optimum, dtype=float) if optimum is not None
         else 0.35 + 0.3 * (np.arange(k) % 3) / 2)
    rng = np.random.default_rng(seed + 1)
    err = 25 + 40 * np.mean((z - c) ** 2, axis=1) + noise * rng.standard_normal(len(samples))
    return from_samples(space.name, samples, error=np.round(err / 100, 6))
