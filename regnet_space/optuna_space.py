"""Optuna integration: define-by-run suggestions, the paper's sampler, budgets, objective, storage.

Everything here is generated from a :class:`~regnet_space.spaces.DesignSpace`'s parameter list; no
range is restated. The pieces:

* :func:`suggest` (and :func:`suggest_values`): one Optuna suggestion per space parameter, so any
  Optuna sampler can search any registered space.
* :class:`DesignSpaceSampler`: draws whole configurations from the paper's distribution with exact
  rejection under a complexity budget ("random search" exactly as in the paper): trial ``k`` takes
  the ``k``-th accepted sample of ``space.sample_arrays(..., seed=seed)``.
* :func:`apply_budget`: analytic complexity before any training, recorded as Optuna 5 constraints
  (``trial.set_constraint``; a value <= 0 is feasible).
* :func:`objective`: suggest -> decode -> budget -> (train) -> user attributes. An infeasible
  configuration returns :data:`INFEASIBLE_VALUE` at once and is never trained.
* :func:`open_storage`, :func:`open_study`, :func:`run_worker`, :func:`export_population`: the
  persistent, resumable, multi-worker sweep behind ``regnet-space sweep`` / ``export``.

Encoding of each parameter kind (the Optuna parameter name is the space's name unless noted):

==================  ===========================================================================
``Param.kind``      Optuna suggestion
==================  ===========================================================================
``uniform``         ``suggest_int`` / ``suggest_float`` with ``step=q`` (exact grid)
``log_uniform``     ``suggest_int`` / ``suggest_float`` with ``log=True`` (Optuna forbids a step
                    with ``log``), then :meth:`Param.snap` to the grid (nearest in log space)
``power2``          ``suggest_int("<name>_log2", lo, hi)``: the integer exponent, value ``2**e``.
                    Ordered and exact; a categorical over the values would hide the order from
                    TPE, GP and CMA-ES.
``power2_or_log``   ``suggest_int(name, low, high, log=True)`` snapped to the allowed values
                    (powers of two below ``q``, multiples of ``q`` above): ordered, log-scaled
``choice``          numeric choices: ``suggest_int("<name>_index", 0, k - 1)`` over the sorted
                    values (ordered); non-numeric choices: ``suggest_categorical``
==================  ===========================================================================

The effective (snapped) values are stored in the trial's user attribute ``values``; exports use
them, so a table shows ``g = 8``, never ``g_log2 = 3``.

Constraints and samplers: TPE, GP and NSGA-II/III read the constraints (``trial.set_constraint``)
and learn to avoid infeasible regions; CMA-ES warns that it ignores them, and Random and QMC ignore
them silently (all of them still see the penalty value). :class:`DesignSpaceSampler` never
proposes an infeasible configuration. Infeasible trials are COMPLETE trials with user attribute
``status = "infeasible"`` and the penalty value: they are not pruned (``TrialPruned`` drove TPE
toward shallow networks, optuna#2969) nor failed (samplers ignore FAIL trials and propose the same
point again). ``study.best_trial`` returns only feasible trials.

Example:
    >>> import optuna
    >>> from regnet_space.spaces import get_space
    >>> space = get_space("regnetx", resolution=28, in_channels=1, num_classes=10)
    >>> sampler = DesignSpaceSampler(space, flops="5M:20M", seed=0)
    >>> study = optuna.create_study(sampler=sampler)
    >>> study.optimize(objective(space, budget="5M:20M", evaluate=lambda cfg, **kw: 0.5), n_trials=3)
    >>> all(5e6 <= t.user_attrs["flops"] <= 20e6 for t in study.trials)
    True
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import os
import socket
import threading
import time
import traceback
from dataclasses import dataclass
from typing import Any, Callable, Mapping

import numpy as np
import optuna
from optuna.distributions import (BaseDistribution, CategoricalDistribution, FloatDistribution,
                                  IntDistribution)
from optuna.samplers import BaseSampler, RandomSampler
from optuna.trial import FrozenTrial, TrialState

from .budget import Budget, fmt_amount
from .config import NetConfig
from .spaces import DesignSpace, Param, get_space

__all__ = [
    "DesignSpaceSampler", "INFEASIBLE_VALUE", "SAMPLERS", "StudyMismatchError", "TooManyFailures", "apply_budget",
    "decode_params", "default_study_name", "distributions", "encode_values",
    "enqueue_design_samples", "export_population",
    "make_sampler", "objective", "open_storage", "open_study", "run_worker", "study_summary",
    "suggest", "suggest_values",
]

#: Objective value of an infeasible (over/under-budget or structurally invalid) configuration:
#: a top-1 error of 100% as a fraction. It is never trained.
INFEASIBLE_VALUE = 1.0
#: ``--sampler`` names understood by :func:`make_sampler`.
SAMPLERS = ("design", "random", "tpe", "cmaes", "gp", "nsga2", "qmc")
#: Samplers that read ``trial.set_constraint`` values.
CONSTRAINT_AWARE = ("tpe", "gp", "nsga2")
#: Study user attribute holding the sweep's metadata.
META_KEY = "regnet_space"
#: Metadata keys that must match when a sweep resumes an existing study.
CHECKED_KEYS = ("space", "resolution", "in_channels", "num_classes", "block", "stem", "budget",
                "sampler", "seed", "data", "settings", "direction")


@contextlib.contextmanager
def _quiet():
    """Silence Optuna's ExperimentalWarning (heartbeat, fail_stale_trials, GP, QMC)."""
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        warnings.simplefilter("ignore", FutureWarning)
        yield


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
        raise TypeError(f"expected a DesignSpace (e.g. get_space('regnetx')), got "
                        f"{type(space).__name__}")
    return tuple(_encoding(p) for p in space.params)


