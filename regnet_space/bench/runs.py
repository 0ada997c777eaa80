"""Running searches against an oracle: one search, many seeds of many algorithms, the results.

Example:
    >>> from regnet_space.bench.oracle import TabularOracle, synthetic_population
    >>> from regnet_space.spaces import get_space
    >>> space = get_space("regnetx", resolution=32, in_channels=3, num_classes=10)
    >>> oracle = TabularOracle.from_table(synthetic_population(space, 200, seed=0, flops="2M:20M"))
    >>> res = run_benchmark(oracle, ["random", "design"], seeds=2, budget=8)
    >>> res.errors.shape
    (2, 2, 8)
"""

from __future__ import annotations

import math
import time
import warnings
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from ..budget import Budget
from ..errors import ConfigError, require

from ..search.registry import searcher_names
from .metrics import evals_to_threshold, mean_ci, mean_ranks, normalized_regret, top_threshold
from .oracle import _INF, KINDS, TabularOracle

#: Every algorithm name :func:`run_benchmark` understands (Optuna's searchers of the registry).
ALGORITHMS: tuple[str, ...] = tuple(n for n in searcher_names("optuna")
                                    if n not in ("hyperband", "bohb"))  # need curves
#: The algorithms ``bench-search`` runs by default (``gp`` is opt-in: it is very slow on a CPU).
DEFAULT_ALGORITHMS: tuple[str, ...] = tuple(searcher_names("optuna", bench_default=True))

# ------------------------------------------------------------------------------ samplers
def _quiet_optuna() -> None:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)


def parse_algorithms(algos: str | Sequence[str] | None,
                     extra: Mapping[str, Any] | None = None) -> list[str]:
    """Comma-separated names (or a list) -> validated, de-duplicated canonical names."""
    from ..search.registry import get_searcher

    if algos is None:
        return list(DEFAULT_ALGORITHMS)
    items = algos.split(",") if isinstance(algos, str) else list(algos)
    names = [str(a).strip() for a in items if str(a).strip()]
    if not names:
        raise ConfigError(f"no algorithm given; choose from {', '.join(ALGORITHMS)}")
    out = []
    for a in names:
        if extra and a.lower() in extra:
            out.append(a.lower())
            continue
        s = get_searcher(a, "optuna")
        if s.pruner is not None:  # the oracle answers final errors only, no per-epoch curve
            raise ConfigError(f"{s.name} prunes on per-epoch curves, which this benchmark's "
                              "oracle does not answer yet; run it with `sweep`, or benchmark "
                              f"{'random' if s.name == 'hyperband' else 'tpe'} here")
        out.append(s.name)
    return list(dict.fromkeys(out))


def make_sampler(name: str, oracle: TabularOracle, seed: int, budget: int,
                 encoding: str = "feasible"):
    """The Optuna sampler of one benchmark run: the registry's, sized for ``budget`` trials,
    proposing in ``encoding`` (``design`` proposes the paper's samples in those coordinates)."""
    from ..search.optuna import make_sampler as optuna_sampler

    lo, hi = oracle.flops_range
    return optuna_sampler(name, oracle.space, Budget(flops=(lo, hi)), seed=seed,
                          n_trials=budget, per_trial_seed=False,
                          encoding=oracle.encoding(encoding))


def run_search(oracle: TabularOracle, sampler: Any, budget: int,
               encoding: str = "feasible") -> tuple[np.ndarray, np.ndarray]:
    """One search of ``budget`` evaluations with an Optuna sampler, in an in-memory study,
    proposing coordinates of the oracle's ``encoding`` (``feasible`` or ``raw``).

    Returns (errors, kind codes), one per evaluation in order.
    """
    import optuna

    from ..search.optuna import suggest_values

    enc = oracle.encoding(encoding)
    study = optuna.create_study(sampler=sampler, direction="minimize")
    errors = np.empty(budget)
    kinds = np.empty(budget, dtype=np.int8)
    for t in range(budget):
        trial = study.ask()
        values = suggest_values(trial, enc)
        e, k = oracle.answer(values)
        trial.set_constraint("infeasible", 1.0 if k == _INF else 0.0)
        study.tell(trial, e)
        errors[t], kinds[t] = e, k
    return errors, kinds


