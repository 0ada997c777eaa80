"""The design spaces as NNI NAS model spaces (``nni.nas``), with a complexity budget.

:class:`DesignModelSpace` (and its two spellings :class:`RegNetSpace`, :class:`AnyNetSpace`) is an
``nni.nas.nn.pytorch.ModelSpace`` whose mutables are generated from the design space's
:class:`~regnet_space.spaces.Param` list: one ``nni.choice(name, Param.values())`` per parameter,
the exact value grid, labelled with the parameter's name. It is written in NNI's imperative style:
each mutable is frozen at construction (``ensure_frozen(self.add_mutable(...))``), the values are
decoded to a :class:`~regnet_space.config.NetConfig` and the network is built by
:func:`regnet_space.nn.build_model`, so the stage count may depend on the sample (which NNI's
symbolic ``MutableConv2d`` style cannot express). :meth:`DesignModelSpace.freeze` rebuilds the
class inside ``model_context(sample)``.

Budget: NNI's strategies know nothing of flops, so :func:`budget_strategy` wraps any multi-trial
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
evaluators with the sequential engine fail from the second model on (INTEGRATIONS.md).

Example (see examples/nni/nas_fashion_mnist.py for a full run)::

    from nni.nas.evaluator import FunctionalEvaluator
    from nni.nas.experiment import NasExperiment, NasExperimentConfig
    from nni.nas.strategy import Random
    from regnet_space.search.nni.nas import RegNetSpace, budget_strategy, evaluate_model

    space = RegNetSpace("regnetx", resolution=28, in_channels=1, num_classes=10)
    strategy, flt = budget_strategy(Random(seed=0), space, flops=":20M")
    evaluator = FunctionalEvaluator(evaluate_model, data="fashion-mnist", epochs=1)
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


def mutables(space: DesignSpace) -> dict:
    """``{name: nni.choice(name, values)}`` for every parameter of ``space`` (the exact grid).

    Example:
        >>> m = mutables(get_space("regnetx"))
        >>> m["g"]
        Categorical([1, 2, 4, 8, 16, 32], label='g')
    """
    return {p.name: nni.choice(p.name, [p.cast(v) for v in p.values()]) for p in space.params}


class DesignModelSpace(ModelSpace):
    """An NNI model space over a registered design space (imperative style, see module docs).

    Args:
        space: registered space name (``regnetx``, ``regnety``, ``anynetx_a``...).
        resolution, in_channels, num_classes, stem, block: the input the networks are built for
            (as :func:`regnet_space.spaces.get_space`; below 64 pixels the small-image stem).

    Attributes (of a built or frozen instance): ``design_space``, ``values`` (the parameter values),
    ``config`` (the NetConfig) and ``net`` (the :class:`regnet_space.nn.AnyNet`).
    """

    _family: type | None = None

    def __init__(self, space: str = "regnetx", resolution: int | None = None,
                 in_channels: int | None = None, num_classes: int | None = None,
                 stem: str | None = None, block: str | None = None) -> None:
        super().__init__()
        from ...nn import build_model

        ds = get_space(space, resolution=resolution, in_channels=in_channels,
                       num_classes=num_classes, stem=stem, block=block)
        if self._family is not None and not isinstance(ds, self._family):
            family = "RegNet" if self._family is _RegNetDesign else "AnyNetX"
            raise ConfigError(f"{type(self).__name__} needs a {family} space, got {space!r}; "
                             f"use DesignModelSpace for any registered space")
        self.design_space = ds
        self.values = {name: ensure_frozen(self.add_mutable(m)) for name, m in mutables(ds).items()}
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
                 stem: str | None = None, block: str | None = None) -> None:
        super().__init__(space, resolution, in_channels, num_classes, stem, block)


class AnyNetSpace(DesignModelSpace):
    """:class:`DesignModelSpace` over an AnyNetX space (``anynetx_a`` .. ``anynetx_e``)."""

    _family = _AnyNetDesign

    def __init__(self, space: str = "anynetx_a", resolution: int | None = None,
                 in_channels: int | None = None, num_classes: int | None = None,
                 stem: str | None = None, block: str | None = None) -> None:
        super().__init__(space, resolution, in_channels, num_classes, stem, block)


# ----------------------------------------------------------------------------------- budget
def _design(space: DesignModelSpace | DesignSpace) -> DesignSpace:
    if isinstance(space, DesignSpace):
        return space
    ds = getattr(space, "design_space", None)
    if not isinstance(ds, DesignSpace):
        raise ConfigError(f"expected a DesignModelSpace or a DesignSpace, got {type(space).__name__}")
    return ds


def sample_values(space: DesignSpace, sample: Mapping[str, Any]) -> dict:
    """The design-space parameter values in an NNI sample (labels are the parameter names)."""
    return {p.name: sample[p.name] for p in space.params}


def feasibility(space: DesignModelSpace | DesignSpace, budget: Budget | None = None, *,
                flops: Any = None, params: Any = None, acts: Any = None,
                record: list | None = None) -> Callable[[Mapping[str, Any]], bool]:
    """``sample -> bool``: the space's structural constraints and the budget, analytically.

    ``record`` (a list) receives ``{"sample", "flops", "params", "acts", "feasible"}`` per call.

    Example:
        >>> ok = feasibility(get_space("regnetx"), flops=":400M")
        >>> ok(dict(d=13, w0=24, wa=36.4, wm=2.49, b=1, g=8)), ok(dict(d=13, w0=248, wa=200, wm=2.5, b=1, g=8))
        (True, False)
    """
    ds = _design(space)
    budget = budget or Budget.parse(flops, params, acts)

    def check(sample: Mapping[str, Any]) -> bool:
        verdict = ds.check(sample_values(ds, sample), budget)
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
def _data(name: str, train_size: int | None, test_size: int | None, seed: int, resolution: int | None,
          data_dir: str | None):
    from ...training.data import load_data

    kw: dict[str, Any] = dict(train_size=train_size, test_size=test_size, seed=seed)
    if resolution is not None:
        kw["resolution"] = resolution
    if data_dir is not None:
        kw["data_dir"] = data_dir
    return load_data(name, **kw)


#: Every model :func:`evaluate_model` trained in this process: ``{"config", "flops", "error",
#: "status"}`` (what the tests use to show no over-budget model was trained).
EVALUATED: list[dict] = []


def evaluate_model(model: DesignModelSpace, data: str = "fashion-mnist", *,
                   train_size: int | None = None, test_size: int | None = None,
                   data_seed: int = 0, resolution: int | None = None, data_dir: str | None = None,
                   **settings: Any) -> float:
    """A ``FunctionalEvaluator`` function: train ``model.config`` briefly, report accuracy (%).

    ``settings`` are :class:`regnet_space.training.TrainSettings` fields (``epochs``, ``lr``,
    ``seed``, ``threads``...). Reports each epoch's held-out accuracy as an intermediate result and
    ``{"default": accuracy, "error", "status", "flops", "params", "acts", "config"}`` as the final
    one; a failed training reports accuracy 0. Returns the accuracy.
    """
    from ...training.evaluator import evaluate

    d = _data(data, train_size, test_size, data_seed, resolution, data_dir)
    cfg = model.config
    res = evaluate(cfg, d, settings or None, progress=False,
                   on_epoch=lambda epoch, err, r: nni.report_intermediate_result(float(1.0 - err)))
    ok = res.status == "ok" and res.error is not None
    acc = float(1.0 - res.error) if ok else 0.0
    EVALUATED.append({"config": cfg, "flops": int(res.flops), "params": int(res.params),
                      "acts": int(res.acts), "error": res.error, "status": res.status})
    nni.report_final_result({"default": acc, "error": float(res.error) if ok else None,
                             "status": res.status, "flops": int(res.flops),
                             "params": int(res.params), "acts": int(res.acts),
                             "config": cfg.to_dict()})
    return acc


__all__ = ["AnyNetSpace", "DesignModelSpace", "EVALUATED", "RegNetSpace", "budget_filter",
           "budget_strategy", "evaluate_model", "feasibility", "mutables", "sample_values"]