def distributions(space: DesignSpace) -> dict[str, BaseDistribution]:
    """The Optuna search space of a design space: {optuna parameter name: distribution}.

    Example:
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
        raise ValueError(f"parameters {missing} of space {space.name} are missing")
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
        >>> study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
        >>> cfg = suggest(study.ask(), get_space("regnetx"))
        >>> cfg.block
        'X'
    """
    return space.decode(suggest_values(trial, space))


# ------------------------------------------------------------------------------ budget
def _as_budget(budget: Any = None, params: Any = None, acts: Any = None) -> Budget:
    if isinstance(budget, Budget):
        return budget
    if isinstance(budget, Mapping):
        return Budget.parse(**budget)
    return Budget.parse(budget, params, acts)


def apply_budget(trial: optuna.trial.BaseTrial, space: DesignSpace, values: Mapping[str, Any],
                 budget: Budget | Any = None) -> bool:
    """Count the configuration's complexity analytically and record Optuna 5 constraints.

    One constraint per budget bound (``flops_low = (lo - flops) / lo``, ``flops_high = (flops -
    hi) / hi``, ...; <= 0 is feasible) plus ``structure`` (the number of the space's structural
    constraints and caps broken, e.g. a RegNet with 3 stages). Every trial gets every key, so
    constraint-aware samplers can compare them. Also stores ``flops``, ``params``, ``acts``,
    ``feasible`` and ``violations`` as user attributes. Returns whether the configuration is
    feasible.
    """
    budget = _as_budget(budget)
    arrays = {k: np.array([v]) for k, v in space.check_values(values).items()}
    f, p, a, _ = space.evaluate_arrays(arrays)
    f, p, a = int(f[0]), int(p[0]), int(a[0])
    broken = space.violations(values)
    cons = dict(budget.violations(f, p, a))
    cons["structure"] = float(len(broken))
    for key, value in cons.items():
        trial.set_constraint(key, float(value))
    feasible = all(v <= 0 for v in cons.values())
    why = list(broken) + [f"{k} = {v:+.3g}" for k, v in cons.items() if k != "structure" and v > 0]
    for key, value in (("flops", f), ("params", p), ("acts", a), ("feasible", feasible),
                       ("violations", why)):
        trial.set_user_attr(key, value)
    return feasible


# ------------------------------------------------------------------------------ sampler
def _check_seed(seed: Any) -> int | None:
    if seed is None:
        return None
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer or None, got {seed!r}")
    return int(seed)


class DesignSpaceSampler(BaseSampler):
    """Random search exactly as in the paper: whole configurations from the design space's
    distribution, with exact rejection under a complexity budget.

    Trial number ``k`` takes the ``k``-th accepted sample of ``space.sample_arrays(n, seed=seed,
    flops=..., params=..., acts=...)``, which is prefix-consistent. So the configurations have the
    same distribution as :meth:`DesignSpace.sample` (the same seed gives the same sequence), and
    parallel workers sharing a study draw distinct, reproducible configurations (trial numbers are
    unique). Accepted samples are cached and the stream is extended by doubling.

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
            is checked once when the sampler is created).

    Raises:
        ValueError: bad arguments, or a budget the space cannot meet (a
            :class:`~regnet_space.spaces.BudgetError` naming the flops range the space reaches).

    Example:
        .. code-block:: python

            import optuna
            from regnet_space.spaces import get_space
            from regnet_space.optuna_space import DesignSpaceSampler, suggest

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
                 acts: Any = None, *, seed: int | None = None, max_draws: int = 20_000_000) -> None:
        if isinstance(space, str):
            space = get_space(space)
        if not isinstance(space, DesignSpace):
            raise TypeError(f"space must be a DesignSpace or a registered space name (see "
                            f"regnet_space.space_names()), got {type(space).__name__}")
        seed = _check_seed(seed)
        if isinstance(max_draws, bool) or not isinstance(max_draws, (int, np.integer)) \
                or max_draws < 1:
            raise ValueError(f"max_draws must be a positive integer, got {max_draws!r}")
        self._space = space
        self._budget = Budget.parse(flops, params, acts)
        self._seed = int(np.random.SeedSequence().generate_state(1)[0]) if seed is None else seed
        self._max_draws = int(max_draws)
        self._encs = _encodings(space)
        self._search_space = {e.name: e.distribution for e in self._encs}
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

    def reseed_rng(self) -> None:
        self._independent.reseed_rng()

    def infer_relative_search_space(self, study, trial) -> dict[str, BaseDistribution]:
        return dict(self._search_space)

    def sample_relative(self, study, trial, search_space) -> dict[str, Any]:
        if not search_space:
            return {}
        values = self.sample_values(trial.number)
        return {e.name: e.encode(values[e.param.name]) for e in self._encs
                if e.name in search_space}

    def sample_independent(self, study, trial, param_name, param_distribution):
        if param_name in self._search_space:
            optuna.logging.get_logger(__name__).warning(
                f"DesignSpaceSampler: parameter {param_name!r} of space {self._space.name} was "
                f"asked with a different distribution than the space declares; it is drawn "
                f"independently (use regnet_space.optuna_space.suggest to ask for the space).")
        return self._independent.sample_independent(study, trial, param_name, param_distribution)


def _reseed(sampler: BaseSampler, seed: int, _depth: int = 0) -> None:
    """Reseed a sampler's random states in place (used per trial: see :func:`make_sampler`)."""
    try:
        from optuna.samplers._lazy_random_state import LazyRandomState
    except ImportError:  # pragma: no cover - another Optuna layout: keep its own seeding
        return
    for value in list(vars(sampler).values()):
        if isinstance(value, LazyRandomState):
            value.rng.seed(seed)
        elif isinstance(value, BaseSampler) and _depth < 2:
            _reseed(value, seed + 1, _depth + 1)


