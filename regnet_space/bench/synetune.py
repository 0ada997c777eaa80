"""The search benchmark as a syne-tune blackbox, for syne-tune's simulator and schedulers.

`syne-tune <https://github.com/syne-tune/syne-tune>`_ benchmarks multi-fidelity schedulers (random
search, ASHA, asynchronous Hyperband, BOHB...) on *tabulated* benchmarks: learning curves recorded
once, replayed by a simulator that advances a simulated clock by the recorded training time, so a
study of hours runs in seconds. This module exports a trained population in that form.

* :func:`blackbox_from_arrays` builds a ``BlackboxTabular`` from one row of design-space
  parameters per architecture and its per-epoch, per-seed validation error and epoch time. The
  fidelity is ``epoch`` (1..n_epochs); the objectives are ``val_error``, ``elapsed_time`` (the
  *cumulative* training time up to the end of that epoch: what syne-tune's simulated backends
  expect under ``elapsed_time_attr``: the time since the trial started) and any per-architecture
  cost columns (flops, params...), constant over epochs and seeds.
* :func:`simulate` runs syne-tune's ``Tuner`` with its simulator backend
  (``UserBlackboxBackend`` + ``SimulatorCallback``) on such a blackbox and returns syne-tune's
  results dataframe (one row per reported epoch; ``st_tuner_time`` is the simulated time).

Configurations outside the table: a scheduler samples the configuration space (the ``domains``
the caller gave), so it proposes architectures nobody trained, and ``BlackboxTabular`` refuses
those. :func:`simulate` therefore wraps a tabular blackbox the way syne-tune does for its own
tabulated benchmarks with continuous spaces (``BlackboxRepositoryBackend(surrogate=
"KNeighborsRegressor")``): ``add_surrogate`` with a nearest-neighbour regressor that predicts
whole curves (``predict_curves=True``); :func:`nearest_architecture` does that wrapping. Every
proposal is answered with the learning curve of the nearest trained architecture (parameters
standardised, categorical ones one-hot; a log-scale domain is still compared on its raw values),
averaged over its seeds (``n_neighbors`` = number of seeds, all at distance 0 of each other), so
a table configuration gets its own seed-mean curve and its own cumulative times, exactly. (The
mean of cumulative times is the cumulative mean time, so ``add_surrogate(fit_differences=...)``
adds nothing here; in syne-tune 0.16.0 it also fails on pandas 3's read-only arrays.) With
``surrogate=False`` the table is queried directly (each trial draws one of the seeds); then every
configuration the scheduler can propose must be a row, e.g. a single ``choice`` domain over an
architecture index.

Needs ``pip install 'regnet-space[synetune]'`` (syne-tune 0.16.0; imported only when called).

Example:
    >>> import numpy as np, pandas as pd
    >>> from syne_tune.config_space import randint
    >>> hp = pd.DataFrame({"d": [4, 8, 12, 16]})
    >>> err = np.array([[[0.5, 0.4, 0.35]], [[0.45, 0.3, 0.25]],
    ...                 [[0.42, 0.28, 0.2]], [[0.4, 0.27, 0.22]]])    # (4 archs, 1 seed, 3 epochs)
    >>> secs = np.broadcast_to(hp["d"].to_numpy(float)[:, None, None], err.shape)  # 1 s per block
    >>> bb = blackbox_from_arrays(hp, err, secs, domains={"d": randint(4, 16)})
    >>> bb.objectives_names, bb.fidelity_values.tolist()
    (['val_error', 'elapsed_time'], [1, 2, 3])
    >>> r = bb.objective_function({"d": 8}, fidelity=3, seed=0)
    >>> round(float(r["val_error"]), 2), float(r["elapsed_time"])       # 3 epochs of 8 s
    (0.25, 24.0)
    >>> res = simulate(bb, "asha", max_wallclock_time=200, seed=0)
    >>> float(res["val_error"].min()) in set(err.ravel().tolist())
    True
    >>> float(res["st_tuner_time"].max()) > 100        # simulated seconds, not the wall clock
    True
"""

from __future__ import annotations

import contextlib
import io
import logging
import math
import os
import tempfile
import warnings
from typing import Any, Mapping

import numpy as np
import pandas as pd

from ..errors import ConfigError, require

#: The fidelity and the two learning-curve objectives of every blackbox built here.
FIDELITY, ERROR, TIME = "epoch", "val_error", "elapsed_time"
#: What ``simulate(scheduler=...)`` accepts (or a syne-tune scheduler object).
SCHEDULERS = ("random", "asha", "hyperband", "bohb")


