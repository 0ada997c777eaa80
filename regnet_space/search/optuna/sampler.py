"""Optuna samplers for design spaces: the paper's distribution, and Optuna's own, seeded per trial."""

from __future__ import annotations

import threading
from typing import Any

import numpy as np
import optuna
from optuna.distributions import BaseDistribution
from optuna.samplers import BaseSampler, RandomSampler

from ...budget import Budget, as_budget
from ...errors import ConfigError, require
from ...files import MAX_SEED
from ...spaces import DesignSpace, get_space
from .encoding import distributions, encode_values, encoding_for
from .storage import _quiet


# ------------------------------------------------------------------------------ sampler
def _check_seed(seed: Any) -> int | None:
    if seed is None:
        return None
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not \
            0 <= seed <= MAX_SEED:
        raise ConfigError(f"seed must be an integer in [0, {MAX_SEED}] or None, got {seed!r}")
    return int(seed)


class DesignSpaceSampler(BaseSampler):
    """Random search exactly as in the paper: whole configurations from the design space's
    distribution, with exact rejection under a complexity budget.

    The trials take the accepted samples of ``space.sample_arrays(n, seed=seed, flops=...,
    params=..., acts=...)`` (prefix-consistent) in order: a trial takes sample number ``k`` =
    the number of earlier trials that drew a sample themselves (:meth:`sample_index`). A retry of a
    dead worker's trial reuses the configuration of the trial it retries, and so does a trial
    enqueued with all the space's parameters; neither uses up a sample. So without retries trial
    ``k`` is sample ``k``, and after a SIGKILLed worker's trial is retried the study still holds
    exactly the first samples of :meth:`DesignSpace.sample` with that seed, each once: the
    configurations have the paper's distribution, the sequence is reproducible, and parallel
    workers sharing a study draw distinct configurations (trial numbers are unique and every
    earlier trial is in the storage when a trial is created). A sample is skipped only when its
    trial never trained: given up after the last retry, or a surplus trial of a sweep's race for
    its last places (see :func:`~regnet_space.search.optuna.run_worker`) whose place a failed
    evaluation later freed. Accepted samples are cached and the stream is extended by doubling.

    The sampler declares the whole search space up front (``infer_relative_search_space``), so it
    works from the first trial on; the objective must ask for the parameters with :func:`suggest`
    (same names and distributions). Other parameters the objective suggests (say a learning rate)
    are drawn by a seeded :class:`~optuna.samplers.RandomSampler`. Retried trials (enqueued with
    fixed parameters) keep their parameters.

    Args:
        space:
            A :class:`~regnet_space.spaces.DesignSpace`, or a registered space name.
        flops, params, acts:
            Inclusive complexity ranges: ``"360M:400M"``, ``(360e6, 400e6)``, ``":400M"`` or
            ``None`` (unbounded), counted at the space's resolution.
        seed:
            Seed of the sample stream (a non-negative integer). ``None`` draws one at random, so
            the sequence is not reproducible.
        max_draws:
            Raw draws allowed per extension of the stream before :class:`BudgetError` (the budget
            is checked once when the sampler is created); ``None`` (default): as
            :meth:`~regnet_space.spaces.DesignSpace.sample_arrays`, growing with n.

    Raises:
        ConfigError: bad arguments, or a budget the space cannot meet (a
            :class:`~regnet_space.spaces.BudgetError` naming the flops range the space reaches).

    Example:
        .. code-block:: python

            import optuna
            from regnet_space.spaces import get_space
            from regnet_space.search.optuna import DesignSpaceSampler, suggest

            space = get_space("regnetx")
            sampler = DesignSpaceSampler(space, flops="360M:400M", seed=0)
            study = optuna.create_study(sampler=sampler)

            def objective(trial):
                cfg = suggest(trial, space)
                return train_and_test(cfg)  # your evaluation

            study.optimize(objective, n_trials=100)
            # the same configurations as space.sample(100, seed=0, flops="360M:400M")
    """

    def __init__(self, space: DesignSpace | str, flops: Any = None, params: Any = None,
                 acts: Any = None, *, seed: int | None = None, max_draws: int | None = None,
                 encoding: str = "feasible") -> None:
        if isinstance(space, str):
            space = get_space(space)
        if not isinstance(space, DesignSpace):
            raise ConfigError(f"space must be a DesignSpace or a registered space name (see "
                            f"regnet_space.space_names()), got {type(space).__name__}")
        seed = _check_seed(seed)
        if max_draws is not None and (isinstance(max_draws, bool) or not isinstance(
                max_draws, (int, np.integer)) or max_draws < 1):
            raise ConfigError(f"max_draws must be a positive integer or None, got {max_draws!r}")
        self._space = space
        self._budget = Budget.parse(flops, params, acts)
        self._seed = int(np.random.SeedSequence().generate_state(1)[0]) if seed is None else seed
        self._max_draws = None if max_draws is None else int(max_draws)
        self._encoding = encoding_for(space, self._budget, encoding)
        self._search_space = distributions(self._encoding)
        self._lock = threading.Lock()
        self._cache = None
        self._independent = RandomSampler(seed=self._seed)
        self._extend(1)  # fail now, with the space's flops range, if the budget is impossible

    @property
    def space(self) -> DesignSpace:
        return self._space

    @property
    def budget(self) -> Budget:
        return self._budget

    @property
    def encoding(self):
        """The encoding whose coordinates this sampler proposes (and the objective decodes)."""
        return self._encoding

    @property
    def seed(self) -> int:
        return self._seed

    def _extend(self, n: int):
        with self._lock:
            if self._cache is None or len(self._cache) < n:
                size = max(n, 2 * (len(self._cache) if self._cache is not None else 0), 64)
                self._cache = self._space.sample_arrays(size, self._seed, budget=self._budget,
                                                        max_draws=self._max_draws)
            return self._cache

    def sample_values(self, k: int) -> dict[str, int | float]:
        """The effective parameter values of the ``k``-th accepted sample."""
        batch = self._extend(k + 1)
        return {p.name: p.cast(batch.values[p.name][k]) for p in self._space.params}

    def _copies_another(self, trial) -> bool:
        """A trial whose space parameters were given when it was created: a dead worker's trial
        retried (system attrs ``retry_history``, as Optuna's retry callback) or a trial enqueued
        with every parameter of the space (``fixed_params``). Both are set at creation and never
        change, which keeps :meth:`sample_index` the same in every worker at any time."""
        attrs = trial.system_attrs
        return "retry_history" in attrs or set(self._search_space) <= set(
            attrs.get("fixed_params", None) or ())

    def sample_index(self, study, trial) -> int:
        """The index of the sample ``trial`` takes: the number of earlier trials that did not
        copy another's configuration; a retry takes the index of the trial it retries (system
        attr ``failed_trial``), which matters when that trial died before it drew.

        Example:
            >>> import optuna
            >>> from regnet_space.spaces import get_space
            >>> sampler = DesignSpaceSampler(get_space("anynetx_a"), seed=0)
            >>> study = optuna.create_study(sampler=sampler)
            >>> study.optimize(lambda trial: 0.0, n_trials=2)
            >>> study.add_trial(optuna.trial.create_trial(        # trial 0 retried as trial 2
            ...     state=optuna.trial.TrialState.WAITING,
            ...     system_attrs={"failed_trial": 0, "retry_history": [0]}))
            >>> study.optimize(lambda trial: 0.0, n_trials=2)
            >>> [sampler.sample_index(study, t) for t in study.trials]
            [0, 1, 0, 2]
        """
        number = trial.system_attrs.get("failed_trial", trial.number)
        return sum(1 for t in study.get_trials(deepcopy=False)
                   if t.number < number and not self._copies_another(t))

    def reseed_rng(self) -> None:
        self._independent.reseed_rng()

    def infer_relative_search_space(self, study, trial) -> dict[str, BaseDistribution]:
        return dict(self._search_space)

    def sample_relative(self, study, trial, search_space) -> dict[str, Any]:
        if not search_space:
            return {}
        values = self.sample_values(self.sample_index(study, trial))
        x = encode_values(self._encoding, values)
        return {k: v for k, v in x.items() if k in search_space}

    def sample_independent(self, study, trial, param_name, param_distribution):
        if param_name in self._search_space:
            optuna.logging.get_logger(__name__).warning(
                f"DesignSpaceSampler: parameter {param_name!r} of space {self._space.name} was "
                f"asked with a different distribution than the space declares; it is drawn "
                f"independently (use regnet_space.search.optuna.suggest to ask for the space).")
        return self._independent.sample_independent(study, trial, param_name, param_distribution)


