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
ALGORITHMS: tuple[str, ...] = tuple(searcher_names("optuna"))
#: Algorithms that work with two objectives (error and a cost).
MULTI_OBJECTIVE: tuple[str, ...] = ("random", "design", "qmc", "tpe", "nsga2", "gp")
#: The algorithms ``bench-search`` runs by default (``gp`` is opt-in: it is very slow on a CPU).
DEFAULT_ALGORITHMS: tuple[str, ...] = tuple(searcher_names("optuna", bench_default=True))

# ------------------------------------------------------------------------------ samplers
def _quiet_optuna() -> None:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)


def parse_algorithms(algos: str | Sequence[str] | None,
                     extra: Mapping[str, Any] | None = None, *, epochs: int | None = None,
                     multi: bool = False) -> list[str]:
    """Comma-separated names (or a list) -> validated, de-duplicated canonical names.

    ``epochs``: the oracle's fidelity levels, when known; a pruning algorithm (hyperband, bohb)
    needs more than one. ``multi``: two objectives, which only :data:`MULTI_OBJECTIVE` handle.
    """
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
        if s.pruner is not None and epochs is not None and epochs < 2:
            raise ConfigError(f"{s.name} prunes on per-epoch curves, and this table has none: "
                              "give the table's curves (regnet-space export writes "
                              "NAME.curves.csv) or --curves-from a table of the same recipe")
        if multi and s.name not in MULTI_OBJECTIVE:
            raise ConfigError(f"{s.name} does not search two objectives; with --objectives "
                              f"error,<cost> choose from {', '.join(MULTI_OBJECTIVE)}")
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
    truths: np.ndarray | None = None
    finish: np.ndarray | None = None
    epochs_used: np.ndarray | None = None
    complete: np.ndarray | None = None
    costs: np.ndarray | None = None
    objectives: tuple = ("error",)
    noise: str = "none"
    noise_sd: float = 0.0

    @property
    def best_so_far(self) -> np.ndarray:
        """(n_algos, n_seeds, budget) truth of the incumbent after each evaluation: the
        complete evaluation with the lowest *answered* error so far, scored by its *truth*
        (:func:`~regnet_space.bench.simulate.incumbent_truth`); with ``noise="none"`` and no
        pruning, the running minimum of the errors."""
        if self.truths is None:
            return np.minimum.accumulate(self.errors, axis=2)
        from .simulate import incumbent_truth

        return incumbent_truth(self.errors, self.truths, self.complete,
                               float(self.info.get("penalty", np.nanmax(self.truths))))

    @property
    def final(self) -> np.ndarray:
        """(n_algos, n_seeds) truth of the final incumbent."""
        return self.best_so_far[:, :, -1]

    def time_grid(self, points: int = 60) -> np.ndarray:
        """Simulated-time points (seconds) for anytime curves: 0 to the latest finish."""
        end = float(np.nanmax(self.finish)) if self.finish is not None else float(self.budget)
        return np.linspace(0.0, end, points)

    def best_at_times(self, grid: np.ndarray) -> np.ndarray:
        """(n_algos, n_seeds, len(grid)) incumbent truth at simulated times ``grid`` (the
        penalty before a search's first complete evaluation)."""
        bsf = self.best_so_far
        fin = self.finish if self.finish is not None else np.broadcast_to(
            np.arange(1, self.budget + 1, dtype=float), bsf.shape)
        pen = float(self.info.get("penalty", np.nanmax(bsf)))
        out = np.full(bsf.shape[:2] + (len(grid),), pen)
        for a in range(bsf.shape[0]):
            for s in range(bsf.shape[1]):
                idx = np.searchsorted(fin[a, s], grid, side="right") - 1
                out[a, s] = np.where(idx >= 0, bsf[a, s][np.maximum(idx, 0)], pen)
        return out

    def hypervolume(self) -> np.ndarray:
        """(n_algos, n_seeds, budget) normalized hypervolume of the (truth, cost) points of the
        complete evaluations so far (two-objective runs only; see ``_mo_reference``)."""
        from .pareto import hypervolume_trace

        mo = self.info.get("mo")
        if self.costs is None or not mo:
            raise ConfigError("hypervolume needs a two-objective run (objectives error,<cost>)")
        out = np.empty(self.costs.shape)
        for a in range(out.shape[0]):
            for s in range(out.shape[1]):
                pts = _normalize_mo(self.truths[a, s], self.costs[a, s], mo)
                pts[~self.complete[a, s]] = np.inf  # pruned: not a point of the front
                out[a, s] = hypervolume_trace(pts, MO_REF)
        return out

    def hv_regret(self) -> np.ndarray:
        """``hv_max - hypervolume``: 0 when the search's front is as good as the reference
        front (the table's rows and the landscape)."""
        return self.info["mo"]["hv_max"] - self.hypervolume()

    def regret(self) -> np.ndarray:
        """(n_algos, n_seeds, budget) normalized regret of the best-so-far."""
        return normalized_regret(self.best_so_far, self.pop_min, self.pop_median)

    def evals_to_top(self) -> np.ndarray:
        """(n_algos, n_seeds) evaluations until the incumbent's truth reaches the top-``top``
        threshold (inf if never)."""
        # on the incumbent's truth: a lucky noisy answer is not a hit
        return np.array([[evals_to_threshold(tr, self.threshold) for tr in row]
                         for row in self.best_so_far], dtype=float)

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

    def answer_sources(self) -> dict:
        """Fraction of all evaluations answered each way (:data:`KINDS`), over every
        algorithm and seed."""
        counts = np.bincount(self.kinds.reshape(-1), minlength=len(KINDS))
        return {k: float(c / self.kinds.size) for k, c in zip(KINDS, counts)}

    def traces(self) -> pd.DataFrame:
        """Long table of every evaluation: algo, seed, evaluation, error, best, kind."""
        A, S, B = self.errors.shape
        bsf = self.best_so_far
        return pd.DataFrame({
            "algo": np.repeat(self.algos, S * B),
            "seed": np.tile(np.repeat(self.seeds, B), A),
            "evaluation": np.tile(np.arange(1, B + 1), A * S),
            "error": self.errors.reshape(-1),
            "truth": (self.truths if self.truths is not None else self.errors).reshape(-1),
            "best": bsf.reshape(-1),
            "kind": np.asarray(KINDS)[self.kinds.reshape(-1)],
            **({"sim_seconds": self.finish.reshape(-1), "epochs": self.epochs_used.reshape(-1),
                "complete": self.complete.reshape(-1)} if self.finish is not None else {}),
            **({self.objectives[1]: self.costs.reshape(-1)} if self.costs is not None else {}),
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
                "sim_hours": (float(np.nanmax(self.finish[a], axis=1).mean() / 3600)
                              if self.finish is not None else math.nan),
                "epochs_trained": (float(self.epochs_used[a].sum(axis=1).mean())
                                   if self.epochs_used is not None else math.nan),
                "noise_sd": self.noise_sd,
            })
            if self.costs is not None and self.info.get("mo"):
                hv = self.hypervolume()[a, :, -1]
                hm, hlo, hhi = mean_ci(hv)
                rows[-1].update(hv_mean=float(hm), hv_lo=float(hlo), hv_hi=float(hhi),
                                hv_regret_mean=float(self.info["mo"]["hv_max"] - hm))
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


