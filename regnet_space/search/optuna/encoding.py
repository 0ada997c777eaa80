"""Optuna suggestions for a design space, generated from an encoding's coordinates.

An :class:`~regnet_space.spaces.encoding.Encoding` (``feasible`` by default, or ``raw``) lists
tool-neutral coordinates; each becomes one Optuna distribution:

=====================================  ===============================================
coordinate                             Optuna
=====================================  ===============================================
int, step s                            ``suggest_int(name, low, high, step=s)``
int, log scale                         ``suggest_int(name, low, high, log=True)``
                                       (Optuna forbids a step with a log scale: the
                                       value is snapped to the grid on decoding)
float (log scale, step)                ``suggest_float`` with the same options
categorical                            ``suggest_categorical``
=====================================  ===============================================

Where the architecture appears in Optuna: the trial's *parameters* (``trial.params``, the
dashboard's "Params") are the encoding's coordinates (for the feasible RegNet encoding ``d, wm,
b_index, g_log2, slope, size``), which is what samplers model. The decoded parameter values are
the trial's *user attributes*: ``values`` (one dict; exports use it, so a table shows ``g = 8``,
never ``g_log2 = 3``) and one ``arch_<name>`` attribute per parameter (``arch_w0``, ``arch_wa``,
...), and ``repaired = True`` when the proposal had to be moved to a feasible configuration (see
:mod:`regnet_space.spaces.encoding`).

Example:
    >>> import optuna
    >>> from regnet_space.spaces import get_space
    >>> space = get_space("regnetx", resolution=28, in_channels=1, num_classes=10)
    >>> enc = encoding_for(space, "2M:5M")
    >>> sorted(distributions(enc))
    ['b_index', 'd', 'g_log2', 'size', 'slope', 'wm']
    >>> study = optuna.create_study(sampler=optuna.samplers.TPESampler(seed=0))
    >>> values = suggest_values(study.ask(), enc)
    >>> space.check(values, "2M:5M").feasible
    True
"""

from __future__ import annotations

from typing import Any, Mapping

import optuna
from optuna.distributions import (BaseDistribution, CategoricalDistribution, FloatDistribution,
                                  IntDistribution)

from ...config import NetConfig
from ...errors import ConfigError
from ...spaces import Coord, DesignSpace
from ...spaces.encoding import Encoding, cached_encoding


#: Prefix of the user attributes holding the decoded parameter values one by one.
ARCH_PREFIX = "arch_"


def encoding_for(space: DesignSpace | Encoding, budget: Any = None,
                 encoding: str = "feasible") -> Encoding:
    """``space`` as an :class:`Encoding` (an encoding, given as ``space`` or ``encoding``, is
    returned as it is)."""
    for given in (space, encoding):
        if isinstance(given, Encoding):
            return given
    if not isinstance(space, DesignSpace):
        raise ConfigError(f"expected a DesignSpace (e.g. get_space('regnetx')) or an encoding, "
                          f"got {type(space).__name__}")
    return cached_encoding(space, budget, encoding)  # built once: its repair pool is costly


def coord_distribution(c: Coord) -> BaseDistribution:
    """The Optuna distribution of one coordinate.

    Example:
        >>> coord_distribution(Coord("w0", "int", 8, 248, step=8, log=True))
        IntDistribution(high=248, log=True, low=8, step=1)
    """
    if c.type == "categorical":
        return CategoricalDistribution(c.choices)
    if c.type == "int":
        step = 1 if c.log or c.step is None else int(c.step)
        return IntDistribution(int(c.low), int(c.high), log=c.log, step=step)
    step = None if c.log or c.step is None else float(c.step)
    return FloatDistribution(float(c.low), float(c.high), log=c.log, step=step)


def distributions(space: DesignSpace | Encoding, budget: Any = None,
                  encoding: str = "feasible") -> dict[str, BaseDistribution]:
    """The Optuna search space of an encoding: {parameter name: distribution}.

    Example:
        >>> from regnet_space.spaces import get_space
        >>> sorted(distributions(get_space("regnetx"), encoding="raw"))
        ['b_index', 'd', 'g_log2', 'w0', 'wa', 'wm']
    """
    enc = encoding_for(space, budget, encoding)
    return {c.name: coord_distribution(c) for c in enc.coords}