# ------------------------------------------------------------------------------ results
@dataclass
class BenchResult:
    """Traces of every (algorithm, seed) search and the reference facts to score them.

    ``pop_min``, ``pop_median`` and ``threshold`` describe the reference distribution named by
    ``reference`` (the oracle's landscape by default, or the table's rows; see :mod:`.oracle`).

    ``errors`` and ``kinds`` are (n_algos, n_seeds, budget) arrays: the answer to each evaluation
    and how it was answered (an index into :data:`KINDS`); ``seconds`` (wall) and ``cpu_seconds``
    (the worker's CPU time, unaffected by other load) are (n_algos, n_seeds) per search.
    """

    algos: list[str]
    seeds: list[int]
    budget: int
    errors: np.ndarray
    kinds: np.ndarray
    seconds: np.ndarray
    pop_min: float
    pop_median: float
    threshold: float
    top: float = 0.05
    reference: str = "landscape"
    info: dict = field(default_factory=dict)
    cpu_seconds: np.ndarray | None = None

    @property
    def best_so_far(self) -> np.ndarray:
        """(n_algos, n_seeds, budget) running minimum of the errors."""
        return np.minimum.accumulate(self.errors, axis=2)

    @property
    def final(self) -> np.ndarray:
        """(n_algos, n_seeds) best error found with the whole budget."""
        return self.errors.min(axis=2)

    def regret(self) -> np.ndarray:
        """(n_algos, n_seeds, budget) normalized regret of the best-so-far."""
        return normalized_regret(self.best_so_far, self.pop_min, self.pop_median)

    def evals_to_top(self) -> np.ndarray:
        """(n_algos, n_seeds) evaluations to reach the top-``top`` threshold (inf if never)."""
        return np.array([[evals_to_threshold(tr, self.threshold) for tr in row]
                         for row in self.errors], dtype=float)

    def curves(self) -> pd.DataFrame:
        """Long table: algo, evaluation, best-so-far mean and 95% CI bounds, regret mean and CI."""
        rows = []
        bsf, reg = self.best_so_far, self.regret()
        for a, name in enumerate(self.algos):
            m, lo, hi = mean_ci(bsf[a], axis=0)
            rm, rlo, rhi = mean_ci(reg[a], axis=0)
            for t in range(self.budget):
                rows.append((name, t + 1, m[t], lo[t], hi[t], rm[t], rlo[t], rhi[t]))
        return pd.DataFrame(rows, columns=["algo", "evaluation", "best_mean", "best_lo", "best_hi",
                                           "regret_mean", "regret_lo", "regret_hi"])

    def traces(self) -> pd.DataFrame:
        """Long table of every evaluation: algo, seed, evaluation, error, best, kind."""
        A, S, B = self.errors.shape
        bsf = self.best_so_far
        return pd.DataFrame({
            "algo": np.repeat(self.algos, S * B),
            "seed": np.tile(np.repeat(self.seeds, B), A),
            "evaluation": np.tile(np.arange(1, B + 1), A * S),
            "error": self.errors.reshape(-1),
            "best": bsf.reshape(-1),
            "kind": np.asarray(KINDS)[self.kinds.reshape(-1)],
        })

    def summary(self) -> pd.DataFrame:
        """One row per algorithm, over seeds: ``encoding``, ``best_mean``/``best_lo``/``best_hi``
        (final best error: mean over seeds and its bootstrap 95% interval),
        ``regret_mean``/``regret_lo``/``regret_hi`` (final normalized regret),
        ``top5_hit_rate`` (fraction of seeds reaching the top-5% threshold; the name follows
        ``top``), ``evals_to_top5_median`` (inf when fewer than half the seeds reach it),
        ``mean_rank``, ``exact_frac``/``same_arch_frac``/``surrogate_frac``/``infeasible_frac``
        (how the evaluations were answered), ``sec_per_search``/``searches_per_min`` (wall time
        per search in its worker) and ``cpu_sec_per_search``."""
        final = self.final
        reg_final = normalized_regret(final, self.pop_min, self.pop_median)
        ranks = mean_ranks(final)
        hits = self.evals_to_top()
        n_eval = self.errors.shape[1] * self.budget
        rows = []
        for a, name in enumerate(self.algos):
            fm, flo, fhi = mean_ci(final[a])
            rm, rlo, rhi = mean_ci(reg_final[a])
            h = hits[a]
            counts = np.bincount(self.kinds[a].reshape(-1), minlength=len(KINDS))
            sec = float(self.seconds[a].mean())
            rows.append({
                "algo": name, "encoding": self.info.get("encodings", {}).get(name, "feasible"),
                "seeds": len(self.seeds), "budget": self.budget,
                "best_mean": float(fm), "best_lo": float(flo), "best_hi": float(fhi),
                "regret_mean": float(rm), "regret_lo": float(rlo), "regret_hi": float(rhi),
                f"top{self.top * 100:g}_hit_rate": float(np.isfinite(h).mean()),
                f"evals_to_top{self.top * 100:g}_median": float(np.median(h)),
                "mean_rank": float(ranks[a]),
                **{f"{k}_frac": float(c / n_eval) for k, c in zip(KINDS, counts)},
                "sec_per_search": sec,
                "searches_per_min": 60.0 / sec if sec > 0 else math.inf,
                "cpu_sec_per_search": (float(self.cpu_seconds[a].mean())
                                       if self.cpu_seconds is not None else math.nan),
            })
        return pd.DataFrame(rows)

    def format_summary(self) -> str:
        """The summary as an aligned text table (what ``bench-search`` prints)."""
        df = self.summary()
        top = f"{self.top * 100:g}"
        width = max(8, max(len(a) for a in self.algos))
        head = (f"{'algo':{width}s} {'best error [95% CI]':>22s} {'regret':>6s} "
                f"{'top' + top + '%':>6s} {'evals':>6s} {'rank':>5s} {'exact':>6s} {'arch':>6s} "
                f"{'surr':>6s} {'infeas':>6s} {'srch/min':>8s}")
        lines = [head]
        for r in df.to_dict("records"):
            med = r[f"evals_to_top{top}_median"]
            lines.append(
                f"{r['algo']:{width}s} {r['best_mean']:7.4f} [{r['best_lo']:.4f}, "
                f"{r['best_hi']:.4f}] {r['regret_mean']:6.3f} "
                f"{r[f'top{top}_hit_rate']:6.0%} "
                f"{(f'{med:.0f}' if np.isfinite(med) else '>' + str(self.budget)):>6s} "
                f"{r['mean_rank']:5.2f} {r['exact_frac']:6.1%} {r['same_arch_frac']:6.1%} "
                f"{r['surrogate_frac']:6.1%} {r['infeasible_frac']:6.1%} "
                f"{r['searches_per_min']:8.0f}")
        return "\n".join(lines)


