"""Search-algorithm benchmark on a population table: Optuna samplers against a tabular oracle.

A trained population (the table of :mod:`regnet_space.analysis.table`) is turned into an oracle: a search
algorithm proposes configurations of the table's design space, and each one is answered from the
table instead of by training. Many seeds of many samplers then run in seconds on a CPU, so their
anytime behaviour can be compared with confidence intervals.

The oracle (:class:`TabularOracle`) answers a proposal (its effective, snapped parameter values,
as :func:`regnet_space.search.optuna.suggest_values` returns them) in this order:

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
4. **surrogate**: otherwise, the prediction of a regressor fitted on the rows (:mod:`.surrogate`:
   nearest neighbours or a ridge regression, whichever has the best leave-one-out rank
   correlation on this table, which is reported). Surrogate answers are counted and reported, so
   a benchmark that leans on them can be recognised.

Only rows with ``status == "ok"`` are used. Errors are in the table's unit (fractions in [0, 1]).

Metrics (per algorithm, over seeds; see :meth:`BenchResult.summary`):

* **best-so-far curve**: the lowest error seen after ``t`` evaluations, mean and 95% CI over seeds
  (Student t interval of the mean).
* **the reference distribution** the next two are measured against: by default
  (``reference="landscape"``) the oracle's answers to 2,000 draws of the paper's distribution in
  the feasible flops range (:meth:`TabularOracle.landscape`), i.e. the objective the searchers
  actually see; ``reference="table"`` uses the table's ``ok`` rows (only meaningful when most
  answers are exact, e.g. on a table that enumerates its space).
* **normalized regret**: ``(best_found - ref_min) / (ref_median - ref_min)``, with ``ref_min`` and
  ``ref_median`` the minimum and median of the reference. 0 means its best was found; 1 means the
  search did no better than a median model. (It exceeds 1 only when every evaluation was an
  infeasible penalty.)
* **evaluations to the top 5%**: the first evaluation whose best-so-far is at or below the
  reference's top-``top`` threshold, the ``ceil(top * n)``-th best of it. Seeds that never reach
  it within the budget count as infinite: the summary gives the hit rate and the median (``inf``
  when fewer than half the seeds hit).
* **mean rank**: per seed, the algorithms are ranked by final best error (1 = best, ties share the
  average rank); the ranks are averaged over seeds. Seed ``s`` of every algorithm uses the same
  integer seed.

Algorithms (:data:`ALGORITHMS`), with the settings used here:

=========  =====================================================================================
name       sampler
=========  =====================================================================================
random     ``RandomSampler`` + :func:`~regnet_space.search.optuna.suggest` (uniform on Optuna's
           encoding of the space, not the paper's distribution)
design     :class:`~regnet_space.search.optuna.DesignSpaceSampler`: the paper's distribution with
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
    >>> error, kind = oracle.query(pop.iloc[0][list(space.names)].to_dict())
    >>> kind, bool(error == pop.iloc[0]["error"])
    ('exact', True)
"""

from __future__ import annotations

