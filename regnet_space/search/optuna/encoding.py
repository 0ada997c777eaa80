"""Optuna suggestions for a design space, generated from its parameter list."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np
import optuna
from optuna.distributions import (BaseDistribution, CategoricalDistribution, FloatDistribution,
                                  IntDistribution)

from ...config import NetConfig
from ...errors import ConfigError
from ...spaces import DesignSpace, Param

# ------------------------------------------------------------------------------ encoding
@dataclass(frozen=True)
class _Enc:
    """How one space parameter is asked of Optuna: its Optuna name, distribution and mapping."""

    param: Param
    name: str
    distribution: BaseDistribution
    how: str  # "direct", "snap", "log2", "index", "categorical"

    def decode(self, raw: Any) -> int | float | Any:
        p = self.param
        if self.how == "direct":
            return p.cast(raw)
        if self.how == "snap":
            return p.snap(raw)
        if self.how == "log2":
            return p.cast(2.0 ** int(raw))
        if self.how == "index":
            return p.cast(p.values()[int(raw)])
        return raw  # categorical

    def encode(self, value: Any) -> Any:
        p = self.param
        if self.how == "direct":
            return p.cast(value)
        if self.how == "snap":
            v = p.cast(value)
            return int(v) if isinstance(self.distribution, IntDistribution) else float(v)
        if self.how == "log2":
            return int(round(math.log2(float(value))))
        if self.how == "index":
            vals = p.values()
            return int(np.argmin(np.abs(vals - float(value))))
        return value


def _encoding(p: Param) -> _Enc:
    if p.kind == "uniform":
        if p.is_int:
            d = IntDistribution(int(p.low), int(p.high), step=int(p.q))
        else:
            d = FloatDistribution(float(p.low), float(p.high), step=float(p.q))
        return _Enc(p, p.name, d, "direct")
    if p.kind == "log_uniform":
        d = (IntDistribution(int(p.low), int(p.high), log=True) if p.is_int
             else FloatDistribution(float(p.low), float(p.high), log=True))
        return _Enc(p, p.name, d, "snap")
    if p.kind == "power2":
        e = np.log2(p.values())
        return _Enc(p, f"{p.name}_log2", IntDistribution(int(e[0]), int(e[-1])), "log2")
    if p.kind == "power2_or_log":
        vals = p.values()
        return _Enc(p, p.name, IntDistribution(int(vals[0]), int(vals[-1]), log=True), "snap")
    # choice
    if all(isinstance(c, (int, float, np.integer, np.floating)) and not isinstance(c, bool)
           for c in p.choices):
        return _Enc(p, f"{p.name}_index", IntDistribution(0, p.cardinality - 1), "index")
    return _Enc(p, p.name, CategoricalDistribution(p.choices), "categorical")


def _encodings(space: DesignSpace) -> tuple[_Enc, ...]:
    if not isinstance(space, DesignSpace):
        raise ConfigError(f"expected a DesignSpace (e.g. get_space('regnetx')), got "
                        f"{type(space).__name__}")
    return tuple(_encoding(p) for p in space.params)


def distributions(space: DesignSpace) -> dict[str, BaseDistribution]:
    """The Optuna search space of a design space: {optuna parameter name: distribution}.

    Example:
        >>> from regnet_space.spaces import get_space
        >>> sorted(distributions(get_space("regnetx")))
        ['b_index', 'd', 'g_log2', 'w0', 'wa', 'wm']
    """
    return {e.name: e.distribution for e in _encodings(space)}


def encode_values(space: DesignSpace, values: Mapping[str, Any]) -> dict[str, Any]:
    """Effective parameter values -> Optuna parameters (e.g. for ``study.enqueue_trial``)."""
    values = space.check_values(values)
    return {e.name: e.encode(values[e.param.name]) for e in _encodings(space)}


def decode_params(space: DesignSpace, params: Mapping[str, Any]) -> dict[str, int | float]:
    """Optuna parameters (``trial.params``) -> effective, snapped parameter values."""
    missing = [e.name for e in _encodings(space) if e.name not in params]
    if missing:
        raise ConfigError(f"parameters {missing} of space {space.name} are missing")
    return {e.param.name: e.decode(params[e.name]) for e in _encodings(space)}


def suggest_values(trial: optuna.trial.BaseTrial, space: DesignSpace) -> dict[str, int | float]:
    """Ask ``trial`` for every parameter of ``space``; returns the effective (snapped) values and
    stores them as the user attribute ``values``."""
    values = {}
    for e in _encodings(space):
        d = e.distribution
        if isinstance(d, IntDistribution):
            raw = trial.suggest_int(e.name, d.low, d.high, step=d.step, log=d.log)
        elif isinstance(d, FloatDistribution):
            raw = trial.suggest_float(e.name, d.low, d.high, step=d.step, log=d.log)
        else:
            raw = trial.suggest_categorical(e.name, d.choices)
        values[e.param.name] = e.decode(raw)
    trial.set_user_attr("values", values)
    return values


def suggest(trial: optuna.trial.BaseTrial, space: DesignSpace) -> NetConfig:
    """Define-by-run: suggest every parameter of ``space`` and decode the NetConfig.

    Works with any Optuna sampler. Effective values go to the user attribute ``values``. Whether
    the configuration meets the space's structural constraints (e.g. RegNet's 4 stages) or a
    budget is checked by :func:`apply_budget`.

    Example:
        >>> import optuna
        >>> from regnet_space.spaces import get_space
        >>> study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
        >>> cfg = suggest(study.ask(), get_space("regnetx"))
        >>> cfg.block
        'X'
    """
    return space.decode(suggest_values(trial, space))
