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
evolution  -                   Evolution      no           NNI's evolution tuner
=========  ==================  =============  ===========  ======================================

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
    Searcher("evolution", "NNI's evolution tuner", nni="Evolution", in_bench=False),
)}


def _key(name: str) -> str:
    return str(name).strip().lower().replace("_", "-")


def get_searcher(name: str, tool: str | None = None) -> Searcher:
    """A searcher by name or alias (case-insensitive); ``tool`` (``optuna`` or ``nni``) also
    checks that the tool provides it. A ConfigError lists the allowed names.

    Example:
        >>> get_searcher("evolution", "optuna")
        Traceback (most recent call last):
        ...
        regnet_space.errors.ConfigError: evolution is not available with optuna; choose one of design, random, tpe, cmaes, gp, nsga2, qmc
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


__all__ = ["INFEASIBLE_ERROR", "SEARCHERS", "Searcher", "get_searcher", "searcher_names"]