def _trial_seeded(cls: type, seed: int | None, **kwargs: Any) -> BaseSampler:
    """An instance of an Optuna sampler class whose random state is reseeded from (seed, trial
    number) before each trial: reproducible for a given history, and distinct across parallel
    workers sharing a study (trial numbers are unique), even when every worker gets the same seed.
    """
    if seed is None:
        return cls(**kwargs)

    def before_trial(self, study, trial):
        cls.before_trial(self, study, trial)
        _reseed(self, int(np.random.SeedSequence([seed, trial.number]).generate_state(1)[0]))

    sub = type(cls.__name__, (cls,), {"before_trial": before_trial, "__module__": __name__,
                                       "__doc__": cls.__doc__})
    return sub(seed=seed, **kwargs)


def canonical_sampler(name: str) -> str:
    """``NSGA-II`` -> ``nsga2``...; a ValueError listing :data:`SAMPLERS` for an unknown name."""
    key = str(name).lower().replace("-", "").replace("_", "")
    key = {"nsgaii": "nsga2", "cma": "cmaes", "sobol": "qmc"}.get(key, key)
    if key not in SAMPLERS:
        raise ValueError(f"unknown sampler {name!r}; choose one of {', '.join(SAMPLERS)}")
    return key


def make_sampler(name: str, space: DesignSpace, budget: Budget | Any = None, *,
                 seed: int | None = None) -> BaseSampler:
    """A sampler by ``--sampler`` name: ``design`` (:class:`DesignSpaceSampler`), ``random``,
    ``tpe``, ``cmaes``, ``gp``, ``nsga2`` or ``qmc`` (Optuna's, with default settings).

    With a seed, Optuna's samplers are reseeded from (seed, trial number) before each trial, so
    several workers given the same seed do not propose the same configurations. QMC needs no
    reseeding: its sample index comes from the storage.
    """
    seed = _check_seed(seed)
    key = canonical_sampler(name)
    budget = _as_budget(budget)
    with _quiet():
        return _make_sampler(key, space, budget, seed)


def _make_sampler(key: str, space: DesignSpace, budget: Budget, seed: int | None) -> BaseSampler:
    S = optuna.samplers
    if key == "design":
        return DesignSpaceSampler(space, budget.flops, budget.params, budget.acts, seed=seed)
    if key == "random":
        return _trial_seeded(S.RandomSampler, seed)
    if key == "tpe":
        return _trial_seeded(S.TPESampler, seed)
    if key == "cmaes":
        try:
            import cmaes  # noqa: F401
        except ImportError:
            raise ValueError("the cmaes sampler needs the cmaes package: pip install cmaes") from None
        return _trial_seeded(S.CmaEsSampler, seed)
    if key == "gp":
        try:
            import scipy  # noqa: F401
            import torch  # noqa: F401
        except ImportError:
            raise ValueError("the gp sampler needs torch and scipy: pip install torch scipy") from None
        return _trial_seeded(S.GPSampler, seed)
    if key == "nsga2":
        return _trial_seeded(S.NSGAIISampler, seed)
    try:
        import scipy  # noqa: F401
    except ImportError:
        raise ValueError("the qmc sampler needs scipy: pip install scipy") from None
    return S.QMCSampler(seed=seed)


def enqueue_design_samples(study: optuna.Study, space: DesignSpace, budget: Budget | Any,
                           k: int, *, seed: int | None = 0) -> int:
    """Enqueue ``k`` configurations from the paper's distribution under the budget (the first
    ``k`` of ``space.sample(k, seed=seed, ...)``) as the study's first trials; returns k.

    A warm start for model-based samplers under a tight budget: TPE's random start-up trials
    rarely land inside a narrow flops range, and with no feasible trial it has little to learn
    from. Call it on a new study only (it does not check for earlier calls).
    """
    budget = _as_budget(budget)
    for s in space.sample(int(k), seed=seed, budget=budget):
        study.enqueue_trial(encode_values(space, s.values), user_attrs={"warm_start": True})
    return int(k)


# ------------------------------------------------------------------------------ objective
def _jsonable(x: Any) -> Any:
    if dataclasses.is_dataclass(x) and not isinstance(x, type):
        x = dataclasses.asdict(x)
    if isinstance(x, Mapping):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if isinstance(x, (np.integer,)):
        return int(x)
    if isinstance(x, (np.floating,)):
        return float(x)
    if isinstance(x, (str, int, float, bool)) or x is None:
        return x
    if hasattr(x, "item"):
        try:
            return x.item()
        except (TypeError, ValueError):
            pass
    return str(x)


def _result_fields(result: Any) -> dict:
    """An evaluator result (float, mapping, or object with attributes) as a dict."""
    if isinstance(result, (int, float, np.floating, np.integer)):
        return {"error": float(result)}
    if isinstance(result, Mapping):
        return dict(result)
    if dataclasses.is_dataclass(result):
        return {f.name: getattr(result, f.name) for f in dataclasses.fields(result)}
    return {k: v for k, v in vars(result).items() if not k.startswith("_")}


def _fraction(e: Any) -> float:
    """An error as a plain float fraction in [0, 1] (the evaluator's unit)."""
    return float(e)