def _mo_reference(oracle: TabularOracle, cost: str) -> dict:
    """Normalization and the reference front of a two-objective benchmark: the truths and costs
    of the landscape's draws and of the table's rows. Errors are scaled from the best of them
    (0) to the penalty (1), costs on a log scale from the cheapest (0) to the dearest (1); the
    reference point is (1.1, 1.1) and ``hv_max`` the hypervolume of that front."""
    from .pareto import hypervolume_2d

    lo, hi = oracle.flops_range
    batch = oracle.space.sample_arrays(2000, 0, flops=Budget(flops=(lo, hi)).flops)
    f, p, a, _, _ = oracle.space.check_arrays(batch.values)
    pick = {"flops": f, "params": p, "acts": a}[cost]
    row_cost = {"flops": oracle.row_flops, "params": oracle.row_params,
                "acts": oracle.row_acts}[cost]
    err = np.concatenate([oracle.landscape(), oracle.errors])
    c = np.concatenate([np.asarray(pick, float), np.asarray(row_cost, float)])
    norm = {"err_lo": float(err.min()), "err_hi": float(oracle.penalty),
            "cost_lo": float(np.log(c.min())), "cost_hi": float(np.log(c.max())), "cost": cost}
    pts = _normalize_mo(err, c, norm)
    return {"mo": {**norm, "hv_max": hypervolume_2d(pts, MO_REF)}}


