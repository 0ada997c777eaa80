"""Design spaces: declarative parameter lists, decode to NetConfig, constraints, budget sampling.

A :class:`DesignSpace` is a tuple of :class:`Param` (name, distribution, range, quantization), a
vectorised decode to per-stage arrays, and structural constraints (4 stages, monotone widths...).
numpy sampling, Optuna's suggest calls, NNI's search-space JSON and tuners are all generated from
the one parameter list: an integration never restates a range.

Distributions are pycls's (``pycls/sweep/random.py``), vectorised:

* ``uniform(low, high, q)``: f ~ U[low, high + q), floored to a multiple of q.
* ``log_uniform(low, high, q)``: f log-uniform on (low - min(q, low/2), high], ceiled to q.
* ``power2``: a uniformly chosen power of two in [low, high].
* ``power2_or_log``: a power of two below q, or a log-uniform multiple of q (pycls's group widths).
* ``choice``: one of ``choices`` uniformly.

Example:
    >>> space = get_space("anynetx_e")
    >>> batch = space.sample(3, seed=0, flops="360M:400M")
    >>> [360e6 <= s.flops <= 400e6 for s in batch]
    [True, True, True]
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any, Callable, Mapping

import numpy as np

from .budget import Budget, fmt_amount
from .complexity import complexity_arrays
from .config import BLOCKS, STEMS, NetConfig, Stage
from .regnet import adjust_compatibility_arrays, generate_regnet_arrays, last_level

KINDS = ("uniform", "log_uniform", "power2", "power2_or_log", "choice")


def _decimals(q: float) -> int:
    return max(0, -Decimal(str(q)).as_tuple().exponent)


@dataclass(frozen=True)
class Param:
    """One sampled parameter: its name, distribution and quantized range (inclusive).

    Example:
        >>> w = Param("w1", "log_uniform", 8, 1024, 8)
        >>> v = w.sample(np.random.default_rng(0), 5)
        >>> bool(np.all(v % 8 == 0) and np.all((8 <= v) & (v <= 1024)))
        True
    """

    name: str
    kind: str
    low: float = 0
    high: float = 0
    q: float = 1
    choices: tuple = ()

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"Param {self.name}: kind must be one of {KINDS}, got {self.kind!r}")
        if self.kind == "choice":
            if not self.choices:
                raise ValueError(f"Param {self.name}: a choice needs choices")
            object.__setattr__(self, "choices", tuple(self.choices))
            return
        if not (self.q > 0 and self.low <= self.high):
            raise ValueError(f"Param {self.name}: need q > 0 and low <= high")
        if self.kind != "uniform" and self.low <= 0:
            raise ValueError(f"Param {self.name}: {self.kind} needs low > 0")
        if self.kind in ("uniform", "log_uniform"):
            for v in (self.low, self.high):
                if Decimal(str(v)) % Decimal(str(self.q)) != 0:
                    raise ValueError(f"Param {self.name}: bound {v} is not a multiple of q={self.q}")

    # ---------------------------------------------------------------- facts
    @property
    def is_int(self) -> bool:
        """Integer-valued (all values whole numbers)."""
        if self.kind == "choice":
            return all(float(c).is_integer() for c in self.choices)
        return float(self.q).is_integer() and float(self.low).is_integer()

    @property
    def log(self) -> bool:
        return self.kind in ("log_uniform", "power2", "power2_or_log")

    def values(self) -> np.ndarray:
        """Every value the parameter can take, ascending (all parameters are quantized)."""
        if self.kind == "choice":
            return np.array(sorted(self.choices))
        if self.kind == "power2":
            return 2.0 ** np.arange(math.ceil(math.log2(self.low)), math.floor(math.log2(self.high)) + 1)
        if self.kind == "power2_or_log":
            p2 = 2.0 ** np.arange(math.ceil(math.log2(self.low)), math.floor(math.log2(self.high)) + 1)
            small = p2[p2 < self.q]
            lo = max(self.low, self.q)
            return np.concatenate([small, self._quant(np.arange(lo / self.q, self.high / self.q + 0.5))])
        k = np.arange(round(self.low / self.q), round(self.high / self.q) + 1)
        return self._quant(k)

    @property
    def cardinality(self) -> int:
        return len(self.values())

    def pmf(self) -> tuple[np.ndarray, np.ndarray]:
        """(values, probabilities) of the exact distribution :meth:`sample` draws from.

        Example:
            >>> v, p = Param("g", "power2", 1, 32).pmf()
            >>> v.tolist(), bool(np.allclose(p, 1 / 6))
            ([1.0, 2.0, 4.0, 8.0, 16.0, 32.0], True)
        """
        vals = self.values()
        if self.kind in ("choice", "uniform", "power2"):
            return vals, np.full(len(vals), 1.0 / len(vals))
        if self.kind == "log_uniform":
            return vals, self._log_pmf(vals, self.low, self.high, self.q)
        p2 = 2.0 ** np.arange(math.ceil(math.log2(self.low)), math.floor(math.log2(self.high)) + 1)
        n_small = int(np.sum(p2 < self.q))
        big = vals[n_small:]
        probs = np.concatenate([np.full(n_small, 1.0 / len(p2)),
                                (1 - n_small / len(p2)) * self._log_pmf(
                                    big, max(self.low, self.q), self.high, min(self.high, self.q))])
        return vals, probs

    @staticmethod
    def _log_pmf(vals, low, high, q):
        # P(ceil(f / q) * q = v) for f log-uniform on (low - q*, high]
        lo = low - min(q, low / 2)
        upper = np.log(np.minimum(vals, high))
        lower = np.log(np.maximum(vals - q, lo))
        return (upper - lower) / (np.log(high) - np.log(lo))

    def _quant(self, k: np.ndarray) -> np.ndarray:
        """k * q with decimal exactness (matches pycls's Decimal quantize)."""
        if float(self.q) >= 1:
            return k * self.q
        return np.round(k * self.q, _decimals(self.q))

    def describe(self) -> str:
        if self.kind == "choice":
            return f"{self.name}: choice {list(self.choices)}"
        return f"{self.name}: {self.kind} [{self.low:g}, {self.high:g}] step {self.q:g}"

    # ---------------------------------------------------------------- sampling
    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """n draws from the parameter's distribution (pycls's formulas, vectorised)."""
        if self.kind == "choice":
            return np.asarray(self.choices)[rng.integers(len(self.choices), size=n)]
        if self.kind == "uniform":
            return self._uniform(rng, n, self.low, self.high, self.q)
        if self.kind == "log_uniform":
            return self._log_uniform(rng, n, self.low, self.high, self.q)
        if self.kind == "power2":
            return self._power2(rng, n, self.low, self.high)
        p2 = self._power2(rng, n, self.low, self.high)
        big = p2 >= self.q
        lo, q = max(self.low, self.q), min(self.high, self.q)
        return np.where(big, self._log_uniform(rng, n, lo, self.high, q), p2)

    def _uniform(self, rng, n, low, high, q):
        f = rng.uniform(low, high + q, n)
        return np.clip(self._quant(np.floor(f / q)), low, high)

    def _log_uniform(self, rng, n, low, high, q):
        # log-uniform on (low - q*, high], then ceil: pycls's rand.log_uniform, q* = min(q, low/2)
        f = np.exp(-rng.uniform(-np.log(high), -np.log(low - min(q, low / 2)), n))
        return np.clip(self._quant(np.ceil(f / q)), low, high)

    @staticmethod
    def _power2(rng, n, low, high):
        return 2.0 ** np.floor(rng.uniform(np.log2(low), np.log2(high) + 1, n))

    # ---------------------------------------------------------------- validation
    def contains(self, value: Any) -> bool:
        try:
            v = float(value)
        except (TypeError, ValueError):
            return False
        return bool(np.any(np.isclose(self.values(), v, rtol=0, atol=1e-9)))

    def snap(self, value: float) -> float:
        """The nearest allowed value (for tools whose suggestions ignore the quantization)."""
        vals = self.values()
        v = float(value)
        if self.log and v > 0:
            i = int(np.argmin(np.abs(np.log(vals) - np.log(v))))
        else:
            i = int(np.argmin(np.abs(vals - v)))
        return self.cast(vals[i])

    def cast(self, value: Any) -> int | float:
        return int(round(float(value))) if self.is_int else float(value)

    def check(self, value: Any) -> int | float:
        """The value as int/float; a ValueError naming the parameter and range if not allowed."""
        if not self.contains(value):
            if self.kind == "choice":
                allowed = f"one of {list(self.choices)}"
            elif self.kind in ("power2",):
                allowed = f"a power of 2 in [{self.low:g}, {self.high:g}]"
            elif self.kind == "power2_or_log":
                allowed = (f"a power of 2 below {self.q:g} or a multiple of {self.q:g} "
                           f"in [{self.low:g}, {self.high:g}]")
            else:
                allowed = f"a multiple of {self.q:g} in [{self.low:g}, {self.high:g}]"
            raise ValueError(f"parameter {self.name} = {value!r} is not allowed: must be {allowed}")
        return self.cast(value)


# ------------------------------------------------------------------------------------ samples
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
    """Accepted draws as arrays (what :meth:`DesignSpace.sample_arrays` returns)."""

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


class BudgetError(ValueError):
    """A regime the space cannot meet within the allowed number of draws."""


# ------------------------------------------------------------------------------------ spaces
@dataclass(frozen=True)
class DesignSpace:
    """Base class: a named parameter list, a vectorised decode and structural constraints.

    Subclasses implement :meth:`stage_arrays`. Network-level settings (block type, stem,
    resolution, input channels, classes) are fields, so the same space can be counted at 224x224
    for ImageNet or 28x28 for Fashion-MNIST.
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
    #: Extra caps evaluated on (flops, params, acts): list of (description, fn -> bool mask).
    caps: tuple[tuple[str, Callable], ...] = field(default=(), compare=False)

    def __post_init__(self) -> None:
        if self.block not in BLOCKS:
            raise ValueError(f"block must be one of {BLOCKS}, got {self.block!r}")
        if self.stem not in STEMS:
            raise ValueError(f"stem must be one of {STEMS}, got {self.stem!r}")

    # ---------------------------------------------------------------- to implement
    def stage_arrays(self, v: Mapping[str, np.ndarray]):
        """(ds, ws, ss, bs, gs, ok): per-stage (N, S) arrays with compatibility applied, and the
        structural-constraint mask."""
        raise NotImplementedError

    def constraint_descriptions(self) -> list[str]:
        return [c for c, _ in self.caps]

    # ---------------------------------------------------------------- derived
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
    def size(self) -> float:
        """Number of points of the parameter grid that satisfy the structural constraints."""
        return float(np.prod([float(p.cardinality) for p in self.params]))

    def with_input(self, resolution: int, *, in_channels: int | None = None,
                   num_classes: int | None = None, stem: str | None = None,
                   block: str | None = None) -> "DesignSpace":
        """The same space counted for another input (small-image stem below 64 pixels).

        Example:
            >>> get_space("regnetx").with_input(28, in_channels=1, num_classes=10).stem
            'small'
        """
        if stem is None:
            stem = "small" if resolution < 64 else ("imagenet" if self.stem == "small" else self.stem)
        return replace(self, resolution=resolution, stem=stem, block=block or self.block,
                       in_channels=self.in_channels if in_channels is None else in_channels,
                       num_classes=self.num_classes if num_classes is None else num_classes)

    def draw(self, rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
        """n raw draws from the parameter distributions (before any constraint)."""
        return {p.name: p.sample(rng, n) for p in self.params}

    def prefilter(self, v: Mapping[str, np.ndarray]) -> np.ndarray | None:
        """A cheap necessary condition for the structural constraints (None: keep all rows)."""
        return None

    def evaluate_arrays(self, v: Mapping[str, np.ndarray]):
        """(flops, params, acts, ok) for arrays of parameter values; ``ok`` is the structural
        constraints and caps. Complexity is only computed (and only meaningful) where ok."""
        n = len(next(iter(v.values())))
        idx = np.arange(n)
        pre = self.prefilter(v)
        if pre is not None:
            idx = np.flatnonzero(pre)
            v = {k: x[idx] for k, x in v.items()}
        ds, ws, ss, bs, gs, ok_sub = self.stage_arrays(v)
        kw = self.net_kwargs
        kw.pop("block")
        kw.update(block=self.block, se_ratio=0.25 if self.block == "Y" else 0.0)
        if pre is None and ok_sub.all():  # common AnyNet case: no copies
            f, p, a = complexity_arrays(ds, ws, ss, bs, gs, **kw)
            ok = ok_sub.copy()
        else:
            sel = np.flatnonzero(ok_sub)
            f_s, p_s, a_s = complexity_arrays(ds[sel], ws[sel], ss[sel], bs[sel], gs[sel], **kw)
            f, p, a = (np.zeros(n, dtype=np.int64) for _ in range(3))
            ok = np.zeros(n, dtype=bool)
            rows = idx[sel]
            f[rows], p[rows], a[rows], ok[rows] = f_s, p_s, a_s, True
        for _, cap in self.caps:
            ok &= cap(f, p, a)
        return f, p, a, ok

    def check_values(self, values: Mapping[str, Any]) -> dict[str, int | float]:
        """Validate a parameter dict: every name present, every value allowed."""
        if not isinstance(values, Mapping):
            raise ValueError(f"parameters must be a mapping of {list(self.names)}")
        missing = [n for n in self.names if n not in values]
        extra = [k for k in values if k not in self.names]
        if missing or extra:
            raise ValueError(f"space {self.name} takes parameters {list(self.names)}; "
                             f"missing {missing}, unknown {extra}")
        return {p.name: p.check(values[p.name]) for p in self.params}

    def snap(self, values: Mapping[str, Any]) -> dict[str, int | float]:
        """Each value moved to the nearest allowed one (for samplers unaware of the grid)."""
        return {p.name: p.snap(values[p.name]) for p in self.params}

    def decode(self, values: Mapping[str, Any]) -> NetConfig:
        """Parameter values -> NetConfig (compatibility applied). Raises ValueError for values
        outside the space's ranges; structural constraints are checked by :meth:`violations`.

        Example:
            >>> cfg = get_space("regnetx").decode(dict(d=13, w0=24, wa=36.4, wm=2.49, b=1, g=8))
            >>> cfg.widths
            (24, 56, 152, 368)
        """
        values = self.check_values(values)
        ds, ws, ss, bs, gs, _ = self.stage_arrays({k: np.array([v]) for k, v in values.items()})
        stages = [Stage(int(d), int(w), int(s), float(b), int(g))
                  for d, w, s, b, g in zip(ds[0], ws[0], ss[0], bs[0], gs[0]) if d > 0]
        return NetConfig(stages=tuple(stages), **self.net_kwargs)

    def violations(self, values: Mapping[str, Any]) -> list[str]:
        """The structural constraints (and caps) a parameter dict breaks; [] if none."""
        values = self.check_values(values)
        arrays = {k: np.array([v]) for k, v in values.items()}
        ds, ws, ss, bs, gs, ok = self.stage_arrays(arrays)
        if not ok[0]:
            return [self._explain(values, ds[0], ws[0])]
        f, p, a, _ = self.evaluate_arrays(arrays)
        return [desc for desc, cap in self.caps if not cap(f, p, a)[0]]

    def _explain(self, values, ds, ws) -> str:
        return "violates: " + "; ".join(self.structure_descriptions())

    def structure_descriptions(self) -> list[str]:
        return []

    # ---------------------------------------------------------------- sampling
    def sample_arrays(self, n: int, seed: int | None = None, *, flops: Any = None,
                      params: Any = None, acts: Any = None, budget: Budget | None = None,
                      max_draws: int = 20_000_000, progress: bool = False) -> SampleBatch:
        """n accepted draws as arrays, by vectorised rejection under the structural constraints
        and the budget. Batch sizes do not depend on n, so the same seed gives the same stream:
        ``sample_arrays(5, seed=s)`` is the first 5 of ``sample_arrays(50, seed=s)``.

        Raises :class:`BudgetError` (with the acceptance rate seen and the flops range of the
        space) when ``max_draws`` draws yield fewer than n.
        """
        if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n < 0:
            raise ValueError(f"n must be an integer >= 0, got {n!r}")
        budget = budget or Budget.parse(flops, params, acts)
        rng = np.random.default_rng(seed)
        got: list[dict] = []
        count, draws, batch = 0, 0, 1024
        seen_lo, seen_hi, structural = np.inf, -np.inf, 0
        bar = None
        if progress:
            from tqdm.auto import tqdm
            bar = tqdm(total=n, desc=f"sampling {self.name}", unit="net")
        while count < n:
            if draws >= max_draws:
                if bar is not None:
                    bar.close()
                raise BudgetError(self._budget_message(n, count, draws, structural, budget,
                                                       seen_lo, seen_hi))
            v = self.draw(rng, batch)
            draws += batch
            f, p, a, ok = self.evaluate_arrays(v)
            structural += int(ok.sum())
            if ok.any():
                seen_lo, seen_hi = min(seen_lo, f[ok].min()), max(seen_hi, f[ok].max())
            keep = ok & budget.mask(f, p, a)
            k = int(keep.sum())
            if k:
                got.append({**{name: x[keep] for name, x in v.items()},
                            "__flops": f[keep], "__params": p[keep], "__acts": a[keep]})
                count += k
                if bar is not None:
                    bar.update(min(k, n - (count - k)))
            batch = min(batch * 2, 65536)
        if bar is not None:
            bar.close()
        keys = list(self.names) + ["__flops", "__params", "__acts"]
        cat = {k: (np.concatenate([g[k] for g in got])[:n] if got else np.zeros(0)) for k in keys}
        return SampleBatch(values={k: cat[k] for k in self.names}, flops=cat["__flops"].astype(np.int64),
                           params=cat["__params"].astype(np.int64), acts=cat["__acts"].astype(np.int64),
                           draws=draws)

    def _budget_message(self, n, count, draws, structural, budget, lo, hi) -> str:
        rate = count / max(draws, 1)
        rng = (f"{fmt_amount(lo)}..{fmt_amount(hi)}" if np.isfinite(lo) else "none (no valid draw)")
        return (f"space {self.name} at {self.resolution}px: only {count} of {n} samples met "
                f"{budget.describe()} in {draws:,} draws (acceptance {rate:.2e}; "
                f"{structural / max(draws, 1):.1%} of draws satisfied the space's constraints). "
                f"flops seen in this space: {rng}. Widen the budget, lower n, or raise max_draws.")

    def sample(self, n: int, seed: int | None = None, **kwargs: Any) -> list[Sample]:
        """n accepted samples as :class:`Sample` (values, NetConfig, flops, params, acts).

        Same arguments as :meth:`sample_arrays`.
        """
        b = self.sample_arrays(n, seed, **kwargs)
        ds, ws, ss, bs, gs, _ = self.stage_arrays(b.values)  # values already valid: no re-check
        net = self.net_kwargs
        out = []
        for i in range(len(b)):
            values = {p.name: p.cast(b.values[p.name][i]) for p in self.params}
            stages = tuple(Stage(int(d), int(w), int(s), float(bb), int(g))
                           for d, w, s, bb, g in zip(ds[i], ws[i], ss[i], bs[i], gs[i]) if d > 0)
            out.append(Sample(values, NetConfig(stages=stages, **net), int(b.flops[i]),
                              int(b.params[i]), int(b.acts[i])))
        return out


# ------------------------------------------------------------------------------------ AnyNetX
D_RANGE, W_RANGE, B_CHOICES, G_RANGE = (1, 16), (8, 1024), (1, 2, 4), (1, 32)


@dataclass(frozen=True)
class AnyNetSpace(DesignSpace):
    """AnyNetX_A..E: per-stage depth d_i, width w_i, bottleneck ratio b_i and group width g_i.

    ``shared_b``/``shared_g`` tie b and g across stages (B, C); ``monotone_w``/``monotone_d``
    require w_{i+1} >= w_i (D) and d_{i+1} >= d_i (E), enforced by rejection so the distribution is
    the product distribution restricted to the space.
    """

    num_stages: int = 4
    shared_b: bool = False
    shared_g: bool = False
    monotone_w: bool = False
    monotone_d: bool = False

    def draw(self, rng, n):
        v = super().draw(rng, n)
        # Monotone widths/depths: draw the stage sequence from the product distribution restricted
        # to non-decreasing sequences, exactly (no 1-in-24 rejection).
        for flag, prefix in ((self.monotone_w, "w"), (self.monotone_d, "d")):
            if flag:
                seq = sample_monotone(self.param(f"{prefix}1"), self.num_stages, rng, n)
                for i in range(self.num_stages):
                    v[f"{prefix}{i + 1}"] = seq[:, i]
        return v

    def stage_arrays(self, v):
        s = self.num_stages
        n = len(next(iter(v.values())))
        ds = np.stack([v[f"d{i}"] for i in range(1, s + 1)], 1).astype(np.int64)
        ws = np.stack([v[f"w{i}"] for i in range(1, s + 1)], 1)
        bs = (np.repeat(np.asarray(v["b"], float)[:, None], s, 1) if self.shared_b
              else np.stack([v[f"b{i}"] for i in range(1, s + 1)], 1).astype(float))
        gs = (np.repeat(np.asarray(v["g"])[:, None], s, 1) if self.shared_g
              else np.stack([v[f"g{i}"] for i in range(1, s + 1)], 1))
        ok = np.ones(n, dtype=bool)
        if self.monotone_w:
            ok &= np.all(ws[:, 1:] >= ws[:, :-1], axis=1)
        if self.monotone_d:
            ok &= np.all(ds[:, 1:] >= ds[:, :-1], axis=1)
        if self.block in ("V", "VR"):
            ws_adj, gs_adj = ws.astype(np.int64), ws.astype(np.int64)
        else:
            g_in = np.trunc(ws / bs).astype(np.int64) if self.block == "R" else gs
            ws_adj, gs_adj = adjust_compatibility_arrays(ws, bs, g_in)
        ss = np.full(ds.shape, 2, dtype=np.int64)
        return ds, ws_adj, ss, bs, gs_adj, ok

    def structure_descriptions(self) -> list[str]:
        out = []
        if self.monotone_w:
            out.append("widths non-decreasing (w_{i+1} >= w_i)")
        if self.monotone_d:
            out.append("depths non-decreasing (d_{i+1} >= d_i)")
        return out

    @property
    def size(self) -> float:
        s = self.num_stages
        d_card, w_card = self.param("d1").cardinality, self.param("w1").cardinality
        n_d = math.comb(d_card + s - 1, s) if self.monotone_d else d_card ** s
        n_w = math.comb(w_card + s - 1, s) if self.monotone_w else w_card ** s
        n_b = self.param("b" if self.shared_b else "b1").cardinality ** (1 if self.shared_b else s)
        n_g = self.param("g" if self.shared_g else "g1").cardinality ** (1 if self.shared_g else s)
        return float(n_d) * n_w * n_b * n_g


def sample_monotone(param: Param, length: int, rng: np.random.Generator, n: int) -> np.ndarray:
    """n non-decreasing sequences x_1 <= ... <= x_length, each with probability proportional to
    prod_i pmf(x_i): the i.i.d. product distribution conditioned on being sorted, sampled exactly by
    forward filtering, backward sampling over the parameter's (finite) value grid.

    Example:
        >>> x = sample_monotone(Param("d", "log_uniform", 1, 16, 1), 4, np.random.default_rng(0), 3)
        >>> bool(np.all(np.diff(x, axis=1) >= 0))
        True
    """
    vals, p = param.pmf()
    alphas = [p / p.sum()]
    for _ in range(length - 1):
        a = p * np.cumsum(alphas[-1])  # alpha_i(v) = p(v) * sum_{u <= v} alpha_{i-1}(u)
        alphas.append(a / a.sum())
    out = np.empty((n, length), dtype=np.int64)
    cum = np.cumsum(alphas[-1])
    out[:, -1] = np.minimum(np.searchsorted(cum, rng.uniform(0, cum[-1], n), side="right"),
                            len(vals) - 1)
    for i in range(length - 2, -1, -1):
        cum = np.cumsum(alphas[i])
        limit = cum[out[:, i + 1]]  # x_i <= x_{i+1}
        idx = np.searchsorted(cum, rng.uniform(0, 1, n) * limit, side="right")
        out[:, i] = np.minimum(idx, out[:, i + 1])
    return vals[out]


def anynet_params(num_stages: int, shared_b: bool, shared_g: bool, d=D_RANGE, w=W_RANGE,
                  b=B_CHOICES, g=G_RANGE) -> tuple[Param, ...]:
    out = []
    for i in range(1, num_stages + 1):
        out.append(Param(f"d{i}", "log_uniform", d[0], d[1], 1))
        out.append(Param(f"w{i}", "log_uniform", w[0], w[1], 8))
        if not shared_b:
            out.append(Param(f"b{i}", "choice", choices=tuple(b)))
        if not shared_g:
            out.append(Param(f"g{i}", "power2", g[0], g[1], 1))
    if shared_b:
        out.append(Param("b", "choice", choices=tuple(b)))
    if shared_g:
        out.append(Param("g", "power2", g[0], g[1], 1))
    return tuple(out)


def anynetx(letter: str, *, num_stages: int = 4, block: str = "X", **net: Any) -> AnyNetSpace:
    """AnyNetX_A..E (paper Sec. 3.2). ``net`` overrides stem/resolution/classes/channels.

    Example:
        >>> f"{anynetx('A').size:.1e}"
        '1.8e+18'
    """
    letter = letter.upper()
    if letter not in "ABCDE" or len(letter) != 1:
        raise ValueError(f"AnyNetX variant must be one of A, B, C, D, E, got {letter!r}")
    level = "ABCDE".index(letter)
    flags = dict(shared_b=level >= 1, shared_g=level >= 2, monotone_w=level >= 3,
                 monotone_d=level >= 4)
    desc = ["4 stages, d_i <= 16 log-uniform, w_i <= 1024 multiple of 8 log-uniform, "
            "b_i in {1,2,4}, g_i in {1..32} powers of 2",
            "shared b", "shared g", "w_{i+1} >= w_i", "d_{i+1} >= d_i"][: level + 1]
    return AnyNetSpace(
        name=f"anynetx_{letter.lower()}" + (f"_{num_stages}s" if num_stages != 4 else ""),
        params=anynet_params(num_stages, flags["shared_b"], flags["shared_g"]),
        block=block, description="; ".join(desc), num_stages=num_stages, **flags, **net)


# ------------------------------------------------------------------------------------ RegNet
@dataclass(frozen=True)
class RegNetSpace(DesignSpace):
    """RegNet: (d, w0, wa, wm, b, g) -> quantized linear widths (Eq. 2-4), keeping only samples
    with exactly ``num_stages`` stages and no skipped exponent level (as pycls's sweep does).

    :meth:`decode` accepts any stage count, so a tool can inspect a rejected sample;
    :meth:`violations` reports the stage rule."""

    num_stages: int = 4

    def prefilter(self, v):
        # num_stages == total_stages == S needs exactly S exponent levels: decided by the last block
        return last_level(v["d"], v["w0"], v["wa"], v["wm"]) == self.num_stages - 1

    def stage_arrays(self, v):
        ds, ws, ns, ts = generate_regnet_arrays(v["d"], v["w0"], v["wa"], v["wm"])
        ok = (ns == self.num_stages) & (ns == ts)
        bs = np.repeat(np.asarray(v["b"], float)[:, None], ds.shape[1], 1)
        g = np.repeat(np.asarray(v["g"])[:, None], ds.shape[1], 1)
        if self.block == "R":
            g = np.trunc(ws / bs).astype(np.int64)
        ws_adj, gs_adj = adjust_compatibility_arrays(ws, bs, g)
        ss = np.where(ds > 0, 2, 1)
        return ds, ws_adj, ss, bs, gs_adj, ok

    def structure_descriptions(self) -> list[str]:
        return [f"exactly {self.num_stages} stages with no skipped width level"]

    def _explain(self, values, ds, ws) -> str:
        from .regnet import generate_regnet
        r = generate_regnet(values["d"], values["w0"], values["wa"], values["wm"])
        why = (f"{r.num_stages} stages" if r.num_stages != self.num_stages else
               f"skips a width level ({r.num_stages} stages over {r.total_stages} levels)")
        return f"RegNet needs {self.num_stages} stages with no skipped level; this one has {why}"


def _constrained_caps():
    # Section 4-5: params <= 3 + 5.5 F million and acts <= 6.5 sqrt(F) million, F in GF.
    def params_cap(f, p, a):
        return p <= (3 + 5.5 * f / 1e9) * 1e6

    def acts_cap(f, p, a):
        return a <= 6.5 * np.sqrt(f / 1e9) * 1e6

    return (("params <= 3 + 5.5 F million (F = GF)", params_cap),
            ("acts <= 6.5 sqrt(F) million (F = GF)", acts_cap))


def regnet(block: str = "X", *, num_stages: int = 4, variant: str = "paper", **net: Any) -> RegNetSpace:
    """RegNetX/RegNetY spaces.

    ``variant``: ``paper`` (d < 64, w0 in [8, 256) step 8, wa in [8, 256) step 0.1, 1.5 <= wm <= 3,
    b in {1, 2, 4}, g in {1..32} powers of 2), ``constrained`` (Sec. 4-5: b = 1, 12 <= d <= 28,
    wm >= 2, g power of 2 below 8 or multiple of 8 up to 128, params and acts caps), ``pycls``
    (pycls's sweep sampler: depth [12, 28], w0/wa [8, 256], wm [2, 3], same g, b = 1, no caps).

    Example:
        >>> regnet("Y").name
        'regnety'
    """
    block = block.upper()
    if variant == "paper":
        params = (Param("d", "uniform", 1, 63, 1), Param("w0", "log_uniform", 8, 248, 8),
                  Param("wa", "log_uniform", 8, 255.9, 0.1), Param("wm", "log_uniform", 1.5, 3, 0.001),
                  Param("b", "choice", choices=B_CHOICES), Param("g", "power2", 1, 32, 1))
        desc, caps = "d < 64, w0, wa in [8, 256), 1.5 <= wm <= 3, b in {1,2,4}, g in {1..32}", ()
    elif variant in ("constrained", "pycls"):
        params = (Param("d", "uniform", 12, 28, 1), Param("w0", "log_uniform", 8, 256, 8),
                  Param("wa", "log_uniform", 8, 256, 0.1), Param("wm", "log_uniform", 2, 3, 0.001),
                  Param("b", "choice", choices=(1,)), Param("g", "power2_or_log", 1, 128, 8))
        desc = "12 <= d <= 28, w0, wa in [8, 256], 2 <= wm <= 3, b = 1, g: 1, 2, 4 or 8k <= 128"
        caps = _constrained_caps() if variant == "constrained" else ()
        if caps:
            desc += "; params <= 3 + 5.5F M, acts <= 6.5 sqrt(F) M"
    else:
        raise ValueError(f"RegNet variant must be paper, constrained or pycls, got {variant!r}")
    suffix = {"paper": "", "constrained": "_constrained", "pycls": "_pycls"}[variant]
    stages = f"_{num_stages}s" if num_stages != 4 else ""
    return RegNetSpace(name=f"regnet{block.lower()}{suffix}{stages}", params=params, block=block,
                       description=desc, caps=caps, num_stages=num_stages, **net)


# ------------------------------------------------------------------------------------ registry
SPACES: dict[str, Callable[..., DesignSpace]] = {
    "anynetx_a": lambda **kw: anynetx("A", **kw),
    "anynetx_b": lambda **kw: anynetx("B", **kw),
    "anynetx_c": lambda **kw: anynetx("C", **kw),
    "anynetx_d": lambda **kw: anynetx("D", **kw),
    "anynetx_e": lambda **kw: anynetx("E", **kw),
    "regnetx": lambda **kw: regnet("X", **kw),
    "regnety": lambda **kw: regnet("Y", **kw),
    "regnetx_constrained": lambda **kw: regnet("X", variant="constrained", **kw),
    "regnety_constrained": lambda **kw: regnet("Y", variant="constrained", **kw),
    "regnetx_pycls": lambda **kw: regnet("X", variant="pycls", **kw),
}


def space_names() -> list[str]:
    return list(SPACES)


def get_space(name: str, *, resolution: int | None = None, in_channels: int | None = None,
              num_classes: int | None = None, stem: str | None = None,
              num_stages: int | None = None, block: str | None = None) -> DesignSpace:
    """A registered space by name, optionally for another input, stem, stage count or block.

    The stem follows the resolution (small-image stem below 64 pixels) unless given.

    Example:
        >>> get_space("anynetx_a", resolution=28, in_channels=1, num_classes=10).stem
        'small'
    """
    key = str(name).lower().replace("-", "_")
    if key not in SPACES:
        raise ValueError(f"unknown space {name!r}; known spaces: {', '.join(SPACES)}")
    kw: dict[str, Any] = {}
    if num_stages is not None:
        if not 1 <= int(num_stages) <= 8:
            raise ValueError(f"num_stages must be in [1, 8], got {num_stages}")
        kw["num_stages"] = int(num_stages)
    space = SPACES[key](**kw)
    if block is not None:
        block = block.upper()
        if block not in BLOCKS:
            raise ValueError(f"block must be one of {', '.join(BLOCKS)}, got {block!r}")
        space = replace(space, block=block)
    if resolution is not None or in_channels is not None or num_classes is not None or stem is not None:
        if stem is not None and stem not in STEMS:
            raise ValueError(f"stem must be one of {', '.join(STEMS)}, got {stem!r}")
        space = space.with_input(resolution or space.resolution, in_channels=in_channels,
                                 num_classes=num_classes, stem=stem)
    return space
