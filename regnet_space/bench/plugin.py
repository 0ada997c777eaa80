"""The search benchmark as an optunahub problem: ``study.optimize(problem, n_trials)``.

:func:`problem` wraps a :class:`~regnet_space.bench.oracle.TabularOracle` of a trained population
in an ``optunahub.benchmarks.BaseProblem``, the interface of OptunaHub's benchmark problems, so any
Optuna sampler (and OptunaHub's) runs on it as on their other benchmarks: the problem's
``search_space`` is the encoding's Optuna distributions, ``evaluate(params)`` decodes a proposal
to the space's parameters and answers it from the table (exact row, same architecture, or the
table's surrogate; :mod:`.oracle`), and ``directions`` minimise the error (and, with
``objectives="error,params"``, the complexity). With ``encoding="raw"`` the problem is the
constrained variant: ``evaluate_constraints`` returns ``{"infeasible": 1.0}`` for a proposal
outside the budget or the space's structural constraints (answered with the table's worst
error), ``{"infeasible": 0.0}`` otherwise, as OptunaHub's constrained problems do.

Example:
    >>> import optuna
    >>> from regnet_space.bench.oracle import synthetic_population
    >>> from regnet_space.spaces import get_space
    >>> pop = synthetic_population(get_space("anynetx_a", resolution=28, in_channels=1,
    ...                                      num_classes=10), 64, seed=0, flops="2M:5M")
    >>> p = problem(pop)
    >>> study = optuna.create_study(directions=p.directions,
    ...                             sampler=optuna.samplers.RandomSampler(seed=0))
    >>> study.optimize(p, n_trials=5)
    >>> len(study.trials), 0 < study.best_value < 1
    (5, True)
"""

from __future__ import annotations

from typing import Any, Sequence

from ..errors import ConfigError, require
from .oracle import _INF, KINDS, TabularOracle
from .simulate import COSTS  # what ``objectives`` may name besides ``error``


def problem(table: Any, space: Any = None, *, encoding: str = "feasible",
            objectives: str | Sequence[str] = "error", flops: Any = None,
            noise: str = "none", seed: int = 0):
    """An ``optunahub.benchmarks.BaseProblem`` answering from ``table`` (a population table's
    path or DataFrame; see the module docstring). Needs ``optunahub`` (``pip install
    optunahub``).

    ``noise="none"`` (default, as OptunaHub's problems are deterministic) answers the truth, the
    seed mean; ``noise="seed"`` answers as ``bench-search`` does by default (one recorded seed,
    or the truth plus the measured seed noise; :mod:`.truth`) from a generator seeded with
    ``seed``, and ``problem.truth(params)`` gives the error to score a result on."""
    require("optunahub", pip="'regnet-space[bench]'", purpose="regnet_space.bench.problem")
    import optuna
    from optunahub.benchmarks import BaseProblem

    from ..search.optuna.encoding import coord_distribution, decode_params

    names = [s.strip() for s in (objectives.split(",") if isinstance(objectives, str)
                                 else objectives) if str(s).strip()]
    if not names or names[0] != "error" or any(n not in COSTS for n in names[1:]) \
            or len(set(names)) != len(names):
        raise ConfigError(f"objectives must be error, optionally followed by some of "
                          f"{', '.join(COSTS)} (e.g. error,params), got {objectives!r}")
    if encoding not in ("feasible", "raw"):
        raise ConfigError(f"encoding must be feasible or raw, got {encoding!r}")
    from .truth import NOISE_MODES

    if noise not in NOISE_MODES:
        raise ConfigError(f"noise must be one of {', '.join(NOISE_MODES)}, got {noise!r}")
    from .runs import answer_rng

    rng = answer_rng(seed)  # the stream bench-search's seed ``seed`` answers from
    oracle = TabularOracle.from_table(table, space, flops=flops)
    enc = oracle.encoding(encoding)
    dists = {c.name: coord_distribution(c) for c in enc.coords}

    class RegNetSpaceProblem(BaseProblem):
        """A trained population of a design space as an OptunaHub benchmark problem."""

        def __init__(self) -> None:
            self.oracle, self.encoding, self.objectives = oracle, encoding, tuple(names)
            self.kinds: dict[str, int] = {k: 0 for k in KINDS}  # how each answer was made

        @property
        def search_space(self) -> dict[str, optuna.distributions.BaseDistribution]:
            return dict(dists)

        @property
        def directions(self) -> list[optuna.study.StudyDirection]:
            return [optuna.study.StudyDirection.MINIMIZE] * len(self.objectives)

        def values(self, params: dict[str, Any]) -> dict[str, Any]:
            """The space's parameter values a proposal decodes to."""
            return decode_params(enc, params)

        def truth(self, params: dict[str, Any]) -> float:
            """The error a result is scored on: the architecture's seed mean (or the surrogate
            of it)."""
            return float(oracle.answer(self.values(params))[0])

        def evaluate(self, params: dict[str, Any]):
            values = self.values(params)
            error, kind = oracle.answer(values)
            if noise == "seed":
                error = oracle.draw(values, rng, noise).value
            self.kinds[KINDS[kind]] += 1
            if len(self.objectives) == 1:
                return float(error)
            cx = oracle.space.check(values)
            return [float(error)] + [float(getattr(cx, n)) for n in self.objectives[1:]]

        def evaluate_constraints(self, params: dict[str, Any]) -> dict[str, float]:
            if self.encoding != "raw":
                return {}
            return {"infeasible": 1.0 if oracle.answer(self.values(params))[1] == _INF
                    else 0.0}

        def __repr__(self) -> str:
            return (f"RegNetSpaceProblem({oracle.describe()}; encoding {self.encoding}; "
                    f"objectives {','.join(self.objectives)})")

    return RegNetSpaceProblem()


__all__ = ["COSTS", "problem"]
