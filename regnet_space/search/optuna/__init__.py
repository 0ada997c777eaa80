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
  configuration returns :data:`INFEASIBLE_ERROR` at once and is never trained.
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

from .encoding import decode_params, distributions, encode_values, suggest, suggest_values
from .export import export_curves, export_population
from .objective import apply_budget, objective
from .sampler import DesignSpaceSampler, PerTrialSeeded, enqueue_design_samples, make_sampler
from .storage import (META_KEY, default_study_name, normalize_storage, open_storage, open_study,
                      redact, study_meta, study_names)
from .workers import TooManyFailures, recover_dead_trials, run_worker, study_summary, worker_id
from ..registry import INFEASIBLE_ERROR

__all__ = ["DesignSpaceSampler", "INFEASIBLE_ERROR", "META_KEY", "PerTrialSeeded", "TooManyFailures",
           "apply_budget", "decode_params", "default_study_name", "distributions",
           "encode_values", "enqueue_design_samples", "export_curves", "export_population", "make_sampler",
           "normalize_storage", "objective", "open_storage", "open_study", "recover_dead_trials", "redact",
           "run_worker", "study_meta", "study_names", "study_summary", "suggest", "suggest_values",
           "worker_id"]
