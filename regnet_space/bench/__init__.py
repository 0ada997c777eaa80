"""The bench room: benchmark search algorithms on a trained population (a tabular oracle).

Modules: :mod:`.oracle` (how a proposal is answered from the table), :mod:`.metrics` (regret,
evaluations to the top, intervals, ranks), :mod:`.runs` (searches, many seeds, the results),
:mod:`.outputs` (figures and CSV files), :mod:`.plugin` (:func:`problem`: the benchmark as an
optunahub problem for ``study.optimize``), :mod:`.truth` (seed-mean truth, noise, curve and cost
models), :mod:`.simulate` (asynchronous workers in simulated time, pruners on curves),
:mod:`.ranks` (average rank, Friedman test, critical-difference diagram), :mod:`.pareto`
(hypervolume), :mod:`.synetune` (the benchmark as a syne-tune blackbox).

Example:
    >>> from regnet_space.spaces import get_space
    >>> space = get_space("regnetx", resolution=32, in_channels=3, num_classes=10)
    >>> oracle = TabularOracle.from_table(synthetic_population(space, 200, seed=0, flops="2M:20M"))
    >>> run_benchmark(oracle, ["random", "design"], seeds=2, budget=8).summary()["algo"].tolist()
    ['random', 'design']
"""

from .metrics import evals_to_threshold, mean_ci, mean_ranks, normalized_regret, top_threshold
from .oracle import KINDS, TabularOracle, normalize_values, space_from_table, synthetic_population
from .outputs import friedman_table, plot_curves, write_outputs
from .pareto import hypervolume_2d, hypervolume_trace, pareto_mask
from .ranks import FriedmanResult, cd_diagram, friedman, ranks_over_time
from .simulate import Trace, simulate_search
from .truth import CostModel, CurveModel, NoiseModel
from .runs import (ALGORITHMS, DEFAULT_ALGORITHMS, BenchResult, make_sampler, parse_algorithms,
                   run_benchmark, run_search, sampler_seed)



def problem(table, space=None, **kwargs):
    """The benchmark on ``table`` as an ``optunahub.benchmarks.BaseProblem`` (see
    :func:`regnet_space.bench.plugin.problem`; optunahub is imported only here)."""
    from .plugin import problem as make

    return make(table, space, **kwargs)


__all__ = ["ALGORITHMS", "BenchResult", "CostModel", "CurveModel", "DEFAULT_ALGORITHMS",
           "FriedmanResult", "KINDS", "NoiseModel", "TabularOracle", "Trace", "cd_diagram",
           "evals_to_threshold", "friedman", "friedman_table", "hypervolume_2d",
           "hypervolume_trace", "make_sampler", "mean_ci", "mean_ranks", "normalize_values",
           "normalized_regret", "pareto_mask", "parse_algorithms", "plot_curves", "problem",
           "ranks_over_time", "run_benchmark", "run_search", "sampler_seed", "simulate_search",
           "space_from_table", "synthetic_population", "top_threshold", "write_outputs"]
