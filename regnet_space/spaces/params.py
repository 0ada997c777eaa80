"""Parameters of a design space: :class:`Param`, its distribution kinds, and search coordinates.

A :class:`Param` is declarative (name, kind, low, high, step ``q``, or choices). Everything that
depends on the kind lives in one :class:`Kind` class per distribution, registered in
:data:`KINDS`: its values, exact pmf, vectorised sampling (pycls's formulas,
``pycls/sweep/random.py``), the message for a value it does not allow, and its search coordinate
(:class:`Coord`): how a searcher (an Optuna sampler, an NNI tuner, a NAS strategy) asks for it.
Adding a distribution means adding one Kind subclass here.

=================  ==========================================  ================================
kind               distribution (pycls)                        search coordinate
=================  ==========================================  ================================
``uniform``        f ~ U[low, high + q), floored to q          the grid: int/float, step q
``log_uniform``    f log-uniform on (low - min(q, low/2),      int/float on [low, high], log
                   high], ceiled to q                          scale, snapped to the grid
``power2``         a uniformly chosen power of two             ``<name>_log2``: the exponent
``power2_or_log``  a power of two below q, or a log-uniform    int on [min, max], log scale,
                   multiple of q (pycls's group widths)        snapped to the allowed values
``choice``         one of ``choices`` uniformly                ``<name>_index`` over the sorted
                                                               numeric values (ordered), or a
                                                               categorical
=================  ==========================================  ================================

Ordered coordinates (an exponent, an index) keep the order visible to TPE, GP and CMA-ES, which a
categorical would hide.

Example:
    >>> w = Param("w1", "log_uniform", 8, 1024, 8)
    >>> v = w.sample(np.random.default_rng(0), 5)
    >>> bool(np.all(v % 8 == 0) and np.all((8 <= v) & (v <= 1024)))
    True
    >>> Param("g", "power2", 1, 32).coord()
    Coord(name='g_log2', type='int', low=0, high=5, step=1, log=False, choices=())
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, ClassVar

import numpy as np

from ..errors import ConfigError


def _decimals(q: float) -> int:
    return max(0, -Decimal(str(q)).as_tuple().exponent)


# ----------------------------------------------------------------------------------- coordinates
@dataclass(frozen=True)
class Coord:
    """One search coordinate, tool-neutral: what a sampler or tuner is asked to propose.

    ``type`` is ``int``, ``float`` or ``categorical``; ``step`` is the grid (None: continuous);
    ``log`` asks for a log scale. Integrations map it mechanically: Optuna's
    ``suggest_int/float/categorical`` (Optuna forbids ``step`` with ``log``: the step is then
    dropped and the value snapped on decode), NNI's ``quniform``/``qloguniform``/``uniform``/
    ``loguniform``/``choice``, NNI NAS's ``nni.choice``/``nni.uniform``.

    Example:
        >>> Coord("u", "float", 0.0, 1.0).contains(0.5)
        True
    """

    name: str
    type: str
    low: float = 0
    high: float = 0
    step: float | None = None
    log: bool = False
    choices: tuple = ()

    def __post_init__(self) -> None:
        if self.type not in ("int", "float", "categorical"):
            raise ConfigError(f"coordinate {self.name}: type must be int, float or categorical, "
                              f"got {self.type!r}")
        if self.type == "categorical":
            if not self.choices:
                raise ConfigError(f"coordinate {self.name}: a categorical needs choices")
        elif not self.low <= self.high:
            raise ConfigError(f"coordinate {self.name}: need low <= high")

    def contains(self, value: Any) -> bool:
        if self.type == "categorical":
            return value in self.choices
        try:
            v = float(value)
        except (TypeError, ValueError):
            return False
        return math.isfinite(v) and self.low - 1e-9 <= v <= self.high + 1e-9

    def clip(self, value: Any) -> Any:
        """``value`` as this coordinate's type, clipped to its range (tools overshoot by float
        noise); a ConfigError for a non-number, an unknown choice or a value clearly outside the
        range (more than a millionth of its width: decoding never moves a point silently)."""
        if self.type == "categorical":
            if value not in self.choices:
                raise ConfigError(f"{self.name} = {value!r} is not one of {list(self.choices)}")
            return value
        try:
            v = float(value)
        except (TypeError, ValueError):
            raise ConfigError(f"{self.name} = {value!r} is not a number") from None
        if not math.isfinite(v):
            raise ConfigError(f"{self.name} = {value!r} is not finite")
        tol = 1e-6 * max(1.0, float(self.high) - float(self.low))
        if not self.low - tol <= v <= self.high + tol:  # a real miss, not float noise: say so
            raise ConfigError(f"{self.name} = {value!r} is outside its range [{self.low:g}, "
                              f"{self.high:g}] (was the search space generated for another "
                              "space or budget?)")
        v = min(max(v, self.low), self.high)
        return int(round(v)) if self.type == "int" else v


# ----------------------------------------------------------------------------------- kinds
class Kind:
    """A distribution kind: everything about a :class:`Param` that depends on its kind."""

    name: ClassVar[str] = ""
    log: ClassVar[bool] = False

    def validate(self, p: "Param") -> None:
        if not (p.q > 0 and p.low <= p.high):
            raise ConfigError(f"Param {p.name}: need q > 0 and low <= high")

    def values(self, p: "Param") -> np.ndarray:
        raise NotImplementedError

    def pmf(self, p: "Param") -> np.ndarray:
        vals = self.values(p)
        return np.full(len(vals), 1.0 / len(vals))

    def sample(self, p: "Param", rng: np.random.Generator, n: int) -> np.ndarray:
        raise NotImplementedError

    def allowed(self, p: "Param") -> str:
        return f"a multiple of {p.q:g} in [{p.low:g}, {p.high:g}]"

    def coord(self, p: "Param") -> Coord:
        typ = "int" if p.is_int else "float"
        return Coord(p.name, typ, p.cast(p.low), p.cast(p.high), step=p.cast(p.q), log=self.log)

    def from_coord(self, p: "Param", x: Any) -> int | float:
        return p.snap(x)

    def to_coord(self, p: "Param", value: Any) -> Any:
        return p.cast(value)

    def describe(self, p: "Param") -> str:
        return f"{p.name}: {self.name} [{p.low:g}, {p.high:g}] step {p.q:g}"


def _grid(p: "Param", k: np.ndarray) -> np.ndarray:
    """k * q with decimal exactness (matches pycls's Decimal quantize)."""
    if float(p.q) >= 1:
        return k * p.q
    return np.round(k * p.q, _decimals(p.q))


def _log_uniform(p, rng, n, low, high, q):
    # log-uniform on (low - q*, high], then ceil: pycls's rand.log_uniform, q* = min(q, low/2)
    f = np.exp(-rng.uniform(-np.log(high), -np.log(low - min(q, low / 2)), n))
    return np.clip(_grid(p, np.ceil(f / q)), low, high)


def _log_pmf(vals, low, high, q):
    # P(ceil(f / q) * q = v) for f log-uniform on (low - q*, high]
    lo = low - min(q, low / 2)
    upper = np.log(np.minimum(vals, high))
    lower = np.log(np.maximum(vals - q, lo))
    return (upper - lower) / (np.log(high) - np.log(lo))


def _powers(low: float, high: float) -> np.ndarray:
    return 2.0 ** np.arange(math.ceil(math.log2(low)), math.floor(math.log2(high)) + 1)


def _power2(rng, n, low, high):
    return 2.0 ** np.floor(rng.uniform(np.log2(low), np.log2(high) + 1, n))


class Uniform(Kind):
    name = "uniform"

    def validate(self, p):
        super().validate(p)
        _check_on_grid(p)

    def values(self, p):
        return _grid(p, np.arange(round(p.low / p.q), round(p.high / p.q) + 1))

    def sample(self, p, rng, n):
        f = rng.uniform(p.low, p.high + p.q, n)
        return np.clip(_grid(p, np.floor(f / p.q)), p.low, p.high)

    def from_coord(self, p, x):
        return p.snap(x)


class LogUniform(Uniform):
    name = "log_uniform"
    log = True

    def validate(self, p):
        Kind.validate(self, p)
        if p.low <= 0:
            raise ConfigError(f"Param {p.name}: {self.name} needs low > 0")
        _check_on_grid(p)

    def pmf(self, p):
        return _log_pmf(self.values(p), p.low, p.high, p.q)

    def sample(self, p, rng, n):
        return _log_uniform(p, rng, n, p.low, p.high, p.q)


class Power2(Kind):
    name = "power2"
    log = True

    def validate(self, p):
        super().validate(p)
        if p.low <= 0:
            raise ConfigError(f"Param {p.name}: {self.name} needs low > 0")

    def values(self, p):
        return _powers(p.low, p.high)

    def sample(self, p, rng, n):
        return _power2(rng, n, p.low, p.high)

    def allowed(self, p):
        return f"a power of 2 in [{p.low:g}, {p.high:g}]"

    def coord(self, p):
        e = np.log2(self.values(p))
        return Coord(f"{p.name}_log2", "int", int(e[0]), int(e[-1]), step=1)

    def from_coord(self, p, x):
        return p.cast(2.0 ** int(round(float(x))))

    def to_coord(self, p, value):
        return int(round(math.log2(float(value))))

    def describe(self, p):
        return f"{p.name}: power of 2 in [{p.low:g}, {p.high:g}]"


class Power2OrLog(Power2):
    """pycls's group-width sampler ``power2_or_log_uniform(low, high, q)``: a power of two drawn
    uniformly from [low, high]; kept when below ``q``, else replaced by a log-uniform multiple of
    ``q`` in [max(low, q), high]. With ``low >= q`` (pycls's default GROUP_W = [8, 128], q = 8)
    no power of two is ever kept."""

    name = "power2_or_log"

    def values(self, p):
        small = _powers(p.low, p.high)
        small = small[small < p.q]
        lo = max(p.low, p.q)
        return np.concatenate([small, _grid(p, np.arange(lo / p.q, p.high / p.q + 0.5))])

    def pmf(self, p):
        p2 = _powers(p.low, p.high)
        n_small = int(np.sum(p2 < p.q))
        vals = self.values(p)
        big = _log_pmf(vals[n_small:], max(p.low, p.q), p.high, min(p.high, p.q))
        return np.concatenate([np.full(n_small, 1.0 / len(p2)), (1 - n_small / len(p2)) * big])

    def sample(self, p, rng, n):
        p2 = _power2(rng, n, p.low, p.high)
        lo, q = max(p.low, p.q), min(p.high, p.q)
        return np.where(p2 >= p.q, _log_uniform(p, rng, n, lo, p.high, q), p2)

    def allowed(self, p):
        small = _powers(p.low, p.high)
        small = [f"{v:g}" for v in small[small < p.q]]
        lo = max(p.low, p.q)
        head = f"a power of 2 below {p.q:g} ({', '.join(small)}) or " if small else ""
        return f"{head}a multiple of {p.q:g} in [{lo:g}, {p.high:g}]"

    def coord(self, p):
        vals = self.values(p)
        return Coord(p.name, "int", int(vals[0]), int(vals[-1]), log=True)

    def from_coord(self, p, x):
        return p.snap(x)

    def to_coord(self, p, value):
        return p.cast(value)

    def describe(self, p):
        return f"{p.name}: {self.allowed(p)} (pycls power2_or_log)"


class Choice(Kind):
    name = "choice"

    def validate(self, p):
        if not p.choices:
            raise ConfigError(f"Param {p.name}: a choice needs choices")

    def _numeric(self, p) -> bool:
        return all(isinstance(c, (int, float, np.integer, np.floating)) and not isinstance(c, bool)
                   for c in p.choices)

    def values(self, p):
        return np.array(sorted(p.choices))

    def sample(self, p, rng, n):
        return np.asarray(p.choices)[rng.integers(len(p.choices), size=n)]

    def allowed(self, p):
        return f"one of {list(p.choices)}"

    def coord(self, p):
        if self._numeric(p):
            return Coord(f"{p.name}_index", "int", 0, len(p.choices) - 1, step=1)
        return Coord(p.name, "categorical", choices=tuple(p.choices))

    def from_coord(self, p, x):
        if self._numeric(p):
            return p.cast(self.values(p)[int(round(float(x)))])
        return x

    def to_coord(self, p, value):
        if self._numeric(p):
            return int(np.argmin(np.abs(self.values(p) - float(value))))
        return value

    def describe(self, p):
        return f"{p.name}: choice {list(p.choices)}"


def _check_on_grid(p: "Param") -> None:
    for v in (p.low, p.high):
        if Decimal(str(v)) % Decimal(str(p.q)) != 0:
            raise ConfigError(f"Param {p.name}: bound {v} is not a multiple of q={p.q}")


#: The distribution kinds, by name.
KINDS: dict[str, Kind] = {k.name: k for k in (Uniform(), LogUniform(), Power2(), Power2OrLog(),
                                                Choice())}


# ----------------------------------------------------------------------------------- Param
@dataclass(frozen=True)
class Param:
    """One sampled parameter: its name, distribution kind and quantized range (inclusive).

    Example:
        >>> v, p = Param("g", "power2", 1, 32).pmf()
        >>> v.tolist(), bool(np.allclose(p, 1 / 6))
        ([1.0, 2.0, 4.0, 8.0, 16.0, 32.0], True)
    """

    name: str
    kind: str
    low: float = 0
    high: float = 0
    q: float = 1
    choices: tuple = ()

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ConfigError(f"Param {self.name}: kind must be one of {tuple(KINDS)}, "
                              f"got {self.kind!r}")
        object.__setattr__(self, "choices", tuple(self.choices))
        KINDS[self.kind].validate(self)

    @property
    def _kind(self) -> Kind:
        return KINDS[self.kind]

    # ---------------------------------------------------------------- facts
    @property
    def is_int(self) -> bool:
        """Integer-valued (all values whole numbers)."""
        if self.kind == "choice":
            return all(float(c).is_integer() for c in self.choices)
        return float(self.q).is_integer() and float(self.low).is_integer()

    @property
    def log(self) -> bool:
        return self._kind.log

    def values(self) -> np.ndarray:
        """Every value the parameter can take, ascending (all parameters are quantized)."""
        return self._kind.values(self)

    @property
    def cardinality(self) -> int:
        return len(self.values())

    def pmf(self) -> tuple[np.ndarray, np.ndarray]:
        """(values, probabilities) of the exact distribution :meth:`sample` draws from."""
        return self.values(), self._kind.pmf(self)

    def describe(self) -> str:
        return self._kind.describe(self)

    # ---------------------------------------------------------------- sampling
    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """n draws from the parameter's distribution (pycls's formulas, vectorised)."""
        return self._kind.sample(self, rng, n)

    # ---------------------------------------------------------------- search coordinate
    def coord(self) -> Coord:
        """The search coordinate a tool proposes for this parameter (see the module docstring)."""
        return self._kind.coord(self)

    def from_coord(self, x: Any) -> int | float:
        """A coordinate value -> the parameter's value (snapped to the grid)."""
        return self._kind.from_coord(self, x)

    def to_coord(self, value: Any) -> Any:
        """An allowed value -> its coordinate value (inverse of :meth:`from_coord`)."""
        return self._kind.to_coord(self, value)

    # ---------------------------------------------------------------- validation
    def contains(self, value: Any) -> bool:
        try:
            v = float(value)
        except (TypeError, ValueError):
            return False
        return bool(np.any(np.isclose(self.values(), v, rtol=0, atol=1e-9)))

    def snap(self, value: float) -> int | float:
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
        """The value as int/float; a ConfigError naming the parameter and range if not allowed."""
        if not self.contains(value):
            raise ConfigError(f"parameter {self.name} = {value!r} is not allowed: must be "
                              f"{self._kind.allowed(self)}")
        return self.cast(value)


__all__ = ["Coord", "KINDS", "Kind", "Param"]