class PerTrialSeeded(BaseSampler):
    """An Optuna sampler re-created for every trial with the seed ``(seed, trial number)``.

    Reproducible for a given history, and distinct across parallel workers sharing a study (trial
    numbers are unique) even when every worker got the same seed. Optuna's samplers keep their
    search state in the storage (TPE, GP and NSGA-II read the trials; CMA-ES keeps its optimiser
    in trial system attributes), so a fresh instance per trial loses nothing; only public API
    is used.

    Example:
        >>> import optuna
        >>> s = PerTrialSeeded(optuna.samplers.RandomSampler, seed=0)
        >>> study = optuna.create_study(sampler=s)
        >>> study.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=2)
        >>> len(study.trials)
        2
    """

    def __init__(self, factory: Any, seed: int, **kwargs: Any) -> None:
        self._factory, self._seed, self._kwargs = factory, int(seed), kwargs
        self._inner = factory(seed=self._seed, **kwargs)
        self._lock = threading.Lock()

    def _for(self, trial) -> BaseSampler:
        return self._inner

    def before_trial(self, study, trial) -> None:
        seed = int(np.random.SeedSequence([self._seed, trial.number]).generate_state(1)[0])
        with _quiet():
            self._inner = self._factory(seed=seed, **self._kwargs)
        self._inner.before_trial(study, trial)

    def infer_relative_search_space(self, study, trial):
        return self._inner.infer_relative_search_space(study, trial)

    def sample_relative(self, study, trial, search_space):
        return self._inner.sample_relative(study, trial, search_space)

    def sample_independent(self, study, trial, param_name, param_distribution):
        return self._inner.sample_independent(study, trial, param_name, param_distribution)

    def after_trial(self, study, trial, state, values) -> None:
        self._inner.after_trial(study, trial, state, values)

    def reseed_rng(self) -> None:
        self._inner.reseed_rng()