def _syne_tune():
    return require("syne_tune", pip="'regnet-space[synetune]'", purpose="the syne-tune blackbox")


def blackbox_from_arrays(hyperparameters: pd.DataFrame, val_error: np.ndarray,
                         epoch_time: np.ndarray, *, domains: Mapping[str, Any],
                         cost: pd.DataFrame | None = None):
    """A syne-tune ``BlackboxTabular`` of a trained population (see the module docstring).

    ``hyperparameters``: one row per architecture, one column per design-space parameter;
    ``val_error`` and ``epoch_time``: arrays of shape (n_arch, n_seeds, n_epochs), the validation
    error (fraction) after each epoch and the seconds that epoch took (no NaN: fill missing seeds
    first); ``domains``: parameter name -> syne-tune domain (``syne_tune.config_space.randint``,
    ``uniform``, ``loguniform``, ``choice``...), the configuration space; ``cost``: optional
    per-architecture columns (flops, params...) kept as constant objectives.
    """
    _syne_tune()
    from syne_tune.blackbox_repository.blackbox_tabular import BlackboxTabular
    from syne_tune.config_space import Domain, randint

    if not isinstance(hyperparameters, pd.DataFrame) or hyperparameters.empty:
        raise ConfigError("hyperparameters must be a non-empty DataFrame (one row per "
                          "architecture)")
    hp = hyperparameters.reset_index(drop=True)
    err = np.asarray(val_error, dtype=float)
    secs = np.asarray(epoch_time, dtype=float)
    if err.ndim != 3 or err.shape[0] != len(hp) or err.shape[1] < 1 or err.shape[2] < 1:
        raise ConfigError(f"val_error must have shape (n_arch={len(hp)}, n_seeds, n_epochs), "
                          f"got {err.shape}")
    if secs.shape != err.shape:
        raise ConfigError(f"epoch_time must have val_error's shape {err.shape}, got {secs.shape}")
    if not (np.isfinite(err).all() and np.isfinite(secs).all()):
        raise ConfigError("val_error and epoch_time must be finite (fill missing seeds first)")
    if (secs < 0).any():
        raise ConfigError("epoch_time must be >= 0 seconds")
    if set(domains) != set(hp.columns):
        raise ConfigError(f"domains must name exactly the hyperparameters' columns "
                          f"{list(hp.columns)}, got {list(domains)}")
    if not all(isinstance(d, Domain) for d in domains.values()):
        raise ConfigError("every domain must be a syne-tune domain (syne_tune.config_space)")
    if hp.duplicated().any():
        raise ConfigError(f"{int(hp.duplicated().sum())} architectures are duplicated: one row "
                          "per architecture (put repeated trainings in the seed axis)")
    columns = [err, np.cumsum(secs, axis=2)]
    names = [ERROR, TIME]
    if cost is not None:
        cost = pd.DataFrame(cost).reset_index(drop=True)
        if len(cost) != len(hp):
            raise ConfigError(f"cost must have one row per architecture ({len(hp)}), "
                              f"got {len(cost)}")
        if clash := {ERROR, TIME, FIDELITY} & {str(c) for c in cost.columns}:
            raise ConfigError(f"cost columns must not be named {sorted(clash)}")
        for c in cost.columns:
            v = cost[c].to_numpy(dtype=float)
            if not np.isfinite(v).all():
                raise ConfigError(f"cost column {c!r} must be finite")
            columns.append(np.broadcast_to(v[:, None, None], err.shape))
            names.append(str(c))
    n_epochs = err.shape[2]
    with warnings.catch_warnings():  # syne-tune 0.16.0's set_index(inplace=True), on pandas 3
        warnings.filterwarnings("ignore", message="The inplace keyword")
        blackbox = BlackboxTabular(
            hyperparameters=hp, configuration_space=dict(domains),
            fidelity_space={FIDELITY: randint(1, n_epochs)},
            objectives_evaluations=np.stack(columns, axis=-1),
            fidelity_values=np.arange(1, n_epochs + 1), objectives_names=names)
    if hp.shape[1] == 1:  # syne-tune looks a row up by a tuple: needs a MultiIndex, even of one
        index = blackbox.hyperparameters_index
        index.index = pd.MultiIndex.from_arrays([index.index], names=list(hp.columns))
    return blackbox


