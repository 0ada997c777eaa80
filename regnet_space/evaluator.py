"""The evaluator face of regnet-space: brief training of one network, its data and its recipe.

Every name below is defined in :mod:`regnet_space.training` and imported from there on first use;
importing this module does not import torch.

* :func:`evaluate` (``config, data, settings -> EvalResult``: trains briefly, never raises once
  training started), :class:`EvalResult` (status, error as a fraction, curves, complexity,
  timings, provenance), :data:`STATUSES`, :func:`match_input`, :func:`resolve_device`.
* Data: :func:`load_data` (``fashion-mnist``, ``mnist``, ``cifar10``, image folders,
  ``synthetic``), :func:`dataset_names`, :class:`Data`.
* Recipe: :class:`TrainSettings`, :data:`PRESETS` (``brief``, the default; ``reference``,
  ``paper``, ``section4``, ``smoke``), :func:`preset_data` (the data subset a preset was tuned
  for), :func:`as_settings`.
* Provenance: :class:`Provenance`, :func:`provenance` (package version, git commit, torch,
  recipe, CPU capability, device name of this process).

Example:
    >>> from regnet_space.evaluator import PRESETS, TrainSettings, preset_data
    >>> s = TrainSettings.from_preset("brief")
    >>> s.epochs, s.lr, preset_data("brief")["train_size"], sorted(PRESETS)[0]
    (3, 0.2, 10000, 'brief')

    Training (a few seconds on a CPU; :func:`evaluate` runs it):

    .. code-block:: python

        from regnet_space import get_config
        from regnet_space.evaluator import evaluate, load_data

        data = load_data("fashion-mnist", train_size=2000, test_size=1000)
        result = evaluate(get_config("RegNetX-200MF"), data, epochs=1, adapt=True)
        print(result.summary(), result.git_commit)
"""

from ._lazy import lazy_exports

_T = "regnet_space.training"
_NAMES = {
    **{n: _T for n in ("evaluate", "EvalResult", "STATUSES", "match_input", "resolve_device",
                       "load_data", "dataset_names", "Data", "TrainSettings", "PRESETS",
                       "preset_data", "as_settings")},
    "Provenance": "regnet_space.training.provenance",
    "provenance": "regnet_space.training.provenance:gather",
}

__getattr__, __dir__ = lazy_exports(__name__, _NAMES)
__all__ = sorted(_NAMES)