#: Evaluator result fields not copied to user attributes (the study metadata holds them, or the
#: objective stores them under its own names).
_SKIP_FIELDS = ("error", "config", "status", "settings", "data", "reason", "flops", "params",
                "acts", "curve")


def _normalize_result(result: Any) -> tuple[str, float, list, dict, str | None]:
    """(status ok/failed, error fraction or NaN, curve (fractions), extra fields, message)."""
    fields = _result_fields(result)
    status = str(fields.get("status", "ok") or "ok")
    message = fields.get("reason") or fields.get("message")
    err = float("nan")
    for key in ("error", "test_error", "top1_error"):
        if fields.get(key) is not None:
            err = _fraction(fields[key])
            break
    curve = fields.get("curve", fields.get("eval_error")) or []
    curve = [_fraction(x) if x is not None else float("nan") for x in curve]
    extra = {k: v for k, v in fields.items() if k not in _SKIP_FIELDS}
    if "train_time" in extra:
        extra["train_time_s"] = extra.pop("train_time")
    if status != "ok":
        extra["evaluator_status"] = status
        return "failed", float("nan"), curve, extra, message or f"evaluator status {status}"
    if not math.isfinite(err):
        return "failed", err, curve, extra, f"evaluation returned no finite error ({err})"
    return "ok", err, curve, extra, None


def _accepts(fn: Callable, name: str, *, var_keyword: bool = True) -> bool:
    import inspect
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False
    return name in params or (var_keyword and any(p.kind == p.VAR_KEYWORD
                                                  for p in params.values()))


def _default_evaluate(config: NetConfig, data: Any = None, settings: Any = None, on_epoch=None):
    """:func:`regnet_space.evaluator.evaluate` (torch is imported only when training)."""
    from .evaluator import evaluate
    kw: dict[str, Any] = {"progress": False}
    if on_epoch is not None and _accepts(evaluate, "on_epoch", var_keyword=False):
        kw["on_epoch"] = on_epoch
    return evaluate(config, data, settings, **kw)


def objective(space: DesignSpace, data: Any = None, settings: Any = None, *,
              budget: Budget | Any = None, evaluate: Callable | None = None,
              prune: bool = True) -> Callable[[optuna.trial.Trial], float]:
    """An Optuna objective: suggest, decode, check the budget, train, record.

    Returns ``fn(trial) -> test top-1 error as a fraction``. For each trial it stores the user
    attributes ``values`` (effective parameters), ``config`` (NetConfig JSON), ``flops``,
    ``params``, ``acts``, ``feasible``, ``violations``, ``status`` (``ok``, ``infeasible``,
    ``pruned``, ``failed``), ``curve`` (per-epoch test error, fractions), ``time_s`` (wall time
    of the trial), ``train_time_s`` (the evaluator's), ``message`` (why a trial failed) and
    ``eval`` (the evaluator's other result fields, one dict: a storage write is a transaction).

    * An infeasible configuration (outside ``budget`` or the space's structural constraints)
      returns :data:`INFEASIBLE_VALUE` at once, untrained, with ``status = "infeasible"``.
    * Each epoch's test error is reported with ``trial.report``; with ``prune=True`` a pruner may
      stop the trial (``status = "pruned"``).
    * An evaluation that raises is recorded (``status = "failed"``, ``message``, ``traceback``) and
      the trial returns NaN, which Optuna records as a FAIL trial without stopping the study.

    ``evaluate(config, data=..., settings=..., on_epoch=...)`` replaces the real evaluator
    (:func:`regnet_space.evaluator.evaluate`); it returns a float error, a mapping or a result
    object with ``error`` (a fraction), optionally ``curve`` and timings. ``on_epoch(epoch,
    error)`` is called per epoch by the evaluator.
    """
    budget = _as_budget(budget)
    _encodings(space)

    def run(trial: optuna.trial.Trial) -> float:
        t0 = time.perf_counter()
        if trial.user_attrs.get("status") != "running":
            trial.set_user_attr("status", "running")
        values = suggest_values(trial, space)
        try:
            config = space.decode(values)
        except ValueError as e:  # a configuration NetConfig refuses: infeasible, not a crash
            trial.set_constraint("structure", 1.0)
            trial.set_user_attr("violations", [str(e)])
            trial.set_user_attr("feasible", False)
            trial.set_user_attr("status", "infeasible")
            return INFEASIBLE_VALUE
        trial.set_user_attr("config", config.to_json())
        if not apply_budget(trial, space, values, budget):
            trial.set_user_attr("status", "infeasible")
            trial.set_user_attr("time_s", time.perf_counter() - t0)
            return INFEASIBLE_VALUE
        curve: list[float] = []
        reported: set[int] = set()

        def on_epoch(epoch: int, error: float, *_: Any, **__: Any) -> None:
            e = _fraction(error)
            curve.append(e)
            if math.isfinite(e):
                trial.report(e, int(epoch))
                reported.add(int(epoch))
            if prune and trial.should_prune():
                raise optuna.TrialPruned(f"pruned at epoch {epoch} (test error {e:.4f})")

        def done(status: str, value: float, **attrs: Any) -> float:
            for k, v in attrs.items():
                if v is not None:
                    trial.set_user_attr(k, _jsonable(v))
            trial.set_user_attr("status", status)
            trial.set_user_attr("time_s", time.perf_counter() - t0)
            return value

        ev = evaluate or _default_evaluate
        kw: dict[str, Any] = {"data": data, "settings": settings}
        if evaluate is None or _accepts(ev, "on_epoch"):
            kw["on_epoch"] = on_epoch
        try:
            result = ev(config, **kw)
            status, err, rcurve, extra, message = _normalize_result(result)
        except optuna.TrialPruned:
            done("pruned", 0.0, curve=curve)
            raise
        except Exception as e:  # recorded, never fatal to the study
            return done("failed", float("nan"), curve=curve, message=f"{type(e).__name__}: {e}"[:1000],
                        traceback=traceback.format_exc()[-4000:])
        curve = rcurve or curve
        # one storage write for the evaluator's other fields (each write is a transaction)
        train_time = extra.pop("train_time_s", None)
        if extra:
            trial.set_user_attr("eval", _jsonable(extra))
        # evaluators without a per-epoch hook: report the curve afterwards (no pruning)
        for epoch, e in enumerate(curve):
            if epoch not in reported and math.isfinite(e):
                trial.report(e, epoch)
        if status != "ok":
            return done("failed", float("nan"), curve=curve, message=message,
                        train_time_s=train_time)
        return done("ok", err, curve=curve, train_time_s=train_time)

    return run


