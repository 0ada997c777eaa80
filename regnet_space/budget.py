"""Complexity budgets: ranges on flops, params and acts, and their human-readable parsing."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np

from .errors import ConfigError

_SUFFIX = {"": 1, "K": 10**3, "M": 10**6, "G": 10**9, "T": 10**12}
_NUM = re.compile(r"^\s*([0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\s*([kKmMgGtT]?)(?:F|FLOPS|flops|f)?\s*$")


def parse_amount(text: str | float | int) -> int:
    """'400M' -> 400_000_000; '3.2G' -> 3_200_000_000; plain numbers pass through.

    Example:
        >>> parse_amount("3.2G"), parse_amount("360MF"), parse_amount(1e6)
        (3200000000, 360000000, 1000000)
        >>> parse_amount("1e400")
        Traceback (most recent call last):
        ...
        regnet_space.errors.ConfigError: cannot read '1e400' as an amount: it is not a finite number; use a number >= 0 with an optional K/M/G/T suffix, e.g. 400M or 3.2G
    """
    usage = "use a number >= 0 with an optional K/M/G/T suffix, e.g. 400M or 3.2G"
    if isinstance(text, (int, float, np.integer, np.floating)) and not isinstance(text, bool):
        if not math.isfinite(float(text)) or text < 0:
            raise ConfigError(f"an amount must be a finite number >= 0, got {text}")
        return int(text)
    m = _NUM.match(str(text))
    if not m:
        raise ConfigError(f"cannot read {text!r} as an amount: {usage}")
    value = float(m.group(1)) * _SUFFIX[m.group(2).upper()]
    if not math.isfinite(value):  # '1e400' reads as inf, which int() cannot hold
        raise ConfigError(f"cannot read {text!r} as an amount: it is not a finite number; {usage}")
    return int(round(value))


def parse_range(text: Any, what: str = "range") -> tuple[int | None, int | None] | None:
    """'360M:400M' -> (360e6, 400e6); ':400M' -> (None, 400e6); '360M:' -> (360e6, None).

    Tuples and lists of two amounts (None for open) are accepted too. ``what`` names the range in
    error messages (``flops``, ``params``...). A range whose high bound is 0 is refused: no
    network has 0 flops, params or activations. A bare amount (``400MF``, ``4e8``) is refused as
    ambiguous (an upper bound? a target?): write ``:400M`` or ``360M:400M``.

    Example:
        >>> parse_range("360M:400M")
        (360000000, 400000000)
        >>> parse_range("400MF", "flops range")
        Traceback (most recent call last):
        ...
        regnet_space.errors.ConfigError: flops range '400MF' is a bare amount, which is ambiguous; give a range LO:HI (e.g. 360M:400M), :HI (at most) or LO: (at least)
        >>> parse_range("0:0", "flops range")
        Traceback (most recent call last):
        ...
        regnet_space.errors.ConfigError: flops range '0:0' is empty: its high bound is 0 and every network has more; give a high bound >= 1, e.g. 360M:400M
    """
    if text is None:
        return None
    bare = False
    try:
        if isinstance(text, (tuple, list)):
            if len(text) != 2:
                raise ConfigError(f"a range needs two bounds (low, high), got {text!r}")
            lo, hi = (None if t is None else parse_amount(t) for t in text)
        elif isinstance(text, str) and ":" in text:
            a, b = text.split(":", 1)
            lo = parse_amount(a) if a.strip() else None
            hi = parse_amount(b) if b.strip() else None
        elif isinstance(text, (str, int, float, np.integer, np.floating)) and \
                not isinstance(text, bool):
            parse_amount(text)  # a malformed amount gets the amount's own message
            bare = True
        else:
            raise ConfigError(f"expected a string LO:HI, a (low, high) pair or None, got "
                              f"{type(text).__name__}")
    except ConfigError as e:
        raise ConfigError(f"{what} {text!r}: {e}") from None
    if bare:
        raise ConfigError(f"{what} {text!r} is a bare amount, which is ambiguous; give a range "
                          "LO:HI (e.g. 360M:400M), :HI (at most) or LO: (at least)")
    if lo is not None and hi is not None and lo > hi:
        raise ConfigError(f"{what} {text!r} is empty: low {lo:,} > high {hi:,}")
    if hi is not None and hi < 1:
        raise ConfigError(f"{what} {text!r} is empty: its high bound is 0 and every network has "
                          "more; give a high bound >= 1, e.g. 360M:400M")
    return lo, hi


def fmt_amount(x: float | None) -> str:
    """Short human form of an amount (None -> '-').

    Example:
        >>> fmt_amount(399040872), fmt_amount(3.2e12), fmt_amount(None)
        ('399.0M', '3.2T', '-')
    """
    if x is None:
        return "-"
    for s, k in (("T", 1e12), ("G", 1e9), ("M", 1e6), ("K", 1e3)):
        if abs(x) >= k:
            return f"{x / k:.1f}{s}"
    return f"{x:g}"


@dataclass(frozen=True)
class Budget:
    """Inclusive ranges on flops, params and acts; ``None`` means unbounded.

    Example:
        >>> b = Budget.parse(flops="360M:400M")
        >>> b.contains(380e6, 3e6, 4e6), b.contains(420e6, 3e6, 4e6)
        (True, False)
    """

    flops: tuple[int | None, int | None] | None = None
    params: tuple[int | None, int | None] | None = None
    acts: tuple[int | None, int | None] | None = None

    @classmethod
    def parse(cls, flops: Any = None, params: Any = None, acts: Any = None) -> "Budget":
        return cls(parse_range(flops, "flops range"), parse_range(params, "params range"),
                   parse_range(acts, "acts range"))

    @property
    def is_empty(self) -> bool:
        return self.flops is None and self.params is None and self.acts is None

    def items(self):
        for name in ("flops", "params", "acts"):
            rng = getattr(self, name)
            if rng is not None:
                yield name, rng

    def mask(self, flops, params, acts) -> np.ndarray:
        """Vectorised membership test."""
        values = {"flops": np.asarray(flops), "params": np.asarray(params), "acts": np.asarray(acts)}
        ok = np.ones(values["flops"].shape, dtype=bool)
        for name, (lo, hi) in self.items():
            if lo is not None:
                ok &= values[name] >= lo
            if hi is not None:
                ok &= values[name] <= hi
        return ok

    def contains(self, flops, params, acts) -> bool:
        return bool(self.mask(flops, params, acts))

    def violations(self, flops, params, acts) -> dict[str, float]:
        """Signed, normalised violations: <= 0 means satisfied (Optuna's constraint convention).

        One entry per bound, e.g. ``flops_low = (lo - flops) / lo``.
        """
        values = {"flops": flops, "params": params, "acts": acts}
        out = {}
        for name, (lo, hi) in self.items():
            if lo is not None:
                out[f"{name}_low"] = (lo - values[name]) / max(lo, 1)
            if hi is not None:
                out[f"{name}_high"] = (values[name] - hi) / max(hi, 1)
        return out

    def describe(self) -> str:
        parts = [f"{n} {fmt_amount(lo)}..{fmt_amount(hi)}" for n, (lo, hi) in self.items()]
        return ", ".join(parts) if parts else "no budget"

    def to_dict(self) -> dict:
        return {n: list(r) for n, r in self.items()}


def as_budget(budget: Any = None, params: Any = None, acts: Any = None) -> Budget:
    """A Budget from a Budget, a mapping ``{"flops": ..., "params": ..., "acts": ...}``, a flops
    range (``"360M:400M"``) with optional params/acts ranges, or None (no budget).

    Example:
        >>> as_budget("360M:400M").flops, as_budget({"params": ":3M"}).params
        ((360000000, 400000000), (None, 3000000))
    """
    if isinstance(budget, Budget):
        return budget
    if isinstance(budget, Mapping):
        unknown = sorted(set(budget) - {"flops", "params", "acts"})
        if unknown:
            raise ConfigError(f"a budget takes flops, params and acts; got {unknown}")
        return Budget.parse(**budget)
    return Budget.parse(budget, params, acts)