def make_sampler(name: str, space: DesignSpace, budget: Budget | Any = None, *,
                 seed: int | None = None, n_trials: int | None = None,
                 per_trial_seed: bool = True, encoding: Any = "feasible") -> BaseSampler:
    """The Optuna sampler of a search algorithm of :mod:`regnet_space.search.registry`.

    ``design`` is :class:`DesignSpaceSampler` (the paper's distribution under ``budget``,
    proposed in the coordinates of ``encoding``, which must be the objective's); the
    others are Optuna's, with their defaults, or with settings sized for ``n_trials`` when given
    (start-up trials, NSGA-II's population). With a seed and ``per_trial_seed`` they are wrapped
    in :class:`PerTrialSeeded`. QMC is never wrapped: its sample index comes from the storage.

    Example:
        >>> from regnet_space.spaces import get_space
        >>> type(make_sampler("tpe", get_space("regnetx"), seed=0)).__name__
        'PerTrialSeeded'
    """
    from ..registry import get_searcher

    seed = _check_seed(seed)
    searcher = get_searcher(name, "optuna")
    for module in searcher.needs:
        require(module, purpose=f"the {searcher.name} sampler")
    budget = as_budget(budget)
    if searcher.optuna == "design":
        return DesignSpaceSampler(space, budget.flops, budget.params, budget.acts, seed=seed,
                                  encoding=encoding)
    from ..registry import OWN_SAMPLERS

    if searcher.optuna in OWN_SAMPLERS:
        import importlib

        cls = getattr(importlib.import_module(OWN_SAMPLERS[searcher.optuna]), searcher.optuna)
    else:
        cls = getattr(optuna.samplers, searcher.optuna)
    kwargs = searcher.optuna_kwargs(n_trials)
    if searcher.name == "qmc":
        kwargs.update(scramble=True, warn_independent_sampling=False,
                      warn_asynchronous_seeding=False)
        per_trial_seed = False
    if searcher.name == "cmaes":
        kwargs.update(warn_independent_sampling=False)
    with _quiet():
        if seed is None or not per_trial_seed:
            return cls(seed=seed, **kwargs)
        return PerTrialSeeded(cls, seed, **kwargs)


def enqueue_design_samples(study: optuna.Study, space: DesignSpace, budget: Budget | Any,
                           k: int, *, seed: int | None = 0, encoding: Any = "feasible") -> int:
    """Enqueue ``k`` configurations from the paper's distribution under the budget (the first
    ``k`` of ``space.sample(k, seed=seed, ...)``) as the study's first trials; returns k.

    A warm start for model-based samplers under a tight budget: TPE's random start-up trials
    rarely land inside a narrow flops range, and with no feasible trial it has little to learn
    from. Call it on a new study only (it does not check for earlier calls).
    """
    budget = as_budget(budget)
    enc = encoding_for(space, budget, encoding)
    for s in space.sample(int(k), seed=seed, budget=budget):
        study.enqueue_trial(encode_values(enc, s.values), user_attrs={"warm_start": True})
    return int(k)