def nearest_architecture(blackbox):
    """``blackbox`` (a ``BlackboxTabular``) answering any configuration of its space with the
    seed-mean learning curve of the nearest trained architecture (syne-tune's ``add_surrogate``
    with ``KNeighborsRegressor``; see the module docstring)."""
    _syne_tune()
    from sklearn.neighbors import KNeighborsRegressor
    from syne_tune.blackbox_repository import add_surrogate

    return add_surrogate(blackbox, surrogate=KNeighborsRegressor(n_neighbors=blackbox.num_seeds),
                         predict_curves=True)


def _scheduler(name: str, config_space: dict, max_t: int, seed: int):
    from syne_tune.optimizer.baselines import ASHA, BOHB, RandomSearch

    common = dict(config_space=config_space, random_seed=seed)
    if name == "random":
        return RandomSearch(metrics=[ERROR], do_minimize=True, **common)
    rungs = 1 + int(math.floor(math.log(max_t) / math.log(3) + 1e-9))  # 1, 3, 9... <= max_t
    kw = dict(metric=ERROR, do_minimize=True, time_attr=FIDELITY, max_t=max_t, grace_period=1,
              reduction_factor=3, **common)
    if name == "asha":
        return ASHA(**kw)
    if name == "hyperband":
        return ASHA(brackets=rungs, **kw)
    return BOHB(brackets=rungs, **kw)


@contextlib.contextmanager
def _quiet_logger(name: str):
    """Only errors from logger ``name`` for the duration."""
    logger = logging.getLogger(name)
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


@contextlib.contextmanager
def _synetune_folder(folder: str | os.PathLike | None):
    """syne-tune writes its files under ``$SYNETUNE_FOLDER`` (default ``~/syne-tune``): point it to
    ``folder`` (a temporary one, removed afterwards, when None) for the duration."""
    with contextlib.ExitStack() as stack:
        path = os.fspath(folder) if folder is not None else stack.enter_context(
            tempfile.TemporaryDirectory(prefix="regnet-space-synetune-"))
        old = os.environ.get("SYNETUNE_FOLDER")
        os.environ["SYNETUNE_FOLDER"] = path
        try:
            yield path
        finally:
            if old is None:
                os.environ.pop("SYNETUNE_FOLDER", None)
            else:
                os.environ["SYNETUNE_FOLDER"] = old


def simulate(blackbox, scheduler: Any = "asha", *, n_workers: int = 2,
             max_wallclock_time: float | None = None, seed: int = 0,
             max_num_evaluations: int | None = None, surrogate: bool = True,
             folder: str | os.PathLike | None = None, verbose: bool = False) -> pd.DataFrame:
    """Run a syne-tune scheduler on ``blackbox`` with the simulator backend; its results.

    ``scheduler``: one of :data:`SCHEDULERS` (``random``: random search; ``asha``: asynchronous
    successive halving, stopping trials at epochs 1, 3, 9...; ``hyperband``: asynchronous
    Hyperband, ASHA over all brackets; ``bohb``: that with BOHB's kernel-density searcher), or a
    syne-tune scheduler object. ``max_wallclock_time``: the budget in *simulated* seconds,
    ``max_num_evaluations``: in reported epochs (at least one of the two). ``surrogate``: answer
    configurations outside the table with the nearest architecture (default) or query the table
    directly. ``folder``: where syne-tune writes its files (default: a temporary folder, removed
    afterwards). Returns syne-tune's results dataframe: one row per reported epoch with
    ``trial_id``, ``epoch``, ``val_error``, ``elapsed_time`` (since the trial started), the costs,
    ``config_<param>`` and ``st_tuner_time`` (simulated seconds since the study started; the
    simulator also adds the little real time the scheduler itself takes). Seeded: the same
    arguments give the same trials.
    """
    _syne_tune()
    from syne_tune import StoppingCriterion, Tuner
    from syne_tune.backend.simulator_backend.simulator_callback import SimulatorCallback
    from syne_tune.blackbox_repository import UserBlackboxBackend
    from syne_tune.blackbox_repository.blackbox_tabular import BlackboxTabular

    if max_wallclock_time is None and max_num_evaluations is None:
        raise ConfigError("give a budget: max_wallclock_time (simulated seconds) and/or "
                          "max_num_evaluations (reported epochs)")
    if int(n_workers) < 1:
        raise ConfigError(f"n_workers must be >= 1, got {n_workers}")
    if surrogate and isinstance(blackbox, BlackboxTabular):
        blackbox = nearest_architecture(blackbox)
    if isinstance(scheduler, str) and scheduler not in SCHEDULERS:
        raise ConfigError(f"scheduler must be one of {', '.join(SCHEDULERS)}, got {scheduler!r}")
    name = scheduler if isinstance(scheduler, str) else type(scheduler).__name__.lower()
    stop = StoppingCriterion(max_wallclock_time=max_wallclock_time,
                             max_num_evaluations=max_num_evaluations)
    callback = SimulatorCallback()
    # syne-tune draws per-trial seeds of a tabular blackbox from numpy's global generator: seed
    # it for the run, then give the caller's state back
    state = np.random.get_state()
    np.random.seed(int(seed) % 2**32)
    try:
        with _synetune_folder(folder), contextlib.ExitStack() as quiet:
            if not verbose:  # the tuner prints its progress, and ASHA warns about a default
                quiet.enter_context(contextlib.redirect_stdout(io.StringIO()))
                quiet.enter_context(_quiet_logger("syne_tune"))
            if isinstance(scheduler, str):
                scheduler = _scheduler(scheduler, dict(blackbox.configuration_space),
                                       int(max(blackbox.fidelity_values)), int(seed))
            backend = UserBlackboxBackend(blackbox=blackbox, elapsed_time_attr=TIME)
            tuner = Tuner(trial_backend=backend, scheduler=scheduler, stop_criterion=stop,
                          n_workers=int(n_workers), sleep_time=0, callbacks=[callback],
                          tuner_name=f"regnet-space-{name}", save_tuner=False,
                          print_update_interval=3600.0)
            tuner.run()
    finally:
        np.random.set_state(state)
    return callback.dataframe()


