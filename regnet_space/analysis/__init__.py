"""The analysis room: the population table, the paper's statistics, figures and the HTML report.

numpy, pandas and matplotlib only (no torch, optuna or nni). Modules: :mod:`.table` (the one
population schema; errors are fractions in [0, 1], anything else is refused on reading),
:mod:`.stats` (EDFs with bootstrap bands, EDF dominance, random-search efficiency, bootstrap of
the best region, e_fit), :mod:`.plots` (matplotlib figures), :mod:`.report` (a self-contained
HTML page).

Example:
    >>> import numpy as np
    >>> edf([0.2, 0.3, 0.4], at=[0.25, 0.5]).tolist()
    [0.3333333333333333, 1.0]
    >>> rng = np.random.default_rng(0)
    >>> edf_dominance(rng.normal(0.30, 0.02, 100), rng.normal(0.35, 0.02, 100),
    ...               repeats=200).dominates
    True
"""

from .confidence import Dominance, EdfBand, edf_band, edf_dominance, pairwise_dominance
from .stats import (bootstrap_best, edf, efficiency_bootstrap, expected_min, load_populations,
                    samples_to_top)
from .table import read_population, write_population

__all__ = ["Dominance", "EdfBand", "bootstrap_best", "edf", "edf_band", "edf_dominance",
           "efficiency_bootstrap", "expected_min", "load_populations", "pairwise_dominance",
           "read_population", "samples_to_top", "write_population"]
