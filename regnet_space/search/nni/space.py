"""NNI's search-space JSON for a design space, and decoding what a tuner sends back.

The JSON is generated from an encoding's coordinates (:mod:`regnet_space.spaces.encoding`:
``feasible`` by default, or ``raw``), one entry per coordinate:

=============================  =======================================================
coordinate                     NNI ``_type``
=============================  =======================================================
int / float with a step s      ``quniform [low, high, s]`` (``randint`` would be
                               unordered for TPE)
int / float, log scale         ``qloguniform [low, high, s]`` / ``loguniform``
float                          ``uniform [low, high]``
categorical                    ``choice``
=============================  =======================================================

NNI's arithmetic leaves float noise (``36.400000000000006``) and numpy scalars in what the trial
receives; decoding clips each coordinate to its range and snaps it to its grid.

Example:
    >>> from regnet_space.spaces import get_space
    >>> space = get_space("regnetx", resolution=28, in_channels=1, num_classes=10)
    >>> ss = search_space(space, "2M:5M")
    >>> sorted(ss), ss["size"]
    (['b_index', 'd', 'g_log2', 'size', 'slope', 'wm'], {'_type': 'uniform', '_value': [0.0, 1.0]})
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np

from ...errors import ConfigError
from ...spaces import Coord, DesignSpace, get_space
from ...spaces.encoding import Encoding, cached_encoding


def coord_spec(c: Coord) -> dict:
    """NNI's ``{"_type": ..., "_value": [...]}`` for one coordinate.

    Example:
        >>> coord_spec(Coord("w0", "int", 8, 248, step=8, log=True))
        {'_type': 'qloguniform', '_value': [8, 248, 8]}
        >>> coord_spec(Coord("g_log2", "int", 0, 5, step=1))
        {'_type': 'quniform', '_value': [0, 5, 1]}
    """
    if c.type == "categorical":
        return {"_type": "choice", "_value": list(c.choices)}
    num = int if c.type == "int" else float
    step = c.step if c.step is not None else (1 if c.type == "int" else None)
    if step is not None:
        return {"_type": "qloguniform" if c.log else "quniform",
                "_value": [num(c.low), num(c.high), num(step)]}
    return {"_type": "loguniform" if c.log else "uniform", "_value": [num(c.low), num(c.high)]}


def as_encoding(space: DesignSpace | Encoding | str, budget: Any = None,
                encoding: Any = "feasible") -> Encoding:
    """The encoding of a space (name or object), or the encoding given."""
    for given in (space, encoding):
        if isinstance(given, Encoding):
            return given
    if isinstance(space, str):
        space = get_space(space)
    if not isinstance(space, DesignSpace):
        raise ConfigError(f"expected a DesignSpace, a space name or an encoding, got "
                          f"{type(space).__name__}")
    return cached_encoding(space, budget, encoding)  # built once: its repair pool is costly


def search_space(space: DesignSpace | Encoding | str, budget: Any = None,
                 encoding: Any = "feasible") -> dict:
    """NNI's HPO search-space JSON for a design space under a budget (one entry per coordinate).

    Example:
        >>> list(search_space("regnetx", encoding="raw"))
        ['d', 'w0', 'wa', 'wm', 'b_index', 'g_log2']
    """
    enc = as_encoding(space, budget, encoding)
    return {c.name: coord_spec(c) for c in enc.coords}


def _plain(x: Any) -> Any:
    """numpy scalars -> Python numbers (NNI's serializer rejects numpy/torch scalars)."""
    if isinstance(x, np.generic):
        return x.item()
    if hasattr(x, "item") and callable(x.item) and getattr(x, "ndim", 1) == 0:
        return x.item()
    return x


@dataclass(frozen=True)
class Received:
    """What a trial made of its parameters: the space's values, the coordinates that had to be
    snapped or clipped (``moved``), and whether the proposal was repaired to a feasible one."""

    values: dict
    moved: tuple[str, ...] = ()
    repaired: bool = False


def decode_parameters(space: DesignSpace | Encoding, parameters: Mapping[str, Any],
                      budget: Any = None, encoding: Any = "feasible") -> Received:
    """A tuner's suggestion -> the space's exact parameter values.

    ``parameters`` are the encoding's coordinates (what NNI's tuners send), or the space's own
    parameter values (what the design-space tuner sends: a whole configuration of the paper's
    distribution). Values are clipped to their ranges and snapped to their grids; those that
    moved by more than float noise are named. Missing or unknown names raise a ConfigError.

    Example:
        >>> from regnet_space.spaces import get_space
        >>> r = decode_parameters(get_space("regnetx"),
        ...     dict(d=13.0, w0=24.0, wa=36.400000000000006, wm=2.49, b=1, g=8))
        >>> r.values, r.moved
        ({'d': 13, 'w0': 24, 'wa': 36.4, 'wm': 2.49, 'b': 1, 'g': 8}, ())
    """
    if not isinstance(parameters, Mapping):
        raise ConfigError(f"NNI parameters must be a JSON object, got {type(parameters).__name__}")
    params = {str(k): _plain(v) for k, v in parameters.items()}
    sp = space.space if isinstance(space, Encoding) else space
    if set(params) == set(sp.names):  # a whole configuration (the design-space tuner)
        moved = []
        for p in sp.params:
            v = _number(p.name, params[p.name])
            if not p.contains(v):
                moved.append(p.name)
        values = {p.name: p.snap(_number(p.name, params[p.name])) for p in sp.params}
        return Received(values, tuple(moved))
    enc = as_encoding(space, budget, encoding)
    missing = [n for n in enc.names if n not in params]
    extra = [k for k in params if k not in enc.names]
    if missing or extra:
        raise ConfigError(f"the {enc.name} encoding of {sp.name} takes parameters "
                          f"{list(enc.names)}; the tuner sent {sorted(params)} (missing {missing}, "
                          f"unknown {extra}): was the search space generated for another space "
                          f"or encoding?")
    moved = []
    for c in enc.coords:
        if c.type != "categorical":
            v = _number(c.name, params[c.name])
            clipped = c.clip(v)
            if abs(float(clipped) - v) > 1e-6 * max(1.0, abs(v)):
                moved.append(c.name)
    decoded = enc.decode(params)
    return Received(dict(decoded.values), tuple(moved), decoded.repaired)


def _number(name: str, raw: Any) -> float:
    try:
        v = float(raw)
    except (TypeError, ValueError):
        raise ConfigError(f"parameter {name} = {raw!r} is not a number") from None
    if not math.isfinite(v):
        raise ConfigError(f"parameter {name} = {raw!r} is not finite")
    return v


__all__ = ["Received", "as_encoding", "coord_spec", "decode_parameters", "search_space"]
