"""The design spaces as NNI NAS model spaces (``nni.nas``), with a complexity budget.

:class:`DesignModelSpace` (and its two spellings :class:`RegNetSpace`, :class:`AnyNetSpace`) is an
``nni.nas.nn.pytorch.ModelSpace`` whose mutables are generated from an encoding's coordinates
(:mod:`regnet_space.spaces.encoding`; ``feasible`` by default, under the model space's budget, so
every sample decodes to a network inside the budget; ``raw``: the space's parameters): one
``nni.choice`` per coordinate over its grid (33 points for a continuous coordinate such as
``size``), labelled with the coordinate's name. It is written in NNI's imperative style:
each mutable is frozen at construction (``ensure_frozen(self.add_mutable(...))``), the values are
decoded to a :class:`~regnet_space.config.NetConfig` and the network is built by
:func:`regnet_space.nn.build_model`, so the stage count may depend on the sample (which NNI's
symbolic ``MutableConv2d`` style cannot express). :meth:`DesignModelSpace.freeze` rebuilds the
class inside ``model_context(sample)``.

Budget: NNI's strategies know nothing of flops. With the feasible encoding every sample is inside
the budget already; with ``raw``, :func:`budget_strategy` wraps any multi-trial
strategy as ``Chain(strategy, Filter(feasible))`` (``nni.nas.strategy.middleware``) where
``feasible`` is our analytic complexity plus the space's structural constraints (RegNet's 4
stages, AnyNetX_D/E's monotone widths and depths), evaluated on the sample dict without building a
module. Rejected samples never reach the engine, so no over-budget model is ever trained. Checked
with ``Random`` and ``RegularizedEvolution`` (tests) and ``GridSearch`` (but see below).

The choice mapping: ``nni.choice`` over ``Param.values()`` is the exact grid, but NNI's Random
strategy draws each choice uniformly, not with the paper's log-uniform prior; RegularizedEvolution
mutates one choice at a time. GridSearch enumerates the product of all grids, which is
astronomically large (RegNetX: 63 x 31 x 2480 x 1501 x 3 x 6, about 1.3e11; AnyNetX_A about
1.8e18): it is usable only on a space narrowed by hand, and with a tight budget it walks the grid
in order, filtering almost everything.

Evaluation: :func:`evaluate_model` is a function for ``nni.nas.evaluator.FunctionalEvaluator``. It
trains the sampled network's NetConfig with :func:`regnet_space.training.evaluator.evaluate`, reports the
held-out accuracy of every epoch as intermediate results and ``{"default": accuracy, "error": ...,
"flops": ...}`` at the end (NAS strategies maximise ``default``: accuracy = 1 - top-1 error).
Use the ``sequential`` execution engine (in-process) or ``ts`` (trials in subprocesses; the
evaluator's arguments must then stay small and serialisable, as they are here). NNI's Lightning
evaluators with the sequential engine fail from the second model on (docs/nni.md).

Example (see examples/nni/nas_fashion_mnist.py for a full run)::

    from nni.nas.evaluator import FunctionalEvaluator
    from nni.nas.experiment import NasExperiment, NasExperimentConfig
    from nni.nas.strategy import Random
    from regnet_space.search.nni.nas import RegNetSpace, budget_strategy, evaluate_model

    space = RegNetSpace("regnetx", resolution=28, in_channels=1, num_classes=10, flops=":20M")
    strategy, flt = budget_strategy(Random(seed=0), space)
    evaluator = FunctionalEvaluator(evaluate_model, data="fashion-mnist")
    config = NasExperimentConfig("sequential", "raw", "local")
    config.max_trial_number = 10
    NasExperiment(space, evaluator, strategy, config).run(port=8081)
"""

from __future__ import annotations

import functools
from typing import Any, Callable, Mapping

import nni
from nni.mutable import ensure_frozen
from nni.nas.nn.pytorch import ModelSpace
from nni.nas.space import model_context
from nni.nas.strategy.middleware import Chain, Filter
from torch import nn

from ...budget import Budget
from ...config import NetConfig
from ...spaces import AnyNetSpace as _AnyNetDesign
from ...spaces import DesignSpace
from ...spaces import RegNetSpace as _RegNetDesign
from ...spaces import get_space
from ...errors import ConfigError
from ...spaces.encoding import Encoding
from .space import as_encoding


def _grid(c) -> list:
    """The values an ``nni.choice`` offers for one coordinate."""
    import numpy as np

    if c.type == "categorical":
        return list(c.choices)
    if c.step is not None and (c.high - c.low) / c.step <= 4096:
        k = int(round((c.high - c.low) / c.step))
        vals = [c.low + i * c.step for i in range(k + 1)]
        return [int(round(v)) if c.type == "int" else round(float(v), 10) for v in vals]
    if c.type == "int":
        return sorted({int(round(v)) for v in np.geomspace(c.low, c.high, 128)} | {int(c.high)})
    pts = np.geomspace(c.low, c.high, 33) if c.log else np.linspace(c.low, c.high, 33)
    return [round(float(v), 10) for v in pts]


