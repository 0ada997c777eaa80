"""The :class:`DesignSpace` base: a parameter list, a vectorised decode, constraints, sampling.

A design space is a tuple of :class:`~regnet_space.spaces.params.Param` plus a vectorised
``stage_arrays`` (parameters -> per-stage depth, width, stride, bottleneck ratio and group width,
with compatibility applied, and the structural-constraint mask). Everything else is here, once:

* :meth:`DesignSpace.check`: THE feasibility check of one configuration against the space's
  structural constraints, caps and a complexity budget (every integration calls it), and
  :meth:`DesignSpace.check_arrays`, its vectorised form for samplers, encodings and benchmarks.
* :meth:`DesignSpace.sample_arrays` / :meth:`DesignSpace.sample`: seeded, prefix-consistent
  rejection sampling from the paper's distribution under a budget.

Example:
    >>> from regnet_space.spaces import get_space
    >>> space = get_space("regnetx")
    >>> f = space.check(dict(d=13, w0=24, wa=36.4, wm=2.49, b=1, g=8), "150M:250M")
    >>> f.feasible, f.flops
    (True, 199040872)
    >>> space.check(dict(d=13, w0=24, wa=8.0, wm=2.49, b=1, g=8)).violations
    ('RegNet needs 4 stages with no skipped level; this one has 3 stages',)
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Callable, Mapping

import numpy as np

from ..budget import Budget, as_budget, fmt_amount
from ..complexity import complexity_arrays
from ..config import BLOCKS, STEMS, NetConfig, Stage
from ..errors import BudgetError, ConfigError
from ..files import check_int, check_seed
from .params import Param


#: Draws :meth:`DesignSpace.sample_arrays` always allows by default (it allows more when the
#: acceptance seen says n samples need them).
MIN_DRAWS = 20_000_000


# ------------------------------------------------------------------------------------ records
@dataclass(frozen=True)
class Sample:
    """One accepted draw: the sampled parameter values, the NetConfig, and its complexity."""

    values: Mapping[str, int | float]
    config: NetConfig
    flops: int
    params: int
    acts: int

    def to_dict(self) -> dict:
        """JSON-safe: ``{"sampled": {...}, "config": {...}, "flops", "params", "acts"}``."""
        return {"sampled": dict(self.values), "config": self.config.to_dict(),
                "flops": self.flops, "params": self.params, "acts": self.acts}


@dataclass(frozen=True)
class SampleBatch:
    """Accepted draws as arrays (what :meth:`DesignSpace.sample_arrays` returns).

    ``draws`` counts the raw draws it took to accept these samples, up to and including the last
    one kept (draws after it in the final batch are not counted), so ``acceptance`` is the
    fraction of the paper's draws that are valid and inside the budget.
    """

    values: Mapping[str, np.ndarray]
    flops: np.ndarray
    params: np.ndarray
    acts: np.ndarray
    draws: int

    def __len__(self) -> int:
        return len(self.flops)

    @property
    def acceptance(self) -> float:
        return len(self) / max(self.draws, 1)

    def row(self, i: int) -> dict:
        return {k: v[i] for k, v in self.values.items()}


@dataclass(frozen=True)
class Feasibility:
    """The verdict of :meth:`DesignSpace.check` on one configuration.

    ``constraints`` follows Optuna's convention (a value <= 0 is satisfied): ``structure`` (the
    number of structural constraints and caps broken) plus one normalised entry per budget bound
    (``flops_low = (lo - flops) / lo``, ``flops_high = (flops - hi) / hi``, ...), every key present
    whatever the outcome, so constraint-aware samplers can compare trials.
    """

    feasible: bool
    values: Mapping[str, int | float]
    config: NetConfig | None
    flops: int
    params: int
    acts: int
    violations: tuple[str, ...]
    constraints: Mapping[str, float]

    def to_dict(self) -> dict:
        return {"feasible": self.feasible, "flops": self.flops, "params": self.params,
                "acts": self.acts, "violations": list(self.violations),
                "config": None if self.config is None else self.config.to_dict()}


# ------------------------------------------------------------------------------------ spaces
@dataclass(frozen=True)
class DesignSpace:
    """Base class: a named parameter list, a vectorised decode and structural constraints.

    Subclasses implement :meth:`stage_arrays` (and may add a cheap :meth:`prefilter`, a
    :meth:`draw` that samples constrained parameters exactly, and :meth:`structure_descriptions`).
    Network-level settings (block type, stem, resolution, input channels, classes) are fields, so
    the same space can be counted at 224x224 for ImageNet or 28x28 for Fashion-MNIST.
    """

    name: str
    params: tuple[Param, ...]
    block: str = "X"
    stem: str = "imagenet"
    resolution: int = 224
    in_channels: int = 3
    num_classes: int = 1000
    stem_w: int = 32
    description: str = ""
    #: Extra caps evaluated on (flops, params, acts): (description, fn -> bool mask) pairs.
    caps: tuple[tuple[str, Callable], ...] = field(default=(), compare=False)

    def __post_init__(self) -> None:
        if self.block not in BLOCKS:
            raise ConfigError(f"block must be one of {', '.join(BLOCKS)}, got {self.block!r}")
        if self.stem not in STEMS:
            raise ConfigError(f"stem must be one of {', '.join(STEMS)}, got {self.stem!r}")
        for name, high in (("resolution", 16_384), ("in_channels", 100_000),
                           ("num_classes", 1_000_000), ("stem_w", 100_000)):
            v = getattr(self, name)  # 0, NaN, 2.5 or "32" would only fail deep inside a count
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or not 1 <= v <= high:
                raise ConfigError(f"{name} must be an integer in [1, {high}], got {v!r}")

    # ---------------------------------------------------------------- to implement
    def stage_arrays(self, v: Mapping[str, np.ndarray]):
        """(ds, ws, ss, bs, gs, ok): per-stage (N, S) arrays with compatibility applied, and the
        structural-constraint mask."""
        raise NotImplementedError

    def structure_descriptions(self) -> list[str]:
        """The structural constraints in words (empty when there are none)."""
        return []

    def prefilter(self, v: Mapping[str, np.ndarray]) -> np.ndarray | None:
        """A cheap necessary condition for the structural constraints (None: keep all rows)."""
        return None

    def draw(self, rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
        """n raw draws from the parameter distributions (before any constraint)."""
        return {p.name: p.sample(rng, n) for p in self.params}

    def _explain(self, values: Mapping[str, Any]) -> str:
        return "violates: " + "; ".join(self.structure_descriptions())

    # ---------------------------------------------------------------- facts
    @property
    def names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.params)

    def param(self, name: str) -> Param:
        for p in self.params:
            if p.name == name:
                return p
        raise KeyError(name)

    @property
    def net_kwargs(self) -> dict:
        return dict(block=self.block, stem=self.stem, stem_w=self.stem_w,
                    in_channels=self.in_channels, num_classes=self.num_classes,
                    resolution=self.resolution)

    @property
    def grid_size(self) -> float:
        """Points of the parameter grid (the product of the parameters' cardinalities)."""
        return float(np.prod([float(p.cardinality) for p in self.params]))

    @property
    def size(self) -> float:
        """Points of the grid that satisfy the structural constraints (exact where the subclass
        can count them; otherwise the grid size, see :attr:`size_is_exact`)."""
        return self.grid_size

    @property
    def size_is_exact(self) -> bool:
        return not self.structure_descriptions()

    def constraint_descriptions(self) -> list[str]:
        return self.structure_descriptions() + [c for c, _ in self.caps]

    def with_input(self, resolution: int, *, in_channels: int | None = None,
                   num_classes: int | None = None, stem: str | None = None,
                   block: str | None = None) -> "DesignSpace":
        """The same space counted for another input (small-image stem below 64 pixels).

        Example:
            >>> from regnet_space.spaces import get_space
            >>> get_space("regnetx").with_input(28, in_channels=1, num_classes=10).stem
            'small'
        """
        if isinstance(resolution, bool) or not isinstance(resolution, (int, np.integer)) \
                or resolution < 1:
            raise ConfigError(f"resolution must be an integer >= 1, got {resolution!r}")
        if stem is None:
            stem = "small" if resolution < 64 else ("imagenet" if self.stem == "small" else self.stem)
        return replace(self, resolution=resolution, stem=stem, block=block or self.block,
                       in_channels=self.in_channels if in_channels is None else in_channels,
                       num_classes=self.num_classes if num_classes is None else num_classes)

    # ---------------------------------------------------------------- values
    def check_values(self, values: Mapping[str, Any]) -> dict[str, int | float]:
        """Validate a parameter dict: every name present, every value allowed (ConfigError)."""
        if not isinstance(values, Mapping):
            raise ConfigError(f"parameters must be a mapping of {list(self.names)}")
        missing = [n for n in self.names if n not in values]
        extra = [k for k in values if k not in self.names]
        if missing or extra:
            raise ConfigError(f"space {self.name} takes parameters {list(self.names)}; "
                              f"missing {missing}, unknown {extra}")
        return {p.name: p.check(values[p.name]) for p in self.params}

    def snap(self, values: Mapping[str, Any]) -> dict[str, int | float]:
        """Each value moved to the nearest allowed one (for samplers unaware of the grid)."""
        return {p.name: p.snap(values[p.name]) for p in self.params}

    def _configs(self, stages: tuple, rows) -> list[NetConfig]:
        """NetConfigs of ``rows`` from the output of :meth:`stage_arrays`."""
        ds, ws, ss, bs, gs = stages[:5]
        net = self.net_kwargs
        return [NetConfig(stages=tuple(Stage(int(d), int(w), int(s), float(b), int(g))
                                       for d, w, s, b, g in zip(ds[i], ws[i], ss[i], bs[i], gs[i])
                                       if d > 0), **net) for i in rows]

    def decode(self, values: Mapping[str, Any]) -> NetConfig:
        """Parameter values -> NetConfig (compatibility applied). Raises ConfigError for values
        outside the space's ranges; structural constraints are checked by :meth:`check`.

        Example:
            >>> from regnet_space.spaces import get_space
            >>> cfg = get_space("regnetx").decode(dict(d=13, w0=24, wa=36.4, wm=2.49, b=1, g=8))
            >>> cfg.widths
            (24, 56, 152, 368)
        """
        values = self.check_values(values)
        return self._configs(self.stage_arrays({k: np.array([v]) for k, v in values.items()}),
                             [0])[0]

    # ---------------------------------------------------------------- feasibility
    def check_arrays(self, v: Mapping[str, np.ndarray], budget: Budget | Any = None):
        """Vectorised :meth:`check`: ``(flops, params, acts, structural_ok, feasible)`` arrays.

        ``structural_ok`` is the structural constraints and caps; ``feasible`` adds the budget.
        Complexity is only computed (and only meaningful) where ``structural_ok``.
        """
        budget = as_budget(budget)
        n = len(next(iter(v.values())))
        idx = np.arange(n)
        pre = self.prefilter(v)
        if pre is not None:
            idx = np.flatnonzero(pre)
            v = {k: np.asarray(x)[idx] for k, x in v.items()}
        ds, ws, ss, bs, gs, ok_sub = self.stage_arrays(v)
        kw = dict(self.net_kwargs, se_ratio=0.25 if self.block == "Y" else 0.0)
        if pre is None and ok_sub.all():  # the common AnyNet case: no copies
            f, p, a = complexity_arrays(ds, ws, ss, bs, gs, **kw)
            ok = ok_sub.copy()
        else:
            f, p, a = (np.zeros(n, dtype=np.int64) for _ in range(3))
            ok = np.zeros(n, dtype=bool)
            sel = np.flatnonzero(ok_sub)
            if len(sel):
                f_s, p_s, a_s = complexity_arrays(ds[sel], ws[sel], ss[sel], bs[sel], gs[sel],
                                                  **kw)
                rows = idx[sel]
                f[rows], p[rows], a[rows], ok[rows] = f_s, p_s, a_s, True
        for _, cap in self.caps:
            ok &= cap(f, p, a)
        return f, p, a, ok, ok & budget.mask(f, p, a)

    def check(self, values: Mapping[str, Any], budget: Budget | Any = None) -> Feasibility:
        """Is this configuration in the space and inside ``budget``? The one feasibility check.

        ``values`` must be allowed values of every parameter (a ConfigError otherwise: that is a
        caller's bug or bad input, not an infeasible point). Returns a :class:`Feasibility` with
        the NetConfig (None when the structure is invalid), the complexity, the reasons in words,
        and Optuna-style constraint values.
        """
        budget = as_budget(budget)
        values = self.check_values(values)
        arrays = {k: np.array([v]) for k, v in values.items()}
        ds, ws, ss, bs, gs, shape_ok = self.stage_arrays(arrays)
        reasons: list[str] = []
        config = None
        f = p = a = np.zeros(1, dtype=np.int64)
        if not shape_ok[0]:
            reasons.append(self._explain(values))
        else:
            config = self._configs((ds, ws, ss, bs, gs), [0])[0]
            kw = dict(self.net_kwargs, se_ratio=0.25 if self.block == "Y" else 0.0)
            f, p, a = complexity_arrays(ds, ws, ss, bs, gs, **kw)
            reasons += [desc for desc, cap in self.caps if not cap(f, p, a)[0]]
        f, p, a = int(f[0]), int(p[0]), int(a[0])
        constraints = {"structure": float(len(reasons))}
        for key, v in budget.violations(f, p, a).items():
            constraints[key] = float(v)
            if v > 0 and config is not None:
                reasons.append(f"{key.replace('_', ' ')} bound missed by {v:.1%}")
        feasible = all(v <= 0 for v in constraints.values())
        return Feasibility(feasible, values, config, f, p, a, tuple(reasons), constraints)

    def violations(self, values: Mapping[str, Any]) -> list[str]:
        """The structural constraints and caps ``values`` breaks; [] if none (no budget)."""
        return list(self.check(values).violations)

    # ---------------------------------------------------------------- sampling
    def sample_arrays(self, n: int, seed: int | None = None, *, flops: Any = None,
                      params: Any = None, acts: Any = None, budget: Budget | Any = None,
                      max_draws: int | None = None, progress: bool = False) -> SampleBatch:
        """n accepted draws as arrays, by vectorised rejection under the structural constraints
        and the budget. Batch sizes do not depend on n, so the same seed gives the same stream:
        ``sample_arrays(5, seed=s)`` is the first 5 of ``sample_arrays(50, seed=s)``.

        Raises :class:`~regnet_space.errors.BudgetError` (with the acceptance rate seen and the
        flops range of the space) when ``max_draws`` draws yield fewer than n. The default
        (``None``) allows :data:`MIN_DRAWS` draws, and more while the acceptance seen so far
        says the n samples need them (up to twice the expected count), so a large n works
        wherever a small one does; a budget nothing meets still fails after :data:`MIN_DRAWS`.

        Example:
            >>> from regnet_space.spaces import get_space
            >>> b = get_space("anynetx_a").sample_arrays(100, seed=0)
            >>> len(b), b.acceptance
            (100, 1.0)
        """
        if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n < 0:
            raise ConfigError(f"n must be an integer >= 0, got {n!r}")
        auto = max_draws is None  # the default: a floor that grows with n and the acceptance
        if not auto:
            check_int(max_draws, "max_draws", 1)
        budget = budget if budget is not None else Budget.parse(flops, params, acts)
        budget = as_budget(budget)
        rng = np.random.default_rng(check_seed(seed))
        got: list[dict] = []
        count, draws, batch = 0, 0, 1024
        seen_lo, seen_hi, structural = np.inf, -np.inf, 0
        bar = None
        if progress:
            from tqdm.auto import tqdm
            bar = tqdm(total=n, desc=f"sampling {self.name}", unit="net")
        try:
            while count < n:
                limit = max_draws if not auto else (
                    MIN_DRAWS if count == 0 else max(MIN_DRAWS, 2 * n * draws // count))
                if draws >= limit:
                    raise BudgetError(self._budget_message(n, count, draws, structural, budget,
                                                           seen_lo, seen_hi))
                v = self.draw(rng, batch)
                f, p, a, ok, keep = self.check_arrays(v, budget)
                structural += int(ok.sum())
                if ok.any():
                    seen_lo, seen_hi = min(seen_lo, f[ok].min()), max(seen_hi, f[ok].max())
                kept = np.flatnonzero(keep)
                need = n - count
                if len(kept) >= need:  # the last batch: count draws up to the n-th kept one
                    kept = kept[:need]
                    draws += int(kept[-1]) + 1
                else:
                    draws += batch
                if len(kept):
                    got.append({**{name: x[kept] for name, x in v.items()},
                                "__flops": f[kept], "__params": p[kept], "__acts": a[kept]})
                    count += len(kept)
                    if bar is not None:
                        bar.update(len(kept))
                batch = min(batch * 2, 65536)
        finally:
            if bar is not None:
                bar.close()
        keys = list(self.names) + ["__flops", "__params", "__acts"]
        cat = {k: (np.concatenate([g[k] for g in got]) if got else np.zeros(0)) for k in keys}
        return SampleBatch(values={k: cat[k] for k in self.names},
                           flops=cat["__flops"].astype(np.int64),
                           params=cat["__params"].astype(np.int64),
                           acts=cat["__acts"].astype(np.int64), draws=draws)

    def _budget_message(self, n, count, draws, structural, budget, lo, hi) -> str:
        rate = count / max(draws, 1)
        seen = (f"{fmt_amount(lo)}..{fmt_amount(hi)}" if np.isfinite(lo) else
                "none (no valid draw)")
        return (f"space {self.name} at {self.resolution}px: only {count} of {n} samples met "
                f"{budget.describe()} in {draws:,} draws (acceptance {rate:.2e}; "
                f"{structural / max(draws, 1):.1%} of draws satisfied the space's constraints). "
                f"flops seen in this space: {seen}. Widen the budget, lower n, or raise max_draws.")

    def sample(self, n: int, seed: int | None = None, **kwargs: Any) -> list[Sample]:
        """n accepted samples as :class:`Sample` (values, NetConfig, flops, params, acts).

        Same arguments as :meth:`sample_arrays`.

        Example:
            >>> from regnet_space.spaces import get_space
            >>> batch = get_space("anynetx_e").sample(3, seed=0, flops="360M:400M")
            >>> [360e6 <= s.flops <= 400e6 for s in batch]
            [True, True, True]
        """
        b = self.sample_arrays(n, seed, **kwargs)
        configs = self._configs(self.stage_arrays(b.values), range(len(b)))
        return [Sample({p.name: p.cast(b.values[p.name][i]) for p in self.params}, configs[i],
                       int(b.flops[i]), int(b.params[i]), int(b.acts[i])) for i in range(len(b))]


__all__ = ["DesignSpace", "Feasibility", "Sample", "SampleBatch"]
