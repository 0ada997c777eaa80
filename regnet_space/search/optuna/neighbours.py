"""Two NAS baselines as Optuna samplers: regularized evolution and local search.

Both move one coordinate of the encoding at a time, the standard baselines of the NAS
benchmarks (NAS-Bench-101/201, NASLib):

* :class:`RegularizedEvolutionSampler` (``re``; Real et al., AAAI 2019, "aging evolution"): the
  first ``population_size`` trials are random; afterwards the population is the last
  ``population_size`` finished trials (the oldest dies), ``sample_size`` of them are drawn at
  random, and the best of those, with one coordinate mutated to a new random value, is the next
  trial.
* :class:`LocalSearchSampler` (``ls``; White et al., 2021, "Local search is state of the art for
  NAS benchmarks"): a walk starts at a random point; its incumbent is the best trial of the walk;
  the next trial is an untried neighbour of the incumbent (one coordinate one step away, in a
  random order); when every neighbour has been tried without improving, a new walk starts at a
  random point.

Like Optuna's own samplers they keep no state of their own: everything is read from the study's
trials (a walk's start is marked in a trial's system attributes), so they resume, and several
workers can share a study. The search space is the one the objective suggests (for this
package, an encoding's coordinates, :mod:`.encoding`); other parameters are drawn at random.
Minimisation only.

Example:
    >>> import optuna
    >>> optuna.logging.set_verbosity(optuna.logging.WARNING)
    >>> def f(t):
    ...     return (t.suggest_int("x", 0, 20) - 13) ** 2 + (t.suggest_int("y", 0, 20) - 4) ** 2
    >>> study = optuna.create_study(sampler=LocalSearchSampler(seed=0))
    >>> study.optimize(f, n_trials=60)
    >>> study.best_params
    {'x': 13, 'y': 4}
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import optuna
from optuna.distributions import (BaseDistribution, CategoricalDistribution, FloatDistribution,
                                  IntDistribution)
from optuna.samplers import BaseSampler, RandomSampler
from optuna.search_space import IntersectionSearchSpace
from optuna.trial import TrialState

from ...errors import ConfigError

#: System attribute marking the first trial of a local-search walk.
WALK_START = "ls:walk_start"
#: Steps a float coordinate is cut into for local search's neighbours.
FLOAT_STEPS = 16


def _finished(study) -> list:
    return [t for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
            if t.value is not None and math.isfinite(t.value)]


def _check_direction(study) -> None:
    if study._is_multi_objective() or study.direction != optuna.study.StudyDirection.MINIMIZE:
        raise ConfigError("this sampler minimises a single objective")


def neighbours(dist: BaseDistribution, value: Any) -> list:
    """The values one step from ``value``: the next grid points of an int (a factor of 2 on a
    log scale), the other choices of a categorical, 1/16 of the range (of its log on a log
    scale) for a float.

    Example:
        >>> neighbours(IntDistribution(1, 10), 1), neighbours(CategoricalDistribution([1, 2, 4]), 2)
        ([2], [1, 4])
        >>> neighbours(IntDistribution(8, 256, log=True), 16)
        [8, 32]
    """
    if isinstance(dist, CategoricalDistribution):
        return [c for c in dist.choices if c != value]
    if isinstance(dist, IntDistribution):
        if dist.log:
            cand = [max(dist.low, int(value) // 2), min(dist.high, int(value) * 2)]
        else:
            cand = [int(value) - dist.step, int(value) + dist.step]
        return sorted({c for c in cand if dist.low <= c <= dist.high and c != value})
    if isinstance(dist, FloatDistribution):
        if dist.step:
            cand = [value - dist.step, value + dist.step]
        elif dist.log:
            r = (math.log(dist.high) - math.log(dist.low)) / FLOAT_STEPS
            cand = [math.exp(math.log(value) - r), math.exp(math.log(value) + r)]
        else:
            r = (dist.high - dist.low) / FLOAT_STEPS
            cand = [value - r, value + r]
        return [min(max(c, dist.low), dist.high) for c in cand
                if not math.isclose(min(max(c, dist.low), dist.high), value)]
    raise ConfigError(f"no neighbours for {type(dist).__name__}")


def _resample(dist: BaseDistribution, value: Any, rng: np.random.Generator) -> Any:
    """A new random value of ``dist``, different from ``value`` where the distribution allows."""
    for _ in range(16):
        if isinstance(dist, CategoricalDistribution):
            v = dist.choices[int(rng.integers(len(dist.choices)))]
        elif isinstance(dist, IntDistribution):
            if dist.log:
                v = int(round(math.exp(rng.uniform(math.log(dist.low), math.log(dist.high)))))
                v = min(max(v, dist.low), dist.high)
            else:
                v = dist.low + dist.step * int(rng.integers((dist.high - dist.low) // dist.step + 1))
        else:
            if dist.log:
                v = math.exp(rng.uniform(math.log(dist.low), math.log(dist.high)))
            else:
                v = rng.uniform(dist.low, dist.high)
            if dist.step:
                v = dist.low + round((v - dist.low) / dist.step) * dist.step
        if v != value:
            return v
    return value


class _OneCoordinate(BaseSampler):
    """What both samplers share: the search space, the seeded generator, random fallback."""

    def __init__(self, seed: int | None = None) -> None:
        self._rng = np.random.default_rng(seed)
        self._random = RandomSampler(seed=seed)
        self._space = IntersectionSearchSpace()

    def reseed_rng(self) -> None:
        self._rng = np.random.default_rng()
        self._random.reseed_rng()

    def infer_relative_search_space(self, study, trial) -> dict[str, BaseDistribution]:
        return {k: d for k, d in self._space.calculate(study).items() if not d.single()}

    def sample_independent(self, study, trial, param_name, param_distribution):
        return self._random.sample_independent(study, trial, param_name, param_distribution)

    def _params(self, t, space) -> dict | None:
        if not all(k in t.params for k in space):
            return None
        return {k: t.params[k] for k in space}


class RegularizedEvolutionSampler(_OneCoordinate):
    """Regularized (aging) evolution over the objective's coordinates (module docstring).

    Args:
        population_size: the population (the last this many finished trials); the first this
            many trials are random. Real et al. use 100 at thousands of trials; a benchmark of a
            few dozen trials wants about a quarter of its budget.
        sample_size: the tournament: how many members are drawn to pick a parent (<= population).
        seed: seed of the random draws.

    Example:
        >>> import optuna
        >>> optuna.logging.set_verbosity(optuna.logging.WARNING)
        >>> s = RegularizedEvolutionSampler(population_size=8, sample_size=3, seed=0)
        >>> study = optuna.create_study(sampler=s)
        >>> study.optimize(lambda t: (t.suggest_float("x", -5, 5) - 1) ** 2, n_trials=80)
        >>> abs(study.best_params["x"] - 1) < 0.5
        True
    """

    def __init__(self, population_size: int = 20, sample_size: int = 5,
                 seed: int | None = None) -> None:
        for name, v in (("population_size", population_size), ("sample_size", sample_size)):
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ConfigError(f"{name} must be an integer >= 1, got {v!r}")
        if sample_size > population_size:
            raise ConfigError(f"sample_size ({sample_size}) must be <= population_size "
                              f"({population_size})")
        super().__init__(seed)
        self.population_size, self.sample_size = population_size, sample_size

    def sample_relative(self, study, trial, search_space) -> dict[str, Any]:
        if not search_space:
            return {}
        _check_direction(study)
        done = [t for t in _finished(study) if self._params(t, search_space) is not None]
        if len(done) < self.population_size:
            return {}  # the random initial population
        population = sorted(done, key=lambda t: t.number)[-self.population_size:]
        pick = self._rng.choice(len(population), size=self.sample_size, replace=False)
        parent = min((population[i] for i in pick), key=lambda t: (t.value, t.number))
        child = self._params(parent, search_space)
        name = sorted(search_space)[int(self._rng.integers(len(search_space)))]
        child[name] = _resample(search_space[name], child[name], self._rng)
        study._storage.set_trial_system_attr(trial._trial_id, "re:parent", parent.number)
        return child


class LocalSearchSampler(_OneCoordinate):
    """Local search over one-coordinate neighbours, restarting when stuck (module docstring).

    Example:
        >>> import optuna
        >>> optuna.logging.set_verbosity(optuna.logging.WARNING)
        >>> study = optuna.create_study(sampler=LocalSearchSampler(seed=1))
        >>> study.optimize(lambda t: abs(t.suggest_int("k", 0, 30) - 21), n_trials=30)
        >>> study.best_value
        0.0
    """

    def sample_relative(self, study, trial, search_space) -> dict[str, Any]:
        if not search_space:
            return {}
        _check_direction(study)
        trials = [t for t in study.get_trials(deepcopy=False)
                  if self._params(t, search_space) is not None]
        if not trials:
            return self._start(study, trial)
        # the first trial starts the first walk (it is drawn before the search space is known)
        starts = [trials[0].number] + [t.number for t in trials if t.system_attrs.get(WALK_START)]
        walk = [t for t in trials if t.number >= starts[-1]]
        done = [t for t in walk if t.state == TrialState.COMPLETE and t.value is not None
                and math.isfinite(t.value)]
        if not done:  # the walk's start is still running (another worker): branch off it
            return self._start(study, trial)
        inc = min(done, key=lambda t: (t.value, t.number))
        tried = {self._key(self._params(t, search_space)) for t in trials}
        x = self._params(inc, search_space)
        cand = []
        for name in sorted(search_space):
            for v in neighbours(search_space[name], x[name]):
                y = {**x, name: v}
                if self._key(y) not in tried:
                    cand.append(y)
        if not cand:  # a local optimum: a new walk
            return self._start(study, trial)
        return cand[int(self._rng.integers(len(cand)))]

    def _start(self, study, trial) -> dict[str, Any]:
        study._storage.set_trial_system_attr(trial._trial_id, WALK_START, True)
        return {}  # drawn at random by sample_independent

    @staticmethod
    def _key(params: dict) -> tuple:
        return tuple(sorted((k, round(v, 9) if isinstance(v, float) else v)
                            for k, v in params.items()))


__all__ = ["FLOAT_STEPS", "LocalSearchSampler", "RegularizedEvolutionSampler", "WALK_START",
           "neighbours"]