def mutables(space: DesignSpace | Encoding, budget: Any = None,
             encoding: Any = "feasible") -> dict:
    """``{name: nni.choice(name, grid)}`` for every coordinate of the space's encoding.

    Example:
        >>> m = mutables(get_space("regnetx"), encoding="raw")
        >>> m["g_log2"]
        Categorical([0, 1, 2, 3, 4, 5], label='g_log2')
    """
    enc = as_encoding(space, budget, encoding)
    return {c.name: nni.choice(c.name, _grid(c)) for c in enc.coords}


class DesignModelSpace(ModelSpace):
    """An NNI model space over a registered design space (imperative style, see module docs).

    Args:
        space: registered space name (``regnetx``, ``regnety``, ``anynetx_a``...).
        resolution, in_channels, num_classes, stem, block: the input the networks are built for
            (as :func:`regnet_space.spaces.get_space`; below 64 pixels the small-image stem).
        flops, params, acts: the complexity budget (``"2M:5M"``...), counted at that input.
        encoding: ``feasible`` (default: every sample decodes inside the budget) or ``raw``.

    Attributes (of a built or frozen instance): ``design_space``, ``encoding``, ``values`` (the
    decoded parameter values), ``config`` (the NetConfig) and ``net`` (the
    :class:`regnet_space.nn.AnyNet`).
    """

    _family: type | None = None

    def __init__(self, space: str = "regnetx", resolution: int | None = None,
                 in_channels: int | None = None, num_classes: int | None = None,
                 stem: str | None = None, block: str | None = None, flops: Any = None,
                 params: Any = None, acts: Any = None, encoding: str = "feasible") -> None:
        super().__init__()
        from ...nn import build_model

        ds = get_space(space, resolution=resolution, in_channels=in_channels,
                       num_classes=num_classes, stem=stem, block=block)
        if self._family is not None and not isinstance(ds, self._family):
            family = "RegNet" if self._family is _RegNetDesign else "AnyNetX"
            raise ConfigError(f"{type(self).__name__} needs a {family} space, got {space!r}; "
                             f"use DesignModelSpace for any registered space")
        self.design_space = ds
        self.budget = Budget.parse(flops, params, acts)
        self.encoding = as_encoding(ds, self.budget, encoding)
        coords = {name: ensure_frozen(self.add_mutable(m))
                  for name, m in mutables(self.encoding).items()}
        self.values = dict(self.encoding.decode(coords).values)
        self.config: NetConfig = ds.decode(self.values)
        self.net = build_model(self.config)

    def forward(self, x):
        return self.net(x)

    def freeze(self, sample: Mapping[str, Any]) -> nn.Module:
        with model_context(dict(sample)):
            return self.__class__(**self.trace_kwargs)


class RegNetSpace(DesignModelSpace):
    """:class:`DesignModelSpace` over a RegNet space (``regnetx``, ``regnety``, ``*_constrained``,
    ``regnetx_pycls``). Not to be confused with :class:`regnet_space.spaces.RegNetSpace`, the
    numpy design space it is generated from."""

    _family = _RegNetDesign

    def __init__(self, space: str = "regnetx", resolution: int | None = None,
                 in_channels: int | None = None, num_classes: int | None = None,
                 stem: str | None = None, block: str | None = None, flops: Any = None,
                 params: Any = None, acts: Any = None, encoding: str = "feasible") -> None:
        super().__init__(space, resolution, in_channels, num_classes, stem, block, flops,
                         params, acts, encoding)


class AnyNetSpace(DesignModelSpace):
    """:class:`DesignModelSpace` over an AnyNetX space (``anynetx_a`` .. ``anynetx_e``)."""

    _family = _AnyNetDesign

    def __init__(self, space: str = "anynetx_a", resolution: int | None = None,
                 in_channels: int | None = None, num_classes: int | None = None,
                 stem: str | None = None, block: str | None = None, flops: Any = None,
                 params: Any = None, acts: Any = None, encoding: str = "feasible") -> None:
        super().__init__(space, resolution, in_channels, num_classes, stem, block, flops,
                         params, acts, encoding)


# ----------------------------------------------------------------------------------- budget
def _design(space: DesignModelSpace | DesignSpace) -> DesignSpace:
    if isinstance(space, DesignSpace):
        return space
    ds = getattr(space, "design_space", None)
    if not isinstance(ds, DesignSpace):
        raise ConfigError(f"expected a DesignModelSpace or a DesignSpace, got {type(space).__name__}")
    return ds


def sample_values(space: DesignModelSpace | DesignSpace, sample: Mapping[str, Any]) -> dict:
    """The design-space parameter values an NNI sample decodes to (its labels are the coordinates
    of the model space's encoding; a bare DesignSpace means the raw encoding)."""
    enc = getattr(space, "encoding", None)
    if enc is None:
        enc = as_encoding(_design(space), encoding="raw")
    return dict(enc.decode({c.name: sample[c.name] for c in enc.coords}).values)