#: Reference point of the normalized two-objective hypervolume.
MO_REF = (1.1, 1.1)


def _normalize_mo(err: np.ndarray, cost: np.ndarray, norm: dict) -> np.ndarray:
    e = (np.asarray(err, float) - norm["err_lo"]) / max(norm["err_hi"] - norm["err_lo"], 1e-12)
    c = ((np.log(np.maximum(np.asarray(cost, float), 1e-300)) - norm["cost_lo"])
         / max(norm["cost_hi"] - norm["cost_lo"], 1e-12))
    return np.stack([e, c], axis=-1)


# ------------------------------------------------------------------------------ the benchmark
SamplerFactory = Callable[[TabularOracle, int, int], Any]


def sampler_seed(seed: int) -> int:
    """The sampler seed of benchmark seed ``seed``: derived (``SeedSequence([seed, 0x5EA2C4])``)
    so that the ``design`` sampler does not replay a population that was itself drawn with a small
    seed (``DesignSpaceSampler(seed=0)`` proposes exactly ``space.sample(n, seed=0)``)."""
    return int(np.random.SeedSequence([int(seed), 0x5EA2C4]).generate_state(1)[0] >> 1)


#: What forked workers of :func:`run_benchmark` read (set before the pool starts).
_WORK: dict[str, Any] = {}


def answer_rng(seed: int) -> np.random.Generator:
    """The benchmark's generator for search seed ``seed``: which recorded seed answers a query
    and the modelled noise. Every algorithm's seed ``s`` gets the same stream."""
    return np.random.default_rng(np.random.SeedSequence([int(seed), 0xA45E]))


def _one(task: tuple) -> tuple:
    name, encoding, seed, budget = task[:4]
    noise, workers, objectives = task[4:]
    oracle, factories = _WORK["oracle"], _WORK["factories"]
    _quiet_optuna()
    from ..search.registry import get_searcher, make_pruner
    from .simulate import simulate_search

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # experimental-API and ignored-constraint warnings
        t0, c0 = time.perf_counter(), time.process_time()
        factory = factories.get(name)
        ss = sampler_seed(seed)
        sampler = (factory(oracle, ss, budget) if factory is not None
                   else make_sampler(name, oracle, ss, budget, encoding))
        pruner = None
        if factory is None and get_searcher(name, "optuna").pruner is not None:
            pruner = make_pruner(name, min_resource=1, max_resource=oracle.epochs)
        tr = simulate_search(oracle, sampler, budget, rng=answer_rng(seed), encoding=encoding,
                             noise=noise, workers=workers, pruner=pruner, objectives=objectives)
        return tr, time.perf_counter() - t0, time.process_time() - c0