# ------------------------------------------------------------------------------ storage
class StudyMismatchError(ValueError):
    """An existing study was created for another space, budget or setting."""


class TooManyFailures(RuntimeError):
    """A worker stopped after ``max_failures`` failed evaluations."""


def _sqlite_path(url: str) -> str | None:
    if url.startswith("sqlite:///"):
        path = url[len("sqlite:///"):].split("?", 1)[0]
        return None if path in ("", ":memory:") else path
    return None


def _journal_path(url: str) -> str | None:
    if url.startswith("journal:"):
        path = url[len("journal:"):]
        return path[2:] if path.startswith("//") else path
    if "://" not in url and url.lower().endswith((".journal", ".log")):
        return url
    return None


def normalize_storage(url: str) -> str:
    """Plain ``*.db``/``*.sqlite`` paths become ``sqlite:///path``; everything else is kept."""
    url = str(url).strip()
    if not url:
        raise ValueError("empty --storage: use sqlite:///file.db, postgresql://user@host/db "
                         "or journal:path")
    if "://" not in url and not url.startswith("journal:") and \
            url.lower().endswith((".db", ".sqlite", ".sqlite3")):
        return f"sqlite:///{url}"
    return url


def open_storage(url: str, *, heartbeat: int | None = 30, grace: int | None = None,
                 retry: int | None = 3) -> optuna.storages.BaseStorage:
    """Open (or create) an Optuna storage with dead-worker recovery.

    * ``sqlite:///file.db``, ``postgresql://...``, ``mysql://...``: :class:`RDBStorage` with a
      heartbeat every ``heartbeat`` seconds; a RUNNING trial whose heartbeat is older than
      ``grace`` (default 4 x heartbeat) is failed and retried with the same parameters (at most
      ``retry`` times). SQLite waits up to 60 s on a locked database.
    * ``journal:path`` or a path ending in ``.journal``/``.log``: ``JournalStorage`` on a
      ``JournalFileBackend`` (file locks; several processes on one machine or a shared file
      system).
    * ``memory`` / ``:memory:``: in-memory (one process, nothing persists).

    Any bad URL gives one ValueError saying what is accepted.
    """
    url = normalize_storage(url)
    accepted = "use sqlite:///file.db, postgresql://user:password@host/db, or journal:path"
    if url in ("memory", ":memory:", "inmemory"):
        return optuna.storages.InMemoryStorage()
    jpath = _journal_path(url)
    if jpath is not None:
        if not jpath:
            raise ValueError(f"storage {url!r} names no file; {accepted}")
        folder = os.path.dirname(os.path.abspath(jpath))
        if not os.path.isdir(folder):
            raise ValueError(f"storage {url!r}: folder {folder} does not exist")
        from optuna.storages.journal import JournalFileBackend
        return optuna.storages.JournalStorage(JournalFileBackend(jpath))
    if "://" not in url:
        raise ValueError(f"cannot read storage {url!r}; {accepted}")
    scheme = url.split("://", 1)[0].split("+", 1)[0].lower()
    if scheme not in ("sqlite", "postgresql", "postgres", "mysql", "mariadb", "oracle", "mssql"):
        raise ValueError(f"unsupported storage scheme {scheme!r} in {url!r}; {accepted}")
    if scheme == "postgres":
        url = "postgresql" + url[len("postgres"):]
    engine_kwargs: dict[str, Any] = {}
    path = _sqlite_path(url)
    if scheme == "sqlite":
        if path is None:
            raise ValueError(f"storage {url!r}: give a file (sqlite:///file.db) or use memory")
        folder = os.path.dirname(os.path.abspath(path))
        if not os.path.isdir(folder):
            raise ValueError(f"storage {url!r}: folder {folder} does not exist")
        engine_kwargs["connect_args"] = {"timeout": 60}
    else:
        engine_kwargs["pool_pre_ping"] = True
    kw: dict[str, Any] = {}
    if heartbeat:
        kw = dict(heartbeat_interval=int(heartbeat), grace_period=int(grace or 4 * heartbeat),
                  heartbeat_stale_trial_callback=_retry_callback(retry))
    try:
        with _creation_lock(path), _quiet():
            return optuna.storages.RDBStorage(url, engine_kwargs=engine_kwargs, **kw)
    except ImportError as e:
        raise ValueError(f"storage {url!r} needs a database driver that is not installed "
                         f"({e.name or e}); e.g. pip install psycopg2-binary") from None
    except Exception as e:  # sqlalchemy's errors: one line, with what to do
        msg = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise ValueError(f"cannot open storage {url!r}: {msg}; {accepted}") from None