# ------------------------------------------------------------------------------ the benchmark
SamplerFactory = Callable[[TabularOracle, int, int], Any]


def sampler_seed(seed: int) -> int:
    """The sampler seed of benchmark seed ``seed``: derived (``SeedSequence([seed, 0x5EA2C4])``)
    so that the ``design`` sampler does not replay a population that was itself drawn with a small
    seed (``DesignSpaceSampler(seed=0)`` proposes exactly ``space.sample(n, seed=0)``)."""
    return int(np.random.SeedSequence([int(seed), 0x5EA2C4]).generate_state(1)[0] >> 1)


#: What forked workers of :func:`run_benchmark` read (set before the pool starts).
_WORK: dict[str, Any] = {}


def _one(task: tuple[str, str, int, int]) -> tuple[np.ndarray, np.ndarray, float, float]:
    name, encoding, seed, budget = task
    oracle, factories = _WORK["oracle"], _WORK["factories"]
    _quiet_optuna()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # experimental-API and ignored-constraint warnings
        t0, c0 = time.perf_counter(), time.process_time()
        factory = factories.get(name)
        ss = sampler_seed(seed)
        sampler = (factory(oracle, ss, budget) if factory is not None
                   else make_sampler(name, oracle, ss, budget, encoding))
        errors, kinds = run_search(oracle, sampler, budget, encoding)
        return errors, kinds, time.perf_counter() - t0, time.process_time() - c0