def run_benchmark(oracle: TabularOracle, algos: str | Sequence[str] | None = None, *,
                  seeds: int | Sequence[int] = 20, budget: int = 64, top: float = 0.05,
                  jobs: int = 1, factories: Mapping[str, SamplerFactory] | None = None,
                  progress: Callable[[str, int, float], None] | None = None,
                  encodings: str | Sequence[str] = ("feasible",),
                  reference: str = "landscape", noise: str = "seed", workers: int = 1,
                  objectives: str | Sequence[str] = "error") -> BenchResult:
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
        noise: ``seed`` (default: a query answers one recorded seed, or the truth plus the
            measured noise; see :mod:`.truth`) or ``none`` (the seed mean). Scores are always
            taken on the truth.
        workers: simulated asynchronous workers (:mod:`.simulate`); results then also come
            against simulated time.
        objectives: ``error`` or ``error,<cost>`` (cost: params, flops or acts) for a
            two-objective search scored by hypervolume.
    """
    require("optuna", pip="optuna", purpose="the search benchmark")

    from .simulate import parse_objectives
    from .truth import NOISE_MODES

    factories = dict(factories or {})
    objs = parse_objectives(objectives)
    names = parse_algorithms(algos, factories, epochs=oracle.epochs, multi=len(objs) > 1)
    if noise not in NOISE_MODES:
        raise ConfigError(f"noise must be one of {', '.join(NOISE_MODES)}, got {noise!r}")
    if isinstance(workers, bool) or not isinstance(workers, (int, np.integer)) or workers < 1:
        raise ConfigError(f"workers must be an integer >= 1, got {workers!r}")
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
    truths = np.empty((A, S, budget))
    finish = np.empty((A, S, budget))
    used = np.empty((A, S, budget), dtype=int)
    complete = np.empty((A, S, budget), dtype=bool)
    costs = np.empty((A, S, budget)) if len(objs) > 1 else None
    kinds = np.empty((A, S, budget), dtype=np.int8)
    seconds = np.empty((A, S))
    cpu = np.empty((A, S))
    tasks = [(a, s, (name, e, seed, int(budget), noise, int(workers), objs))
             for a, (name, e) in enumerate(runs) for s, seed in enumerate(seed_list)]
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
            for (a, s, task), (tr, sec, c) in zip(tasks, results):
                seed = task[2]
                if len(tr.observed) != budget:
                    raise ConfigError(f"{labels[a]} seed {seed} stopped after "
                                      f"{len(tr.observed)} of {budget} evaluations")
                errors[a, s], kinds[a, s], truths[a, s] = tr.observed, tr.kind, tr.truth
                finish[a, s], used[a, s], complete[a, s] = tr.finish, tr.epochs, tr.complete
                if costs is not None:
                    costs[a, s] = tr.cost[:, 0]
                seconds[a, s], cpu[a, s] = sec, c
                if progress is not None:
                    progress(labels[a], seed, float(sec))
        finally:
            if pool is not None:
                pool.shutdown(cancel_futures=True)
    finally:
        _WORK.clear()
    ref = oracle.errors if reference == "table" else oracle.landscape()
    mo = _mo_reference(oracle, objs[1]) if len(objs) > 1 else {}
    return BenchResult(algos=labels, seeds=seed_list, budget=int(budget), errors=errors,
                       kinds=kinds, seconds=seconds, cpu_seconds=cpu, pop_min=float(ref.min()),
                       pop_median=float(np.median(ref)), threshold=top_threshold(ref, top),
                       top=top, reference=reference, truths=truths, finish=finish,
                       epochs_used=used, complete=complete, costs=costs, objectives=objs,
                       noise=noise, noise_sd=oracle.noise_model.final,
                       info={"space": oracle.space.name, "resolution": oracle.space.resolution,
                             "rows": oracle.n, "flops_range": oracle.flops_range,
                             "penalty": oracle.penalty, "jobs": int(jobs),
                             "workers": int(workers), "epochs": oracle.epochs,
                             "encodings": dict(zip(labels, (e for _, e in runs))),
                             "surrogate": oracle.surrogate.describe(),
                             "noise_model": oracle.noise_model.describe(),
                             "curve_model": oracle.curve_model.source,
                             "cost_model": oracle.cost_model.describe(),
                             "objective": getattr(oracle, "objective", "error"),
                             "seeds_per_arch": np.bincount(oracle.seeds_per_arch).tolist(),
                             **mo})