class _creation_lock:
    """An exclusive file lock next to a SQLite file while the schema/study is created (several
    processes on one NEW SQLite file otherwise race on ``alembic_version``)."""

    def __init__(self, path: str | None):
        self.path = None if path is None else f"{path}.lock"
        self.fh = None

    def __enter__(self):
        if self.path is not None:
            try:
                import fcntl
                self.fh = open(self.path, "a")
                fcntl.flock(self.fh, fcntl.LOCK_EX)
            except (ImportError, OSError):
                self.fh = None
        return self

    def __exit__(self, *exc):
        if self.fh is not None:
            import fcntl
            fcntl.flock(self.fh, fcntl.LOCK_UN)
            self.fh.close()
        return False


def _retry_callback(max_retry: int | None):
    """Re-enqueue a dead worker's trial with the same parameters (Optuna's
    RetryHeartbeatStaleTrialCallback conventions: system attrs ``failed_trial``,
    ``retry_history``), without the dead worker's user attributes."""

    def retry(study: optuna.Study, trial: FrozenTrial) -> None:
        history = list(trial.system_attrs.get("retry_history", [])) + [trial.number]
        if max_retry is not None and len(history) > max_retry:
            return
        for t in study.get_trials(deepcopy=False, states=(TrialState.WAITING, TrialState.RUNNING,
                                                          TrialState.COMPLETE, TrialState.PRUNED)):
            if trial.number in t.system_attrs.get("retry_history", []):
                return  # someone retried it already
        system_attrs = {k: v for k, v in trial.system_attrs.items()
                        if not k.startswith("constraints")}
        system_attrs.update(failed_trial=history[0], retry_history=history)
        study.add_trial(optuna.trial.create_trial(
            state=TrialState.WAITING, params=trial.params, distributions=trial.distributions,
            user_attrs={"retry_of": trial.number}, system_attrs=system_attrs))

    return retry


def _with_lock(storage: optuna.storages.BaseStorage):
    url = getattr(storage, "url", None)
    return _creation_lock(_sqlite_path(url) if isinstance(url, str) else None)


def default_study_name(space: DesignSpace, budget: Budget | Any = None) -> str:
    """e.g. ``regnetx-28px-flops-5.0M-20.0M`` (the space, its resolution and the budget)."""
    budget = _as_budget(budget)
    parts = [space.name, f"{space.resolution}px"]
    for name, (lo, hi) in budget.items():
        parts.append(f"{name}-{fmt_amount(lo) if lo is not None else '0'}-"
                     f"{fmt_amount(hi) if hi is not None else 'inf'}")
    return "-".join(parts)


def study_meta(space: DesignSpace, budget: Budget | Any, sampler: str, seed: int | None,
               data: Any = None, settings: Any = None) -> dict:
    """The sweep metadata stored as the study user attribute ``regnet_space``."""
    budget = _as_budget(budget)
    return _jsonable({
        "space": space.name, "resolution": space.resolution, "in_channels": space.in_channels,
        "num_classes": space.num_classes, "block": space.block, "stem": space.stem,
        "budget": budget.to_dict(), "sampler": sampler, "seed": seed, "data": data,
        "settings": settings, "direction": "minimize", "objective": "test top-1 error (fraction)",
        "infeasible_value": INFEASIBLE_VALUE,
    })


def _meta_diff(stored: Mapping[str, Any], asked: Mapping[str, Any]) -> list[str]:
    out = []
    for k in CHECKED_KEYS:
        a, b = _jsonable(stored.get(k)), _jsonable(asked.get(k))
        if a == b:
            continue
        if isinstance(a, dict) and isinstance(b, dict):
            out += [f"{k}.{kk}: stored {a.get(kk)!r}, asked {b.get(kk)!r}"
                    for kk in sorted(set(a) | set(b)) if a.get(kk) != b.get(kk)]
        else:
            out.append(f"{k}: stored {a!r}, asked {b!r}")
    return out


def study_names(storage: optuna.storages.BaseStorage) -> list[str]:
    return [s.study_name for s in optuna.get_all_study_summaries(storage, include_best_trial=False)]


def open_study(storage: optuna.storages.BaseStorage, name: str, meta: Mapping[str, Any] | None,
               sampler: BaseSampler | None = None, *, pruner: Any = None,
               create: bool = True) -> optuna.Study:
    """Create the study (under a file lock for SQLite) or load it and check its metadata.

    A study whose stored metadata differs from ``meta`` in any of :data:`CHECKED_KEYS` raises
    :class:`StudyMismatchError` naming the differences; the study is left untouched. With
    ``create=False`` an unknown study raises KeyError listing the studies in the storage.
    """
    with _with_lock(storage):
        names = study_names(storage)
        if name not in names:
            if not create:
                listing = ", ".join(names) if names else "none"
                raise KeyError(f"no study {name!r} in this storage; studies: {listing}")
            study = optuna.create_study(storage=storage, study_name=name, sampler=sampler,
                                        pruner=pruner, direction="minimize")
            if meta is not None:
                study.set_user_attr(META_KEY, dict(meta))
            return study
    study = optuna.load_study(study_name=name, storage=storage, sampler=sampler, pruner=pruner)
    if meta is not None:
        stored = study.user_attrs.get(META_KEY)
        if stored is None:
            if study.trials:
                raise StudyMismatchError(f"study {name!r} exists but was not created by "
                                         f"regnet-space sweep; choose another --study name")
            study.set_user_attr(META_KEY, dict(meta))
        else:
            diff = _meta_diff(stored, meta)
            if diff:
                raise StudyMismatchError(
                    f"study {name!r} was created with other settings ({'; '.join(diff)}); "
                    f"rerun with the stored settings or choose another --study name")
    return study