def feasibility(space: DesignModelSpace | DesignSpace, budget: Budget | None = None, *,
                flops: Any = None, params: Any = None, acts: Any = None,
                record: list | None = None) -> Callable[[Mapping[str, Any]], bool]:
    """``sample -> bool``: the space's structural constraints and the budget, analytically.

    ``record`` (a list) receives ``{"sample", "flops", "params", "acts", "feasible"}`` per call.

    Example:
        >>> ok = feasibility(get_space("regnetx"), flops=":400M")
        >>> ok(dict(d=13, w0=24, wa=36.4, wm=2.49, b_index=0, g_log2=3))
        True
        >>> ok(dict(d=13, w0=248, wa=200, wm=2.5, b_index=0, g_log2=3))
        False
    """
    ds = _design(space)
    budget = budget or Budget.parse(flops, params, acts)
    if budget.is_empty and isinstance(space, DesignModelSpace):
        budget = space.budget

    def check(sample: Mapping[str, Any]) -> bool:
        verdict = ds.check(sample_values(space, sample), budget)
        if record is not None:
            record.append({"sample": dict(verdict.values), "flops": verdict.flops,
                           "params": verdict.params, "acts": verdict.acts,
                           "feasible": verdict.feasible})
        return verdict.feasible

    return check


def budget_filter(space: DesignModelSpace | DesignSpace, budget: Budget | None = None, *,
                  flops: Any = None, params: Any = None, acts: Any = None,
                  record: list | None = None, patience: int = 100_000) -> Filter:
    """NNI's ``Filter`` middleware rejecting infeasible samples before they are trained.

    ``patience``: consecutive rejections after which the strategy is told the budget is used up
    (NNI's default of 1000 is too small for tight regimes; RegNetX at 28 px keeps about 13% of
    random samples for its 4-stage rule alone).
    """
    check = feasibility(space, budget, flops=flops, params=params, acts=acts, record=record)
    return Filter(lambda model: check(model.sample), patience=patience)


def budget_strategy(strategy, space: DesignModelSpace | DesignSpace, budget: Budget | None = None,
                    **kwargs: Any) -> tuple[Chain, Filter]:
    """``(Chain(strategy, filter), filter)``; ``filter._filter_count_total`` counts rejections."""
    flt = budget_filter(space, budget, **kwargs)
    return Chain(strategy, flt), flt


# ----------------------------------------------------------------------------------- evaluation
@functools.lru_cache(maxsize=4)
def _data(name: str, train_size: int | None, val_size: int | None, test_size: int | None,
          seed: int, resolution: int | None, data_dir: str | None):
    # One data set per process for all the models a sequential NAS engine trains.
    from ...training.data import load_data

    kw: dict[str, Any] = dict(train_size=train_size, val_size=val_size or None,
                              test_size=test_size, seed=seed)
    if resolution is not None:
        kw["resolution"] = resolution
    if data_dir is not None:
        kw["data_dir"] = data_dir
    return load_data(name, **kw)


def evaluate_model(model: DesignModelSpace, data: str = "fashion-mnist", *,
                   preset: str = "brief", train_size: int | None = None,
                   val_size: int | None = None, test_size: int | None = None, data_seed: int = 0,
                   resolution: int | None = None, data_dir: str | None = None,
                   **settings: Any) -> float:
    """A ``FunctionalEvaluator`` function: train ``model.config`` briefly, report its accuracy.

    The recipe and the data subset are ``preset``'s (default ``brief``, the same defaults as
    ``regnet-space train``, ``sweep`` and the NNI trial); ``train_size``, ``val_size``,
    ``test_size`` and
    :class:`regnet_space.training.TrainSettings` fields in ``settings`` (``epochs``, ``lr``,
    ``seed``, ``threads``...) override them. Reports each epoch's held-out accuracy (1 - top-1
    error on the validation split, a fraction) as an intermediate result and ``{"default":
    accuracy, "error", "test_error", "status", "flops", "params", "acts", "config"}`` as the
    final one (``test_error`` scored once at the end); a failed training reports accuracy 0.
    Returns the accuracy.
    """
    from ...training.evaluator import evaluate
    from ...training.recipe import as_settings, preset_data

    sizes = preset_data(preset)
    d = _data(data, sizes["train_size"] if train_size is None else train_size,
              sizes["val_size"] if val_size is None else val_size,
              sizes["test_size"] if test_size is None else test_size, data_seed, resolution,
              data_dir)
    cfg = model.config
    res = evaluate(cfg, d, as_settings(preset, **settings), progress=False,
                   on_epoch=lambda epoch, err, r: nni.report_intermediate_result(float(1.0 - err)))
    ok = res.status == "ok" and res.error is not None
    acc = float(1.0 - res.error) if ok else 0.0
    nni.report_final_result({"default": acc, "error": float(res.error) if ok else None,
                             "test_error": float(res.test_error) if ok else None,
                             "status": res.status, "flops": int(res.flops),
                             "params": int(res.params), "acts": int(res.acts),
                             "config": cfg.to_dict()})
    return acc


__all__ = ["AnyNetSpace", "DesignModelSpace", "RegNetSpace", "budget_filter", "budget_strategy",
           "evaluate_model", "feasibility", "mutables", "sample_values"]
