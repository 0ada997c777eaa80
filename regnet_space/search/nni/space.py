"""NNI's search-space JSON for a design space, and decoding what a tuner sends back."""

from __future__ import annotations

import math
from typing import Any, Mapping

import numpy as np

from ...errors import ConfigError
from ...spaces import DesignSpace, Param, get_space

def param_spec(p: Param) -> dict:
    """NNI's ``{"_type": ..., "_value": [...]}`` for one parameter (see the module docstring).

    Example:
        >>> param_spec(Param("w0", "log_uniform", 8, 248, 8))
        {'_type': 'qloguniform', '_value': [8, 248, 8]}
        >>> param_spec(Param("g", "power2", 1, 32))
        {'_type': 'choice', '_value': [1, 2, 4, 8, 16, 32]}
    """
    def num(x: float) -> int | float:
        return int(x) if p.is_int else float(x)

    if p.kind == "uniform":
        return {"_type": "quniform", "_value": [num(p.low), num(p.high), num(p.q)]}
    if p.kind == "log_uniform":
        return {"_type": "qloguniform", "_value": [num(p.low), num(p.high), num(p.q)]}
    return {"_type": "choice", "_value": [p.cast(v) for v in p.values()]}


def search_space(space: DesignSpace | str) -> dict:
    """NNI's HPO search-space JSON for a design space, one entry per :class:`Param`.

    Example:
        >>> ss = search_space("regnetx")
        >>> list(ss), ss["d"], ss["b"]
        (['d', 'w0', 'wa', 'wm', 'b', 'g'], {'_type': 'quniform', '_value': [1, 63, 1]}, {'_type': 'choice', '_value': [1, 2, 4]})
    """
    if isinstance(space, str):
        space = get_space(space)
    return {p.name: param_spec(p) for p in space.params}


def _plain(x: Any) -> Any:
    """numpy scalars -> Python numbers (NNI's serializer rejects numpy/torch scalars)."""
    if isinstance(x, np.generic):
        return x.item()
    if hasattr(x, "item") and callable(x.item) and getattr(x, "ndim", 1) == 0:
        return x.item()
    return x


def decode_parameters(space: DesignSpace, parameters: Mapping[str, Any]) -> tuple[dict, list[str]]:
    """A tuner's suggestion -> (the space's exact values, names of the values that moved).

    Each value is snapped to the nearest allowed one (:meth:`Param.snap`); values already on the
    grid (up to float noise) do not count as moved. Missing or unknown names raise a ConfigError.

    Example:
        >>> vals, moved = decode_parameters(get_space("regnetx"),
        ...     dict(d=13.0, w0=24.0, wa=36.400000000000006, wm=2.49, b=1, g=8))
        >>> vals, moved
        ({'d': 13, 'w0': 24, 'wa': 36.4, 'wm': 2.49, 'b': 1, 'g': 8}, [])
    """
    if not isinstance(parameters, Mapping):
        raise ConfigError(f"NNI parameters must be a JSON object, got {type(parameters).__name__}")
    missing = [n for n in space.names if n not in parameters]
    extra = [k for k in parameters if k not in space.names]
    if missing or extra:
        raise ConfigError(f"space {space.name} takes parameters {list(space.names)}; the tuner sent "
                         f"{sorted(parameters)} (missing {missing}, unknown {extra}): was the "
                         f"search space generated for another space?")
    values, moved = {}, []
    for p in space.params:
        raw = _plain(parameters[p.name])
        try:
            raw_f = float(raw)
        except (TypeError, ValueError):
            raise ConfigError(f"parameter {p.name} = {raw!r} is not a number") from None
        if not math.isfinite(raw_f):
            raise ConfigError(f"parameter {p.name} = {raw!r} is not finite")
        values[p.name] = p.snap(raw_f)
        if not p.contains(raw_f):
            moved.append(p.name)
    return values, moved