# ------------------------------------------------------------------------------ workers
def _proc_start(pid: int) -> str | None:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


def worker_id() -> str:
    """``host:pid:start``: identifies this process (start time guards against pid reuse)."""
    pid = os.getpid()
    return f"{socket.gethostname()}:{pid}:{_proc_start(pid) or ''}"


def _worker_dead(wid: str) -> bool:
    """True when ``wid`` is a process of this host that is gone (other hosts: unknown, False)."""
    try:
        host, pid_s, start = wid.rsplit(":", 2)
        pid = int(pid_s)
    except ValueError:
        return False
    if host != socket.gethostname():
        return False
    if start:
        now = _proc_start(pid)
        return now is None or now != start
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def _is_rdb_heartbeat(storage) -> bool:
    from optuna.storages._heartbeat import is_heartbeat_enabled
    return is_heartbeat_enabled(storage)


def recover_dead_trials(study: optuna.Study, *, grace: float = 120.0, retry: int | None = 3) -> int:
    """Fail and re-enqueue RUNNING trials whose worker is dead; returns how many.

    A worker of this host is dead when its process is gone (immediate, any storage). Other
    hosts' workers: RDB storages use Optuna's heartbeat (:func:`optuna.storages.fail_stale_trials`);
    journal storages use the ``heartbeat`` user attribute the sweep's workers refresh, stale after
    ``grace`` seconds.
    """
    storage = study._storage
    if _is_rdb_heartbeat(storage):
        with _quiet():
            optuna.storages.fail_stale_trials(study)
    journal = isinstance(storage, optuna.storages.JournalStorage)
    now = time.time()
    recovered = 0
    for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        wid = t.user_attrs.get("worker")
        if wid and wid == worker_id():
            continue
        dead = bool(wid) and _worker_dead(wid)
        if not dead and journal:
            beat = t.user_attrs.get("heartbeat")
            if beat is None and t.datetime_start is not None:
                beat = t.datetime_start.timestamp()
            dead = beat is not None and now - float(beat) > grace
        if not dead:
            continue
        try:
            if not storage.set_trial_state_values(t._trial_id, TrialState.FAIL):
                continue
        except (optuna.exceptions.UpdateFinishedTrialError, RuntimeError):
            continue
        except Exception:  # a concurrent writer (e.g. SQLite busy): look again next time
            continue
        _retry_callback(retry)(study, storage.get_trial(t._trial_id))
        recovered += 1
    return recovered


class _Heartbeat:
    """Refresh the trial's ``heartbeat`` user attribute (journal storages, which have no native
    heartbeat)."""

    def __init__(self, trial: optuna.trial.Trial, interval: float):
        self.trial, self.interval = trial, interval
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self.stop.wait(self.interval):
            try:
                self.trial.set_user_attr("heartbeat", time.time())
            except Exception:
                return

    def __enter__(self):
        self.trial.set_user_attr("heartbeat", time.time())
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        return False


FINISHED = (TrialState.COMPLETE, TrialState.PRUNED)


def study_summary(study: optuna.Study) -> dict:
    """Counts by outcome: finished (COMPLETE + PRUNED), ok, infeasible, pruned, failed
    (evaluation errors), running, waiting, dead (worker died; retried), surplus, best error."""
    counts = dict(finished=0, ok=0, infeasible=0, pruned=0, failed=0, running=0, waiting=0,
                  dead=0, surplus=0)
    best = None
    for t in study.get_trials(deepcopy=False):
        status = t.user_attrs.get("status")
        if t.state in FINISHED:
            counts["finished"] += 1
            if t.state == TrialState.PRUNED:
                counts["pruned"] += 1
            elif status == "infeasible":
                counts["infeasible"] += 1
            else:
                counts["ok"] += 1
                if t.value is not None and (best is None or t.value < best):
                    best = t.value
        elif t.state == TrialState.RUNNING:
            counts["running"] += 1
        elif t.state == TrialState.WAITING:
            counts["waiting"] += 1
        elif status == "failed":
            counts["failed"] += 1
        elif status == "surplus":
            counts["surplus"] += 1
        else:
            counts["dead"] += 1
    counts["best_error"] = best
    return counts


