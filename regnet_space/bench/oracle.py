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
from .truth import NOISE_MODES, CostModel, CurveModel, Draw, NoiseModel, fit_noise, read_curves
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
                 flops: Any = None, curves: Any = None, epoch_seconds: Any = None,
                 seed_sd: float | None = None, seed_sd_source: str = "",
                 curve_model: CurveModel | None = None) -> None:
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
        if curves is not None:
            curves = np.asarray(curves, dtype=float)
            if curves.ndim != 2 or len(curves) != len(keep):
                raise ConfigError("curves must be (rows, epochs), one row per error")
            curves = curves[keep]
        secs = (np.asarray(epoch_seconds, dtype=float).reshape(-1)[keep]
                if epoch_seconds is not None else None)
        self.space = space
        self.errors = err
        keys, _ = _arch_keys(space, arrays)
        row_flops, row_params, row_acts, ok, _ = space.check_arrays(arrays)
        self.row_flops = row_flops = np.asarray(row_flops, dtype=float)
        self.row_params = np.asarray(row_params, dtype=float)
        self.row_acts = np.asarray(row_acts, dtype=float)
        self._memo: dict[tuple, tuple[float, int]] = {}
        self._facts: dict[tuple, tuple] = {}
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
        self._vec_rows = [np.flatnonzero(inverse == u) for u in range(len(first))]
        self._values = arrays
        # architectures -> mean error (and their rows: the seeds a noisy answer draws from)
        arch: dict[bytes, list[int]] = {}
        for i, k in enumerate(keys):
            arch.setdefault(k, []).append(i)
        self._arch_rows = {k: np.array(v) for k, v in arch.items()}
        self._arch = {k: float(np.mean(err[v])) for k, v in arch.items()}
        self.penalty = float(err.max())
        self._init_truth(keys, err, curves, secs, seed_sd, seed_sd_source, curve_model)
        self.n_structurally_invalid = int((~ok).sum())
        # the surrogate predicts an architecture's seed mean: fitted on one row per architecture
        # (seeds as separate rows would let a seed's twin predict it in leave-one-out)
        firsts = np.array([v[0] for v in self._arch_rows.values()])
        means = np.array(list(self._arch.values()))
        per_arch = {n: a[firsts] for n, a in arrays.items()}
        self.surrogate = (best_surrogate(space, per_arch, means) if len(means) >= 4
                          else fidelity_free(space, per_arch, means))
        self._encodings: dict[str, Any] = {}
        self.objective = "error"
        self._landscapes: dict[tuple[int, int], np.ndarray] = {}

    def _init_truth(self, keys, err, curves, secs, seed_sd, seed_sd_source, curve_model) -> None:
        """Seeds, curves, noise and cost (see :mod:`.truth`)."""
        self.curves = curves  # (rows, epochs) or None
        if curves is not None:
            # the recorded final error is the answer at the last epoch, exactly
            self.curves = curves.copy()
            self.curves[:, -1] = err
        # per architecture: its seeds (rows) as a (n_arch, max_seeds[, epochs]) NaN-padded array
        rows = list(self._arch_rows.values())
        width = max(len(r) for r in rows)
        grid = np.full((len(rows), width, self.curves.shape[1] if self.curves is not None else 1),
                       np.nan)
        for a, r in enumerate(rows):
            grid[a, :len(r)] = (self.curves[r] if self.curves is not None else err[r][:, None])
        self.seeds_per_arch = np.array([len(r) for r in rows])
        if seed_sd is None:  # direct construction without a measurement: answers are exact
            seed_sd, seed_sd_source = 0.0, "no repeated seeds and no seed sd given: noise-free"
        self.noise_model = fit_noise(grid, fallback=seed_sd, fallback_source=seed_sd_source)
        if curve_model is not None:
            self.curve_model = curve_model
        elif self.curves is not None:
            self.curve_model = CurveModel.from_curves(grid)
        else:
            self.curve_model = CurveModel.flat(1)
        if len(self.noise_model.sd) != self.curve_model.epochs:
            # noise measured on final errors only: the same sd at every epoch
            nm = self.noise_model
            self.noise_model = NoiseModel((nm.final,) * self.curve_model.epochs, nm.source, nm.dof)
        if self.curves is not None and self.curves.shape[1] != self.curve_model.epochs:
            raise ConfigError(f"the table's curves have {self.curves.shape[1]} epochs, the curve "
                              f"model {self.curve_model.epochs}")
        self.cost_model = CostModel.fit(
            secs if secs is not None else np.full(len(err), np.nan), self.row_flops, self.row_acts,
            "measured seconds per epoch of the table's runs")

    def holdout_fidelity(self, table: Any) -> dict:
        """The surrogate's rank correlation with the seed means of ``table``'s architectures
        that this oracle's table does not hold (each with 2+ seeds; see
        :func:`.surrogate.holdout_fidelity`), plus the table name's count of those left out
        because the fit saw them."""
        from .surrogate import holdout_fidelity

        other = TabularOracle.from_table(table, self.space, flops=(None, None), curves=None,
                                         seed_sd=0.0)
        keys = list(other._arch_rows)
        unseen = [k for k in keys if k not in self._arch_rows]
        groups = [other._arch_rows[k] for k in unseen if len(other._arch_rows[k]) >= 2]
        if len(groups) < 4:
            raise ConfigError(f"the holdout table has {len(groups)} unseen architectures with 2+ "
                              "seeds; need 4 or more")
        width = max(len(g) for g in groups)
        y = np.full((len(groups), width), np.nan)
        first = []
        for i, g in enumerate(groups):
            y[i, :len(g)] = other.errors[g]
            first.append(g[0])
        values = {n: other._values[n][first] for n in self.space.names}
        out = holdout_fidelity(self.surrogate, values, y)
        out["left_out_seen"] = len(keys) - len(unseen)
        return out

    def use_cost_model(self, model: CostModel) -> None:
        """Answer epoch costs with ``model`` (e.g. fitted on another table of the same recipe
        whose timings were measured on a quieter machine)."""
        self.cost_model = model

    @property
    def epochs(self) -> int:
        """Epochs of the recipe (fidelity levels 1..epochs)."""
        return self.curve_model.epochs

    def draw(self, values: Mapping[str, Any], rng: np.random.Generator,
             noise: str = "seed") -> Draw:
        """One query's answer as a learning curve (see :mod:`.truth`): a recorded seed chosen
        by ``rng`` when the architecture has 2+ seeds in the table, else the truth plus the
        noise model's draw; ``noise="none"`` answers the truth (seed means) at every epoch."""
        if noise not in NOISE_MODES:
            raise ConfigError(f"noise must be one of {', '.join(NOISE_MODES)}, got {noise!r}")
        truth, kind = self.answer(values)
        info = self._facts[tuple(float(values[n]) for n in self.space.names)]
        rows, f, p, a = info
        E = self.epochs
        if kind == _INF:
            return Draw(np.full(E, truth), truth, np.zeros(E), kind, -1, f, p, a)
        secs = np.full(E, float(self.cost_model.epoch_seconds(f, a)))
        have = rows is not None and len(rows) >= 2
        if noise == "none" or not have:
            if rows is not None and self.curves is not None:
                curve = self.curves[rows].mean(axis=0)
            else:
                curve = self.curve_model.curve(truth)
            seed = -1
            if noise == "seed":
                # one z per query moves the whole curve (seeds differ at the end too); early
                # epochs add their own, larger, independent noise (measured on real curves)
                final = self.noise_model.final
                curve = (curve + float(rng.standard_normal()) * final
                         + rng.standard_normal(E) * self.curve_model.extra_sd(final))
        else:
            seed = int(rng.integers(len(rows)))
            r = rows[seed]
            curve = (self.curves[r].copy() if self.curves is not None
                     else self.curve_model.curve(self.errors[r]))
        return Draw(np.asarray(curve, dtype=float), truth, secs, kind, seed, f, p, a)

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
                   flops: Any = None, curves: Any = "auto", seed_sd: float | None = None,
                   curve_model: CurveModel | None = None) -> "TabularOracle":
        """From a population table (path or DataFrame; read with ``read_population``).

        ``space`` defaults to the table's ``space`` column; only that space's ``ok`` rows are
        used. Rows with the same parameter values are seeds of one architecture. The objective
        is ``val_error`` where the table has it (the error the search ranked by), else ``error``.

        ``curves``: the per-epoch table ``regnet-space export`` writes beside the table
        (``trial, epoch, val_error, epoch_time``; a path or DataFrame), found automatically
        (``"auto"``) as ``NAME.curves.csv`` beside a table path, or ``None`` for none. Without
        curves, epochs are answered by ``curve_model`` (e.g. fitted on another table of the same
        recipe) or, lacking it, as a single fidelity.

        ``seed_sd``: the seed sd of one run, used when the table has too few repeated seeds to
        measure it; default: the published measurement for the space
        (:func:`regnet_space.analysis.noise.noise_floor`).

        Raises ConfigError for a table without usable ``ok`` rows or without the space's
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
        from ..analysis.noise import noise_floor

        floor = noise_floor(ok, seed_sd)
        col = ("val_error" if "val_error" in ok.columns
               and pd.to_numeric(ok["val_error"], errors="coerce").notna().all() else "error")
        errors = pd.to_numeric(ok[col], errors="coerce").to_numpy(float)
        curve_arr, secs = read_curves(table, ok, curves)
        if secs is None:
            for tcol in ("train_time_s", "time_s", "train_time"):
                if tcol in ok.columns and "epochs" in ok.columns:
                    secs = (pd.to_numeric(ok[tcol], errors="coerce")
                            / pd.to_numeric(ok["epochs"], errors="coerce")).to_numpy(float)
                    break
        if curve_arr is None and curve_model is None and "epochs" in ok.columns:
            from .truth import measured_curves

            borrowed = measured_curves(sp.name)
            epochs = pd.to_numeric(ok["epochs"], errors="coerce")
            if borrowed is not None and (epochs == borrowed.epochs).all():
                curve_model = borrowed
        oracle = cls(sp, {n: pd.to_numeric(ok[n], errors="coerce").to_numpy(float)
                          for n in sp.names}, errors, flops=flops, curves=curve_arr,
                     epoch_seconds=secs, seed_sd=floor.seed_sd, seed_sd_source=floor.source,
                     curve_model=curve_model)
        oracle.objective = col
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
        f = p = a = np.array([math.nan])
        if ok[0]:  # structurally valid: count complexity (caps included) for the flops range
            f, p, a, ok, _ = self.space.check_arrays(arrays)
        rows = None
        if not (ok[0] and self._in_range(float(f[0]))):
            out = (self.penalty, _INF)
        else:
            z = normalize_values(self.space, arrays, bounds=self._bounds)[0]
            diff = self._z - z
            d2 = np.einsum("ij,ij->i", diff, diff)
            i = int(np.argmin(d2))
            if d2[i] <= _SAME:
                out, rows = (float(self._err[i]), _EXACT), self._vec_rows[i]
            else:
                e = self._arch.get(arch[0])
                if e is not None:
                    out, rows = (e, _ARCH), self._arch_rows[arch[0]]
                else:
                    out = (float(self.surrogate.predict(arrays)[0]), _SURR)
        if len(self._memo) >= 1_000_000:  # bounded memory; draw() needs the facts just stored
            self._memo.clear()
            self._facts.clear()
        self._memo[key] = out
        self._facts[key] = (rows, float(f[0]), float(p[0]), float(a[0]))
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
