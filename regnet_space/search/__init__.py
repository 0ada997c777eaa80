"""The search room: one registry of search algorithms, and the Optuna and NNI integrations.

* :mod:`.registry`: every search algorithm, which tool provides it, and the penalty an infeasible
  configuration gets (:data:`~.registry.INFEASIBLE_ERROR`).
* :mod:`.optuna`: suggestions, samplers, the sweep objective, storage, workers, export (imports
  optuna).
* :mod:`.nni`: NNI's search-space JSON, ``nnictl`` configs, the trial, tuners, NAS model spaces,
  export (NNI itself is imported only by the tuner, trial and NAS modules).

Example:
    >>> from regnet_space.search import get_searcher
    >>> get_searcher("tpe").constraints
    True
"""

from .registry import INFEASIBLE_ERROR, SEARCHERS, Searcher, get_searcher, searcher_names

__all__ = ["INFEASIBLE_ERROR", "SEARCHERS", "Searcher", "get_searcher", "searcher_names"]
