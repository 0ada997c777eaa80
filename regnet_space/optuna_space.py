"""The Optuna face of regnet-space: what your own objective, sampler, storage and export need.

Every name below is defined in :mod:`regnet_space.search.optuna` (or its registry) and imported
from there on first use; importing this module does not import optuna.

* Suggest: :func:`suggest` (``trial, space, budget -> NetConfig``, inside the budget with the
  default ``feasible`` encoding), :func:`suggest_values`, :func:`distributions`,
  :func:`encode_values`, :func:`decode_params`, :func:`apply_budget` (Optuna constraints),
  :func:`stage_table`, :data:`INFEASIBLE_ERROR`.
* Samplers: :class:`DesignSpaceSampler` (the paper's distribution with exact budget rejection),
  :func:`make_sampler` (any registered one: ``design``, ``tpe``, ``cmaes``...),
  :func:`enqueue_design_samples`.
* The sweep objective: :func:`objective` (suggest, decode, budget, train, record).
* Storage and export: :func:`open_storage`, :func:`open_study`, :func:`study_meta`,
  :func:`study_names`, :func:`default_study_name`, :func:`run_worker`, :func:`study_summary`,
  :func:`export_population` (the population table).

Where the architecture appears in a study: the trial's parameters are the encoding's coordinates
(``d, wm, b_index, g_log2, slope, size`` for RegNet's feasible encoding); the decoded values a
user thinks in are user attributes: ``values`` (a dict), ``arch_<name>`` per parameter
(``arch_w0``, ``arch_wa``, ...), ``stages`` (the stage table in one line) and ``config`` (JSON).

Example (your own objective; replace the lambda's 0.3 by a real training, e.g.
:func:`regnet_space.evaluator.evaluate`):
    >>> import optuna
    >>> from regnet_space import get_space
    >>> from regnet_space.optuna_space import suggest
    >>> space = get_space("regnetx", resolution=28, in_channels=1, num_classes=10)
    >>> def my_objective(trial):
    ...     cfg = suggest(trial, space, "2M:5M")      # a NetConfig inside 2-5 MFLOPs
    ...     return 0.3 + cfg.depth / 1000             # your training here
    >>> study = optuna.create_study(sampler=optuna.samplers.TPESampler(seed=0))
    >>> study.optimize(my_objective, n_trials=3)
    >>> sorted(study.trials[0].params)                # what the sampler models
    ['b_index', 'd', 'g_log2', 'size', 'slope', 'wm']
    >>> sorted(k for k in study.trials[0].user_attrs if k.startswith("arch_"))
    ['arch_b', 'arch_d', 'arch_g', 'arch_w0', 'arch_wa', 'arch_wm']
"""

from ._lazy import lazy_exports

_OPTUNA = "regnet_space.search.optuna"
_NAMES = {
    **{n: _OPTUNA for n in (
        "suggest", "suggest_values", "distributions", "encode_values", "decode_params",
        "apply_budget", "INFEASIBLE_ERROR", "DesignSpaceSampler", "make_sampler",
        "enqueue_design_samples", "objective", "open_storage", "open_study", "study_meta",
        "study_names", "default_study_name", "run_worker", "study_summary", "TooManyFailures",
        "export_population")},
    "stage_table": "regnet_space.search.optuna.encoding",
    "ARCH_PREFIX": "regnet_space.search.optuna.encoding",
}

__getattr__, __dir__ = lazy_exports(__name__, _NAMES)
__all__ = sorted(_NAMES)