import math
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from ..budget import Budget, fmt_amount
from ..config import NetConfig
from ..spaces import DesignSpace, get_space
from .metrics import top_threshold
from .surrogate import best_surrogate, fidelity_free
from ..errors import ConfigError

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
            raise ConfigError(f"the table holds {len(names)} spaces {names}: pick one with --space")
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
            raise ConfigError(f"the table has no column(s) {missing} of space {space.name} "
                             f"(its parameters are {list(space.names)})")
        err = np.asarray(errors, dtype=float).reshape(-1)
        arrays = {n: np.asarray(values[n], dtype=float).reshape(-1) for n in space.names}
        if any(len(a) != len(err) for a in arrays.values()):
            raise ConfigError("every parameter column needs one value per error")
        keep = np.isfinite(err) & np.all([np.isfinite(a) for a in arrays.values()], axis=0)
        if not keep.any():
            raise ConfigError("the table has no row with status ok, a finite error and all "
                             f"parameters of space {space.name}")
        err = err[keep]
        arrays = {n: a[keep] for n, a in arrays.items()}
        self.space = space
        self.errors = err
        keys, _ = _arch_keys(space, arrays)
        row_flops, _, _, ok, _ = space.check_arrays(arrays)
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
        self.surrogate = (best_surrogate(space, arrays, err) if len(err) >= 4
                          else fidelity_free(space, arrays, err))
        self._encodings: dict[str, Any] = {}
        self._landscapes: dict[tuple[int, int], np.ndarray] = {}

    def encoding(self, name: str = "feasible"):
        """The encoding searchers propose in (its budget is the feasible flops range)."""
        if name not in self._encodings:
            from ..spaces.encoding import get_encoding

            lo, hi = self.flops_range
            self._encodings[name] = get_encoding(self.space, Budget(flops=(lo, hi)), name)
        return self._encodings[name]

    # ---------------------------------------------------------------- construction
    @classmethod
    def from_table(cls, table: Any, space: str | DesignSpace | None = None, *,
                   flops: Any = None) -> "TabularOracle":
        """From a population table (path or DataFrame; read with ``read_population``).

        ``space`` defaults to the table's ``space`` column; only that space's ``ok`` rows are
        used. Raises ConfigError for a table without usable ``ok`` rows or without the space's
        parameter columns, and when the table's flops disagree with the space (wrong space or
        input).
        """
        from ..analysis.table import param_columns, read_population

        df = read_population(table)
        sp = space_from_table(df, space)
        if "space" in df.columns:
            sel = df["space"].astype(str) == sp.name
            df = df[sel] if sel.any() else df
        ok = df[df["status"] == "ok"]
        if ok.empty:
            raise ConfigError(f"the table has no row with status ok ({len(df)} row(s): "
                             f"{dict(df['status'].value_counts())})")
        cols = param_columns(ok)
        missing = [n for n in sp.names if n not in cols and n not in ok.columns]
        if missing:
            raise ConfigError(f"the table has no column(s) {missing} of space {sp.name}; "
                             f"pick the table's space with --space")
        oracle = cls(sp, {n: pd.to_numeric(ok[n], errors="coerce").to_numpy(float)
                          for n in sp.names}, ok["error"].to_numpy(float), flops=flops)
        table_flops = pd.to_numeric(ok["flops"], errors="coerce").to_numpy(float)
        finite = np.isfinite(ok["error"].to_numpy(float))
        table_flops = table_flops[finite]
        if len(table_flops) == len(oracle.row_flops):
            rel = np.abs(oracle.row_flops - table_flops) / np.maximum(table_flops, 1)
            if np.nanmedian(rel) > 0.01:
                raise ConfigError(
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

    def landscape(self, n: int = 2000, seed: int = 0) -> np.ndarray:
        """The oracle's answers to ``n`` draws of the paper's distribution inside the feasible
        flops range: the distribution of the benchmark's objective, which searchers are scored
        against (see the module docstring). Seeded and cached.

        Why not the table's own errors: a proposal almost never hits a trained row, so most
        answers come from the surrogate, whose predictions average neighbours and rarely reach
        the table's extremes; "the top 5%" and "regret" must be reachable by the answers.
        """
        key = (int(n), int(seed))
        if key not in self._landscapes:
            lo, hi = self.flops_range
            batch = self.space.sample_arrays(int(n), seed, flops=Budget(flops=(lo, hi)).flops)
            self._landscapes[key] = np.array(
                [self.answer({k: batch.values[k][i] for k in self.space.names})[0]
                 for i in range(len(batch))])
        return self._landscapes[key]

    def describe(self) -> str:
        lo, hi = self.flops_range
        return (f"{self.space.name} at {self.space.resolution}px: {self.n} ok rows, "
                f"{len(self._z)} distinct parameter vectors, {len(self._arch)} architectures; "
                f"error min {self.pop_min:.3g}, median {self.pop_median:.3g}; feasible flops "
                f"{fmt_amount(lo)}..{fmt_amount(hi)}; penalty {self.penalty:.3g}; "
                f"{self.surrogate.describe()}")

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
            f, _, _, ok, _ = self.space.check_arrays(arrays)
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
                out = ((e, _ARCH) if e is not None
                       else (float(self.surrogate.predict(arrays)[0]), _SURR))
        if len(self._memo) < 1_000_000:
            self._memo[key] = out
        return out

    def query(self, values: Mapping[str, Any]) -> tuple[float, str]:
        """(error, kind) with kind one of :data:`KINDS`."""
        e, k = self.answer(values)
        return e, KINDS[k]


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
    from ..analysis.table import from_samples

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