__all__ = ["ERROR", "FIDELITY", "SCHEDULERS", "TIME", "blackbox_from_arrays",
           "nearest_architecture", "simulate"]


def blackbox(table: Any, space: Any = None, **kwargs):
    """The benchmark on a population table as a syne-tune ``BlackboxTabular``: one entry per
    architecture of the table, its recorded seeds (an architecture with fewer seeds than the
    most repeated one repeats its own), its per-epoch validation curve (the table's curves, or
    the oracle's curve model) and the oracle's fitted cost per epoch; the configuration space
    holds the design space's parameters (a ``choice`` of the allowed values where there are at
    most 64, else ``uniform``/``loguniform`` over their range). ``kwargs`` go to
    :meth:`regnet_space.bench.oracle.TabularOracle.from_table` (``curves``, ``curve_model``...).

    Example (needs the ``synetune`` extra):
        >>> from regnet_space.bench.oracle import synthetic_population
        >>> from regnet_space.spaces import get_space
        >>> sp = get_space("regnetx", resolution=28, in_channels=1, num_classes=10)
        >>> bb = blackbox(synthetic_population(sp, 20, seed=0, flops="2M:5M"))
        >>> len(bb.hyperparameters), bb.fidelity_values.tolist()
        (20, [1])
    """
    _syne_tune()
    from syne_tune.config_space import choice, loguniform, uniform

    from .oracle import TabularOracle

    oracle = TabularOracle.from_table(table, space, **kwargs)
    groups = list(oracle._arch_rows.values())
    S, E = int(max(len(g) for g in groups)), oracle.epochs
    err = np.empty((len(groups), S, E))
    secs = np.empty((len(groups), S, E))
    first = np.array([g[0] for g in groups])
    per_epoch = oracle.cost_model.epoch_seconds(oracle.row_flops[first],
                                                oracle.row_acts[first])
    for a, g in enumerate(groups):
        for s in range(S):
            r = g[s % len(g)]  # a missing seed repeats a recorded one (documented)
            err[a, s] = (oracle.curves[r] if oracle.curves is not None
                         else oracle.curve_model.curve(oracle.errors[r]))
            secs[a, s] = per_epoch[a]
    hp = pd.DataFrame({n: oracle._values[n][first] for n in oracle.space.names})
    domains = {}
    for p in oracle.space.params:
        allowed = p.values()
        if len(allowed) <= 64:
            domains[p.name] = choice([v.item() if hasattr(v, "item") else v for v in allowed])
        else:
            lo, hi = float(allowed.min()), float(allowed.max())
            domains[p.name] = loguniform(lo, hi) if p.log else uniform(lo, hi)
    cost = pd.DataFrame({"flops": oracle.row_flops[first],
                         "params": oracle.row_params[first]})
    return blackbox_from_arrays(hp, err, secs, domains=domains, cost=cost)
