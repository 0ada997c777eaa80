"""The NNI face of regnet-space: search space, experiment config, trial, tuner, NAS, export.

Every name below is defined in :mod:`regnet_space.search.nni` and imported from there on first
use; importing this module does not import nni.

* Search space: :func:`search_space` (NNI's search-space JSON of an encoding, ``feasible`` by
  default: every point decodes to a network inside the budget), :func:`decode_parameters` (what a
  tuner sends -> the space's exact values), :data:`INFEASIBLE_ERROR`.
* Config and experiment: :class:`ExperimentSpec`, :func:`experiment_config`,
  :func:`write_experiment` (``search_space.json`` + ``config.yml`` for ``nnictl create``),
  :func:`experiment` (an ``nni.experiment.Experiment`` ready for ``.run(port)``), :data:`TUNERS`,
  :func:`canonical_tuner`.
* Trial: :func:`run_trial` (the packaged trial, ``python -m regnet_space.search.nni.trial``), or
  your own with :func:`decode_parameters` and :func:`regnet_space.evaluator.evaluate`.
* Tuner: :class:`DesignSpaceTuner` (the paper's distribution with exact budget rejection).
* NAS model spaces: :class:`RegNetSpace`, :class:`AnyNetSpace`.
* Export: :func:`export_population` (an experiment's sqlite -> the population table),
  :func:`read_experiment`.

Example:
    >>> from regnet_space import get_space
    >>> from regnet_space.nni_space import decode_parameters, search_space
    >>> space = get_space("regnetx", resolution=28, in_channels=1, num_classes=10)
    >>> ss = search_space(space, "2M:5M")             # what search_space.json holds
    >>> sorted(ss)
    ['b_index', 'd', 'g_log2', 'size', 'slope', 'wm']
    >>> point = {"b_index": 0, "d": 16, "g_log2": 3, "size": 0.5, "slope": 0.5, "wm": 2.5}
    >>> values = decode_parameters(space, point, "2M:5M").values
    >>> space.check(values, "2M:5M").feasible
    True
"""

from ._lazy import lazy_exports

_NNI = "regnet_space.search.nni"
_NAMES = {
    **{n: _NNI for n in (
        "search_space", "decode_parameters", "ExperimentSpec", "experiment_config",
        "write_experiment", "experiment", "TUNERS", "canonical_tuner", "export_population",
        "read_experiment")},
    "INFEASIBLE_ERROR": "regnet_space.search.registry",
    "run_trial": "regnet_space.search.nni.trial:run",
    "DesignSpaceTuner": "regnet_space.search.nni.tuner",
    "RegNetSpace": "regnet_space.search.nni.nas", "AnyNetSpace": "regnet_space.search.nni.nas",
}

__getattr__, __dir__ = lazy_exports(__name__, _NAMES)
__all__ = sorted(_NAMES)