def _native(c: Coord, v: Any) -> Any:
    return v if c.type == "categorical" else (int(round(float(v))) if c.type == "int"
                                              else float(v))


def encode_values(space: DesignSpace | Encoding, values: Mapping[str, Any], budget: Any = None,
                  encoding: str = "feasible") -> dict[str, Any]:
    """Parameter values -> Optuna parameters (e.g. for ``study.enqueue_trial``)."""
    enc = encoding_for(space, budget, encoding)
    x = enc.encode(values)
    return {c.name: _native(c, x[c.name]) for c in enc.coords}


def decode_params(space: DesignSpace | Encoding, params: Mapping[str, Any], budget: Any = None,
                  encoding: str = "feasible") -> dict[str, int | float]:
    """Optuna parameters (``trial.params``) -> the space's parameter values."""
    return dict(encoding_for(space, budget, encoding).decode(params).values)


def suggest_values(trial: optuna.trial.BaseTrial, space: DesignSpace | Encoding,
                   budget: Any = None, encoding: str = "feasible") -> dict[str, int | float]:
    """Ask ``trial`` for every coordinate of the encoding; returns the decoded parameter values
    and stores them as the user attribute ``values``, once more one attribute per parameter
    (``arch_d``, ``arch_w0``, ...: what the dashboard shows next to the coordinates), and
    ``repaired`` when the proposal was moved to a feasible configuration."""
    enc = encoding_for(space, budget, encoding)
    raw = {}
    for c in enc.coords:
        d = coord_distribution(c)
        if isinstance(d, IntDistribution):
            raw[c.name] = trial.suggest_int(c.name, d.low, d.high, step=d.step, log=d.log)
        elif isinstance(d, FloatDistribution):
            raw[c.name] = trial.suggest_float(c.name, d.low, d.high, step=d.step, log=d.log)
        else:
            raw[c.name] = trial.suggest_categorical(c.name, d.choices)
    decoded = enc.decode(raw)
    values = dict(decoded.values)
    trial.set_user_attr("values", values)
    for name, v in values.items():  # one attribute each: the dashboard lists them per trial
        trial.set_user_attr(ARCH_PREFIX + name, v)
    if decoded.repaired:
        trial.set_user_attr("repaired", True)
    return values


def stage_table(config: NetConfig) -> str:
    """The stages of ``config`` in one line: the trial's user attribute ``stages``.

    Example:
        >>> stage_table(NetConfig.from_lists([1, 2], [16, 32], gs=8))
        'd=[1, 2] w=[16, 32] g=[8, 8] b=[1, 1] (X blocks, 3 total depth)'
    """
    bs = ", ".join(f"{b:g}" for b in config.bs)
    return (f"d={list(config.depths)} w={list(config.widths)} g={list(config.gs)} b=[{bs}] "
            f"({config.block} blocks, {config.depth} total depth)")


def suggest(trial: optuna.trial.BaseTrial, space: DesignSpace | Encoding, budget: Any = None,
            encoding: str = "feasible") -> NetConfig:
    """Define-by-run: suggest a configuration of ``space`` and decode its NetConfig.

    Works with any Optuna sampler. With the ``feasible`` encoding (default) the configuration
    meets the space's structural constraints and ``budget``; with ``raw`` it may not (check it
    with :meth:`DesignSpace.check` or :func:`regnet_space.search.optuna.apply_budget`). The
    trial keeps the decoded values as user attributes (``values``, ``arch_<name>``) and the stage
    table as ``stages`` (:func:`stage_table`).

    Example:
        >>> import optuna
        >>> from regnet_space.spaces import get_space
        >>> space = get_space("anynetx_a", resolution=28, in_channels=1, num_classes=10)
        >>> study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
        >>> cfg = suggest(study.ask(), space, "2M:5M")
        >>> 2e6 <= space.check(study.trials[0].user_attrs["values"]).flops <= 5e6
        True
    """
    enc = encoding_for(space, budget, encoding)
    config = enc.space.decode(suggest_values(trial, enc))
    trial.set_user_attr("stages", stage_table(config))
    return config


__all__ = ["ARCH_PREFIX", "coord_distribution", "decode_params", "distributions", "encode_values",
           "encoding_for", "stage_table", "suggest", "suggest_values"]
