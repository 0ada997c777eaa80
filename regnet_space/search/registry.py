"""The one registry of search algorithms, shared by ``sweep``, ``bench-search`` and ``nni-config``.

Each :class:`Searcher` says which Optuna sampler and/or NNI tuner implements it, whether it reads
Optuna's constraints, which extra packages it needs, and its settings when the number of trials is
known (benchmarks). Adding a search algorithm means adding one entry here (and, for Optuna, nothing
else: :func:`regnet_space.search.optuna.make_sampler` builds any entry).

=========  ==================  =============  ===========  ======================================
name       Optuna              NNI tuner      constraints  notes
=========  ==================  =============  ===========  ======================================
design     DesignSpaceSampler  design         by design    the paper's distribution, exact
                                                           budget rejection (random search as in
                                                           the paper)
random     RandomSampler       Random         no           uniform over the encoding
tpe        TPESampler          TPE            yes
cmaes      CmaEsSampler        -              no (warns)   needs ``cmaes``
gp         GPSampler           -              yes          needs torch + scipy; slow on a CPU
nsga2      NSGAIISampler       -              yes
qmc        QMCSampler          -              no           scrambled Sobol; needs scipy
re         RegularizedEvol...  -              no           aging evolution (Real et al. 2019):
                                                           mutate one coordinate of a tournament
                                                           winner among the last P trials
ls         LocalSearchSampler  -              no           one-coordinate neighbours of the
                                                           walk's best; restarts at a local optimum
hyperband  RandomSampler +     -              no           random sampling, Optuna's
           HyperbandPruner                                 HyperbandPruner on the per-epoch curve
bohb       TPESampler +        -              yes          TPE with the HyperbandPruner (BOHB as
           HyperbandPruner                                 Optuna composes it)
evolution  -                   Evolution      no           NNI's evolution tuner
=========  ==================  =============  ===========  ======================================

``re`` and ``ls`` are :mod:`regnet_space.search.optuna.neighbours`; ``hyperband`` and ``bohb``
prune on the per-epoch validation error (``sweep`` uses their pruner unless ``--pruner`` says
otherwise; :func:`make_pruner`).

Example:
    >>> get_searcher("NSGA-II").name, get_searcher("TPE").nni
    ('nsga2', 'TPE')
    >>> searcher_names("nni")
    ['design', 'random', 'tpe', 'evolution']
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..errors import ConfigError

#: What every searcher is told for a configuration outside the budget or the space's structural
#: constraints (which is never trained), and what an NNI trial reports for a failed training: the
#: worst top-1 error, as a fraction, so that tuners which cannot read constraints steer away.
INFEASIBLE_ERROR = 1.0


@dataclass(frozen=True)
class Searcher:
    """One search algorithm and how each tool provides it."""

    name: str
    description: str
    optuna: str | None = None          # class name in optuna.samplers, or "design" (ours)
    nni: str | None = None             # NNI built-in tuner name, or "design" (ours)
    constraints: bool = False          # reads trial.set_constraint
    needs: tuple[str, ...] = ()        # importable modules it needs beyond optuna
    aliases: tuple[str, ...] = ()
    in_bench: bool = True              # in bench-search's default list
    pruner: str | None = None          # "hyperband": the pruner it is defined with
    #: Optuna keyword arguments when the number of trials ``n`` is known (bench-search).
    budget_kwargs: Any = field(default=None, compare=False)

    def optuna_kwargs(self, n_trials: int | None) -> dict:
        return dict(self.budget_kwargs(n_trials)) if self.budget_kwargs and n_trials else {}


def _startup(n: int) -> dict:
    return {"n_startup_trials": max(1, min(10, n // 4))}


SEARCHERS: dict[str, Searcher] = {s.name: s for s in (
    Searcher("design", "the paper's distribution with exact rejection under the budget",
             optuna="design", nni="design", constraints=True, aliases=("paper",)),
    Searcher("random", "uniform over the encoding's coordinates", optuna="RandomSampler",
             nni="Random"),
    Searcher("tpe", "tree-structured Parzen estimator", optuna="TPESampler", nni="TPE",
             constraints=True, budget_kwargs=_startup),
    Searcher("cmaes", "CMA-ES (ignores constraints)", optuna="CmaEsSampler", needs=("cmaes",),
             aliases=("cma", "cma-es"), budget_kwargs=_startup),
    Searcher("gp", "Gaussian-process Bayesian optimisation", optuna="GPSampler",
             constraints=True, needs=("torch", "scipy"), in_bench=False, budget_kwargs=_startup),
    Searcher("nsga2", "NSGA-II evolution", optuna="NSGAIISampler", constraints=True,
             aliases=("nsgaii", "nsga-ii"),
             budget_kwargs=lambda n: {"population_size": int(min(max(n // 4, 4), 50))}),
    Searcher("qmc", "scrambled Sobol sequence", optuna="QMCSampler", needs=("scipy",),
             aliases=("sobol",)),
    Searcher("re", "regularized (aging) evolution: one-coordinate mutations of tournament "
             "winners among the last P trials", optuna="RegularizedEvolutionSampler",
             aliases=("regularized-evolution", "aging-evolution", "rea"),
             budget_kwargs=lambda n: {"population_size": int(min(max(n // 4, 4), 100)),
                                      "sample_size": int(min(max(n // 16, 2), 25))}),
    Searcher("ls", "local search over one-coordinate neighbours, restarting at a local optimum",
             optuna="LocalSearchSampler", aliases=("local-search",)),
    Searcher("hyperband", "random sampling with Optuna's Hyperband pruner on the per-epoch "
             "curve", optuna="RandomSampler", pruner="hyperband", in_bench=False),
    Searcher("bohb", "TPE with Optuna's Hyperband pruner (BOHB)", optuna="TPESampler",
             constraints=True, pruner="hyperband", in_bench=False, budget_kwargs=_startup),
    Searcher("evolution", "NNI's evolution tuner", nni="Evolution", in_bench=False),
)}

#: Our own Optuna samplers, by the name a Searcher gives (imported when made).
OWN_SAMPLERS = {"RegularizedEvolutionSampler": "regnet_space.search.optuna.neighbours",
                "LocalSearchSampler": "regnet_space.search.optuna.neighbours"}


def make_pruner(name: str | None, *, min_resource: int = 1, max_resource: Any = "auto"):
    """The Optuna pruner a searcher is defined with (``NopPruner`` for those without one).

    Example:
        >>> type(make_pruner("bohb")).__name__, type(make_pruner("tpe")).__name__
        ('HyperbandPruner', 'NopPruner')
    """
    import optuna

    s = get_searcher(name) if name else None
    if s is None or s.pruner is None:
        return optuna.pruners.NopPruner()
    return optuna.pruners.HyperbandPruner(min_resource=min_resource, max_resource=max_resource)


def _key(name: str) -> str:
    return str(name).strip().lower().replace("_", "-")


def get_searcher(name: str, tool: str | None = None) -> Searcher:
    """A searcher by name or alias (case-insensitive); ``tool`` (``optuna`` or ``nni``) also
    checks that the tool provides it. A ConfigError lists the allowed names.

    Example:
        >>> get_searcher("evolution", "optuna")
        Traceback (most recent call last):
        ...
        regnet_space.errors.ConfigError: evolution is not available with optuna; choose one of design, random, tpe, cmaes, gp, nsga2, qmc, re, ls, hyperband, bohb
    """
    key = _key(name)
    found = next((s for s in SEARCHERS.values()
                  if key == s.name or key in s.aliases or key.replace("-", "") == s.name), None)
    allowed = ", ".join(searcher_names(tool))
    if found is None:
        raise ConfigError(f"unknown search algorithm {name!r}; choose one of {allowed}")
    if tool is not None and getattr(found, tool) is None:
        raise ConfigError(f"{found.name} is not available with {tool}; choose one of {allowed}")
    return found


def searcher_names(tool: str | None = None, *, bench_default: bool = False) -> list[str]:
    """Names of the searchers a tool provides (``optuna``, ``nni`` or None for all)."""
    if tool not in (None, "optuna", "nni"):
        raise ConfigError(f"tool must be optuna or nni, got {tool!r}")
    return [s.name for s in SEARCHERS.values()
            if (tool is None or getattr(s, tool) is not None)
            and (not bench_default or (s.in_bench and s.optuna is not None))]


__all__ = ["INFEASIBLE_ERROR", "OWN_SAMPLERS", "SEARCHERS", "Searcher", "get_searcher",
           "make_pruner", "searcher_names"]
