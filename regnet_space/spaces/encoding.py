"""How a searcher sees a design space: search coordinates and their decoding to parameter values.

An :class:`Encoding` turns a design space (and a complexity budget) into a list of tool-neutral
:class:`~regnet_space.spaces.params.Coord` and two maps, ``decode(coords) -> values`` and
``encode(values) -> coords``. Optuna's suggestions, NNI's search-space JSON and the NAS mutables
are generated from the coordinates, so every tool searches the same encoding.

* :class:`RawEncoding` (``"raw"``): one coordinate per space parameter (:meth:`Param.coord`).
  Under a narrow budget almost every point of this box is infeasible: about 13% of RegNet's
  draws have exactly 4 stages and 0.24% of them land in 360-400 MF. Kept for faithful comparisons
  and the paper's rejection semantics.
* :class:`~regnet_space.spaces.feasible.FeasibleEncoding` (``"feasible"``, the default for
  searchers; in :mod:`regnet_space.spaces.feasible`): coordinates whose points decode inside the
  budget and the structural constraints by construction:

  - a ``size`` coordinate in [0, 1] is the position of the network's complexity inside the
    budget, on a log scale: ``target = lo * (hi / lo) ** size`` for the first bounded metric
    (flops, else params, else acts; without a budget, the range the space reaches);
  - the other coordinates fix the network's *shape*; decoding scales it to the target: for
    AnyNetX all widths by one factor, for RegNet ``w0`` with ``wa = r * w0`` at a fixed slope
    ratio ``r``, and keeps, among the scaled candidates that are feasible, the one whose
    complexity is nearest the target;
  - RegNet's 4-stage rule is met by construction: ``slope`` in [0, 1) places ``r = wa / w0``
    inside the interval for which the last block lands on level ``S - 1``
    (``1 + r (d - 1)`` in ``[wm^(S - 1.5), wm^(S - 0.5))``), and ``d`` starts at ``S``;
  - AnyNetX_D/E's monotone widths/depths: the proposed stage values are sorted, which maps the
    i.i.d. proposal onto non-decreasing sequences with probability proportional to the product
    (the paper's D/E distribution up to ties);
  - a shape that no width fits (too deep for the budget at the narrowest widths, or too shallow
    at the widest) has its depth moved, first rescaled onto the depths the budget allows;
  - a proposal that still decodes to nothing feasible (a RegNet slope that skips a level at the
    new depth, the constrained spaces' caps) is repaired to the nearest configuration of a fixed,
    seeded pool of feasible samples of the space. The decoding says when a proposal was moved
    (``Decoded.repaired``).

  Every feasible configuration of the space is reachable: ``FeasibleEncoding.encode`` gives
  coordinates that decode to exactly that configuration (the candidate at scale 1 hits the
  target exactly). docs/encodings.md measures the feasible rate, the repair rate and how the
  encoding's prior differs from the paper's distribution.

Example:
    >>> from regnet_space.spaces import get_space
    >>> space = get_space("regnetx", resolution=28, in_channels=1, num_classes=10)
    >>> enc = get_encoding(space, "2M:5M")
    >>> [c.name for c in enc.coords]
    ['d', 'wm', 'b_index', 'g_log2', 'slope', 'size']
    >>> dec = enc.decode(dict(d=20, wm=2.5, b_index=0, g_log2=3, slope=0.5, size=0.5))
    >>> space.check(dec.values, "2M:5M").feasible
    True
    >>> s = space.sample(1, seed=0, flops="2M:5M")[0]
    >>> enc.decode(enc.encode(s.values)).values == s.values
    True
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np

from ..budget import Budget, as_budget
from ..errors import ConfigError
from .base import DesignSpace
from .params import Coord, Param

ENCODINGS = ("feasible", "raw")


@dataclass(frozen=True)
class Decoded:
    """What a point of an encoding decodes to: the space's parameter values, and whether the
    proposal had to be moved (its depth, or to the nearest feasible pool configuration)."""

    values: Mapping[str, int | float]
    repaired: bool = False


class Encoding:
    """Base class: coordinates, ``decode`` and ``encode`` for one space and budget."""

    name = ""

    def __init__(self, space: DesignSpace, budget: Budget | Any = None) -> None:
        if not isinstance(space, DesignSpace):
            raise ConfigError(f"an encoding needs a DesignSpace, got {type(space).__name__}")
        self.space = space
        self.budget = as_budget(budget)

    coords: tuple[Coord, ...] = ()

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.coords)

    def _clip(self, x: Mapping[str, Any]) -> dict[str, Any]:
        if not isinstance(x, Mapping):
            raise ConfigError(f"coordinates must be a mapping of {list(self.names)}")
        missing = [n for n in self.names if n not in x]
        if missing:
            raise ConfigError(f"the {self.name} encoding of {self.space.name} takes coordinates "
                              f"{list(self.names)}; missing {missing} (was the search space "
                              f"generated for another space or encoding?)")
        return {c.name: c.clip(x[c.name]) for c in self.coords}

    def decode(self, x: Mapping[str, Any]) -> Decoded:
        """Coordinates (clipped to their ranges) -> the space's parameter values."""
        out = self.decode_arrays({k: np.array([v]) for k, v in self._clip(x).items()})
        values, repaired = out
        return Decoded({p.name: p.cast(values[p.name][0]) for p in self.space.params},
                       bool(repaired[0]))

    def decode_arrays(self, x: Mapping[str, np.ndarray]) -> tuple[dict[str, np.ndarray],
                                                                   np.ndarray]:
        """Vectorised :meth:`decode`: (values arrays, repaired mask)."""
        raise NotImplementedError

    def encode(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """Allowed parameter values -> coordinates that decode to the same network."""
        raise NotImplementedError

    def random_coords(self, rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
        """n points uniform over the coordinates (log-uniform on log ones), as a random searcher
        proposes them; used to measure the encoding's prior."""
        out = {}
        for c in self.coords:
            if c.type == "categorical":
                out[c.name] = np.asarray(c.choices, dtype=object)[rng.integers(len(c.choices),
                                                                              size=n)]
            elif c.type == "int":
                if c.log:
                    v = np.exp(rng.uniform(np.log(c.low), np.log(c.high + 1), n))
                    out[c.name] = np.minimum(np.floor(v), c.high).astype(np.int64)
                else:
                    out[c.name] = rng.integers(int(c.low), int(c.high) + 1, size=n)
            elif c.log:
                out[c.name] = np.exp(rng.uniform(np.log(c.low), np.log(c.high), n))
            else:
                out[c.name] = rng.uniform(c.low, c.high, n)
        return out

    def describe(self) -> str:
        return f"{self.name} encoding of {self.space.name} ({self.budget.describe()}): " + \
            ", ".join(self.names)


# ------------------------------------------------------------------------------------ raw
class RawEncoding(Encoding):
    """One coordinate per parameter of the space (the paper's parameters as they are).

    Example:
        >>> from regnet_space.spaces import get_space
        >>> RawEncoding(get_space("regnetx")).names
        ('d', 'w0', 'wa', 'wm', 'b_index', 'g_log2')
    """

    name = "raw"

    def __init__(self, space: DesignSpace, budget: Budget | Any = None) -> None:
        super().__init__(space, budget)
        self.coords = tuple(p.coord() for p in space.params)

    def decode_arrays(self, x):
        values = {p.name: _from_coord(p, np.asarray(x[c.name]))
                  for p, c in zip(self.space.params, self.coords)}
        return values, np.zeros(len(next(iter(values.values()))), dtype=bool)

    def encode(self, values):
        values = self.space.check_values(values)
        return {c.name: p.to_coord(values[p.name]) for p, c in zip(self.space.params, self.coords)}


def _to_coord(p: Param, v: np.ndarray) -> np.ndarray:
    """Vectorised :meth:`Param.to_coord`."""
    v = np.asarray(v, dtype=float)
    if p.kind == "power2":
        return np.round(np.log2(v))
    if p.kind == "choice" and p.coord().type != "categorical":
        vals = p.values().astype(float)
        return np.argmin(np.abs(vals[None, :] - v[:, None]), axis=1).astype(float)
    return v


def _from_coord(p: Param, x: np.ndarray) -> np.ndarray:
    """Vectorised :meth:`Param.from_coord`: the nearest allowed value of each coordinate."""
    vals = p.values().astype(float)
    if p.kind == "power2":
        return 2.0 ** np.round(x.astype(float))
    if p.kind == "choice":
        if p.coord().type == "categorical":
            return x
        return vals[np.clip(np.round(x.astype(float)).astype(int), 0, len(vals) - 1)]
    return _snap(p, x.astype(float))


def _snap(p: Param, x: np.ndarray) -> np.ndarray:
    """The nearest allowed value (in log space for log kinds), vectorised."""
    vals = p.values().astype(float)
    if p.log:
        lv = np.log(vals)
        lx = np.log(np.maximum(x, 1e-300))
        i = np.clip(np.searchsorted(lv, lx), 1, len(vals) - 1)
        i = np.where(np.abs(lx - lv[i - 1]) <= np.abs(lx - lv[i]), i - 1, i)
    else:
        i = np.clip(np.searchsorted(vals, x), 1, len(vals) - 1)
        i = np.where(np.abs(x - vals[i - 1]) <= np.abs(x - vals[i]), i - 1, i)
    return vals[i]


def get_encoding(space: DesignSpace, budget: Budget | Any = None,
                 encoding: str = "feasible") -> Encoding:
    """The encoding of ``space`` under ``budget``: ``feasible`` (default) or ``raw``.

    Example:
        >>> from regnet_space.spaces import get_space
        >>> get_encoding(get_space("anynetx_e"), "360M:400M").names[-1]
        'size'
    """
    key = str(encoding).strip().lower()
    if key not in ENCODINGS:
        raise ConfigError(f"unknown encoding {encoding!r}; choose one of {', '.join(ENCODINGS)}")
    if key == "raw":
        return RawEncoding(space, budget)
    from .anynet import AnyNetSpace
    from .feasible import AnyNetFeasible, RegNetFeasible
    from .regnet import RegNetSpace

    if isinstance(space, RegNetSpace):
        return RegNetFeasible(space, budget)
    if isinstance(space, AnyNetSpace):
        return AnyNetFeasible(space, budget)
    raise ConfigError(f"no feasible encoding for a {type(space).__name__}; use encoding='raw'")


def cached_encoding(space: DesignSpace, budget: Budget | Any = None,
                    encoding: str = "feasible") -> Encoding:
    """:func:`get_encoding`, built once per (space, budget, encoding) and then shared.

    Building a feasible encoding samples its 2,048-configuration repair pool, far more work
    than a trial's suggestion, so the integrations (``suggest``, NNI's decoding) call this.
    Spaces and budgets are frozen dataclasses: equal ones share one encoding. A bounded
    :func:`functools.lru_cache` holds the 32 most recent; a space with an unhashable field is
    built each time.

    Example:
        >>> from regnet_space.spaces import get_space
        >>> a = cached_encoding(get_space("anynetx_a"), "360M:400M")
        >>> a is cached_encoding(get_space("anynetx_a"), "360M:400M")
        True
    """
    budget = as_budget(budget)
    try:
        return _cached(type(space), space, space.caps, budget, str(encoding))
    except TypeError:
        return get_encoding(space, budget, encoding)


@functools.lru_cache(maxsize=32)
def _cached(kind: type, space: DesignSpace, caps: tuple, budget: Budget, encoding: str):
    return get_encoding(space, budget, encoding)


__all__ = ["Decoded", "ENCODINGS", "Encoding", "RawEncoding", "cached_encoding", "get_encoding"]
