"""Design spaces: declarative parameter lists, decode to NetConfig, one feasibility check, sampling.

The numpy room of search spaces (no torch, optuna or nni). Modules:

* :mod:`.params`: :class:`Param`, one :class:`~.params.Kind` class per distribution, search
  coordinates.
* :mod:`.base`: :class:`DesignSpace` with THE feasibility check (:meth:`DesignSpace.check`) and
  budget sampling.
* :mod:`.anynet`, :mod:`.regnet`: the paper's families.
* :mod:`.encoding`: how searchers see a space (``raw`` coordinates, or the ``feasible`` encoding
  whose points decode inside the budget and the structural constraints).

The registry below maps names to factories: adding a space is one line here (and a factory in a
family module). Every space takes network settings (block, stem, resolution, channels, classes).

Example:
    >>> space = get_space("anynetx_e")
    >>> batch = space.sample(3, seed=0, flops="360M:400M")
    >>> [360e6 <= s.flops <= 400e6 for s in batch]
    [True, True, True]
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Callable

from ..config import BLOCKS, STEMS
from ..errors import BudgetError, ConfigError
from .anynet import AnyNetSpace, anynetx, sample_monotone
from .base import DesignSpace, Feasibility, Sample, SampleBatch
from .params import KINDS, Coord, Param
from .regnet import RegNetSpace, regnet

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
        raise ConfigError(f"unknown space {name!r}; known spaces: {', '.join(SPACES)}")
    kw: dict[str, Any] = {}
    if num_stages is not None:
        if not 1 <= int(num_stages) <= 8:
            raise ConfigError(f"num_stages must be in [1, 8], got {num_stages}")
        kw["num_stages"] = int(num_stages)
    space = SPACES[key](**kw)
    if block is not None:
        block = block.upper()
        if block not in BLOCKS:
            raise ConfigError(f"block must be one of {', '.join(BLOCKS)}, got {block!r}")
        space = replace(space, block=block)
    if resolution is not None or in_channels is not None or num_classes is not None or stem is not None:
        if stem is not None and stem not in STEMS:
            raise ConfigError(f"stem must be one of {', '.join(STEMS)}, got {stem!r}")
        space = space.with_input(space.resolution if resolution is None else resolution,
                                 in_channels=in_channels,
                                 num_classes=num_classes, stem=stem)
    return space


__all__ = ["AnyNetSpace", "BudgetError", "Coord", "DesignSpace", "Feasibility", "KINDS", "Param",
           "RegNetSpace", "SPACES", "Sample", "SampleBatch", "anynetx", "get_space", "regnet",
           "sample_monotone", "space_names"]