def run_benchmark(oracle: TabularOracle, algos: str | Sequence[str] | None = None, *,
                  seeds: int | Sequence[int] = 20, budget: int = 64, top: float = 0.05,
                  jobs: int = 1, factories: Mapping[str, SamplerFactory] | None = None,
                  progress: Callable[[str, int, float], None] | None = None,
                  encodings: str | Sequence[str] = ("feasible",),
                  reference: str = "landscape") -> BenchResult:
    """Run every algorithm for every seed with ``budget`` evaluations against ``oracle``.

    Args:
        oracle: a :class:`TabularOracle` (e.g. ``TabularOracle.from_table("pop.csv")``).
        algos: names from :data:`ALGORITHMS` (a list or a comma-separated string); default
            :data:`DEFAULT_ALGORITHMS`.
        seeds: number of seeds (0..n-1) or the seeds themselves; seed ``s`` gives every
            algorithm's sampler the seed :func:`sampler_seed` ``(s)``.
        budget: evaluations per search (>= 2).
        top: the "top fraction" of the evaluations-to-top metric (default 5%).
        jobs: worker processes (forked; 1 runs in this process). Results do not depend on it.
        factories: extra or replacement algorithms: ``name -> factory(oracle, seed, budget)``
            returning an Optuna sampler (e.g. a deliberately bad baseline in tests).
        progress: called as ``progress(algo, seed, seconds)`` after each search.
        encodings: ``feasible`` and/or ``raw`` (a list or a comma-separated string): every
            algorithm runs in each; with more than one, results are labelled ``algo/encoding``.
        reference: what regret and the top threshold are measured against: ``landscape`` (the
            oracle's answers to the paper's distribution in budget, what searchers can reach) or
            ``table`` (the trained rows); see :mod:`.oracle`.
    """
    require("optuna", pip="optuna", purpose="the search benchmark")

    factories = dict(factories or {})
    names = parse_algorithms(algos, factories)
    if isinstance(budget, bool) or not isinstance(budget, (int, np.integer)) or budget < 2:
        raise ConfigError(f"budget must be an integer >= 2, got {budget!r}")
    if isinstance(seeds, (int, np.integer)) and not isinstance(seeds, bool):
        if seeds < 1:
            raise ConfigError(f"seeds must be >= 1, got {seeds}")
        seed_list = list(range(int(seeds)))
    else:
        seed_list = [int(s) for s in seeds]
        if not seed_list:
            raise ConfigError("need at least one seed")
    if isinstance(jobs, bool) or not isinstance(jobs, (int, np.integer)) or jobs < 1:
        raise ConfigError(f"jobs must be an integer >= 1, got {jobs!r}")
    if not 0 < top <= 1:
        raise ConfigError(f"top must be a fraction in (0, 1], got {top}")
    if reference not in ("landscape", "table"):
        raise ConfigError(f"reference must be 'landscape' or 'table', got {reference!r}")
    encs = [e.strip() for e in (encodings.split(",") if isinstance(encodings, str)
                                 else encodings) if e.strip()]
    if not encs or any(e not in ("feasible", "raw") for e in encs):
        raise ConfigError(f"encodings must be feasible and/or raw, got {encodings!r}")
    for e in encs:
        oracle.encoding(e)  # built once, before any fork
    if "design" in names and "design" not in factories:
        # a feasible range the space cannot meet fails now, not in a worker
        make_sampler("design", oracle, 0, budget)
    runs = [(name, e) for name in names for e in encs]
    labels = [name if len(encs) == 1 else f"{name}/{e}" for name, e in runs]
    A, S = len(runs), len(seed_list)
    errors = np.empty((A, S, budget))
    kinds = np.empty((A, S, budget), dtype=np.int8)
    seconds = np.empty((A, S))
    cpu = np.empty((A, S))
    tasks = [(a, s, (name, e, seed, int(budget))) for a, (name, e) in enumerate(runs)
             for s, seed in enumerate(seed_list)]
    _WORK.update(oracle=oracle, factories=factories)
    try:
        pool = None
        if jobs > 1:
            import multiprocessing as mp
            if "fork" in mp.get_all_start_methods():
                from concurrent.futures import ProcessPoolExecutor
                pool = ProcessPoolExecutor(min(jobs, len(tasks)), mp_context=mp.get_context("fork"))
        if pool is None:
            results = map(_one, [t for _, _, t in tasks])
        else:
            results = pool.map(_one, [t for _, _, t in tasks])
        try:
            for (a, s, (name, _, seed, _)), (e, k, sec, c) in zip(tasks, results):
                errors[a, s], kinds[a, s], seconds[a, s], cpu[a, s] = e, k, sec, c
                if progress is not None:
                    progress(labels[a], seed, float(sec))
        finally:
            if pool is not None:
                pool.shutdown(cancel_futures=True)
    finally:
        _WORK.clear()
    ref = oracle.errors if reference == "table" else oracle.landscape()
    return BenchResult(algos=labels, seeds=seed_list, budget=int(budget), errors=errors,
                       kinds=kinds, seconds=seconds, cpu_seconds=cpu, pop_min=float(ref.min()),
                       pop_median=float(np.median(ref)), threshold=top_threshold(ref, top),
                       top=top, reference=reference,
                       info={"space": oracle.space.name, "resolution": oracle.space.resolution,
                             "rows": oracle.n, "flops_range": oracle.flops_range,
                             "penalty": oracle.penalty, "jobs": int(jobs),
                             "encodings": dict(zip(labels, (e for _, e in runs))),
                             "surrogate": oracle.surrogate.describe()})