def run_worker(study: optuna.Study, fn: Callable[[optuna.trial.Trial], float], n: int, *,
               progress: bool = True, poll: float = 1.0, grace: float = 120.0,
               max_failures: int = 20, heartbeat: float = 30.0, retry: int | None = 3,
               on_trial: Callable[[FrozenTrial], None] | None = None) -> dict:
    """Run trials until the study holds ``n`` finished (COMPLETE + PRUNED) trials.

    ``n`` is the study total, not per process: any number of workers (processes, machines) can
    run this on one storage. Exactly ``n`` trials finish: a worker that starts a trial when the
    earlier non-failed trials (finished, running or waiting) already number ``n`` marks it FAIL
    with ``status = "surplus"`` before any training. Dead workers' trials are failed and retried
    with the same parameters (see :func:`recover_dead_trials`); while only other workers' trials
    are missing this worker waits, so it can take over a retry. Evaluation failures (``status =
    "failed"``) do not count toward ``n``; after ``max_failures`` of them in this process the
    worker stops. Returns :func:`study_summary`.
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n must be a positive integer, got {n!r}")
    me = worker_id()
    journal = isinstance(study._storage, optuna.storages.JournalStorage)

    def wrapped(trial: optuna.trial.Trial) -> float:
        trial.set_user_attr("worker", me)
        trial.set_user_attr("status", "running")
        earlier = sum(1 for t in study.get_trials(deepcopy=False)
                      if t.number < trial.number and t.state in FINISHED + (TrialState.RUNNING,
                                                                             TrialState.WAITING))
        if earlier >= n:
            trial.set_user_attr("status", "surplus")
            return float("nan")
        if journal:
            with _Heartbeat(trial, heartbeat):
                return fn(trial)
        return fn(trial)

    bar = None
    if progress:
        from tqdm.auto import tqdm
        bar = tqdm(total=int(n), desc=study.study_name, unit="trial", dynamic_ncols=True)
    failures, last_message = 0, None
    log_level = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    try:
        while True:
            recover_dead_trials(study, grace=grace, retry=retry)
            s = study_summary(study)
            if bar is not None:
                bar.n = min(s["finished"], n)
                best = "-" if s["best_error"] is None else f"{s['best_error']:.4f}"
                bar.set_postfix_str(f"best={best} infeasible={s['infeasible']} "
                                    f"failed={s['failed']} running={s['running']}", refresh=False)
                bar.refresh()
            if s["finished"] >= n:
                return s
            if s["finished"] + s["running"] >= n:
                time.sleep(poll)  # others are finishing the last trials; take over if they die
                continue
            if failures >= max_failures:
                raise TooManyFailures(f"{failures} evaluations failed in this worker (last: "
                                      f"{last_message}); stopped. See the failed trials' "
                                      f"'message' user attribute")
            study.optimize(wrapped, n_trials=1, catch=(Exception,), gc_after_trial=False,
                           show_progress_bar=False)
            last = [t for t in study.get_trials(deepcopy=False)
                    if t.user_attrs.get("worker") == me]
            if last:
                t = max(last, key=lambda t: t.number)
                if t.user_attrs.get("status") == "failed" or (
                        t.state == TrialState.FAIL and t.user_attrs.get("status") == "running"):
                    failures += 1
                    last_message = t.user_attrs.get("message")
                    if bar is not None:
                        bar.write(f"trial {t.number} failed: {t.user_attrs.get('message', '?')}")
                if on_trial is not None:
                    on_trial(t)
    finally:
        optuna.logging.set_verbosity(log_level)
        if bar is not None:
            bar.close()


# ------------------------------------------------------------------------------ export
def export_population(study: optuna.Study, space: DesignSpace | None = None):
    """The study as a population table (see :mod:`regnet_space.table`): one row per trial that
    counts (COMPLETE, PRUNED, and evaluation failures); retried dead-worker trials and surplus
    trials are left out, since their configuration appears in another row or was never evaluated.

    Columns: ``space, config, flops, params, acts, error`` (test top-1 error as a fraction, NaN
    unless ``status == "ok"``), ``status`` (ok / infeasible / pruned / failed), one column per
    sampled parameter (effective values), then ``feasible``, ``trial``, ``sampler``, ``study``,
    ``seed``, ``epochs``, ``dataset``, ``time_s``, ``train_time_s``, ``value`` (the Optuna
    objective), ``datetime``, ``worker``, ``message``.
    """
    import pandas as pd

    meta = study.user_attrs.get(META_KEY, {}) or {}
    if space is None and meta.get("space"):
        space = get_space(meta["space"], resolution=meta.get("resolution"),
                          in_channels=meta.get("in_channels"), num_classes=meta.get("num_classes"),
                          stem=meta.get("stem"), block=meta.get("block"))
    settings = meta.get("settings") or {}
    data = meta.get("data") or {}
    rows = []
    for t in study.get_trials(deepcopy=False):
        status = t.user_attrs.get("status")
        if t.state == TrialState.COMPLETE:
            status = "infeasible" if status == "infeasible" else "ok"
        elif t.state == TrialState.PRUNED:
            status = "pruned"
        elif t.state == TrialState.FAIL and status == "failed":
            status = "failed"
        else:
            continue
        values = t.user_attrs.get("values")
        if values is None and space is not None:
            try:
                values = decode_params(space, t.params)
            except ValueError:
                values = {}
        values = values or {}
        config = t.user_attrs.get("config")
        flops, params, acts = (t.user_attrs.get(k) for k in ("flops", "params", "acts"))
        if space is not None and values and (config is None or flops is None):
            try:
                cfg = space.decode(values)
                from .complexity import complexity
                cx = complexity(cfg)
                config = config or cfg.to_json()
                flops, params, acts = cx.flops, cx.params, cx.acts
            except ValueError:
                pass
        err = t.value if (status == "ok" and t.value is not None) else float("nan")
        row = {"space": meta.get("space", getattr(space, "name", "")), "config": config,
               "flops": flops, "params": params, "acts": acts, "error": err,
               "status": status}
        row.update(values)
        row.update({
            "feasible": t.user_attrs.get("feasible", status != "infeasible"),
            "trial": t.number, "sampler": meta.get("sampler"), "study": study.study_name,
            "seed": meta.get("seed"),
            "epochs": settings.get("epochs") if isinstance(settings, Mapping) else None,
            "dataset": data.get("name") if isinstance(data, Mapping) else data,
            "time_s": t.user_attrs.get("time_s"),
            "train_time_s": t.user_attrs.get("train_time_s", t.user_attrs.get("train_time")),
            "value": t.value, "datetime": t.datetime_start.isoformat() if t.datetime_start else None,
            "worker": t.user_attrs.get("worker"), "message": t.user_attrs.get("message"),
        })
        rows.append(row)
    cols = ["space", "config", "flops", "params", "acts", "error", "status"]
    df = pd.DataFrame(rows)
    if df.empty:
        df = pd.DataFrame(columns=cols)
    return df
