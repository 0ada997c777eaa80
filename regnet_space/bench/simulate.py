"""One search against the benchmark in simulated time: N asynchronous workers, per-epoch answers.

The blackbox (:class:`~regnet_space.bench.oracle.TabularOracle` and :mod:`.truth`) says what an
architecture's learning curve and epoch cost are; this module says *when* things happen, as
syne-tune's simulator and optunahub's asynchronous simulator do. A discrete-event loop keeps
``workers`` trials in flight. Each trial's next event is the end of its next epoch, in simulated
seconds from the cost model. Events are processed in time order: the trial reports that epoch's
answer to Optuna (``trial.report``), the pruner may stop it there, and a finished or pruned trial
is told to the study (``study.tell``) and frees its worker, which asks the sampler for the next
trial. With one worker and no pruner this is the plain sequential ask/tell loop.

Infeasible proposals are rejected before training: they are told at once (the worst error in
the table, plus the ``infeasible`` constraint), cost no time and keep no worker busy.

Evaluations are recorded in the order they finish. The **incumbent** after each evaluation is the
trial with the lowest *answered* error among those trained to the last epoch (a pruned trial's
low-fidelity value never becomes the incumbent), and it is scored by its *truth* (the seed mean):
the searcher chooses by what it saw, the benchmark grades by what is true.

Example:
    >>> from regnet_space.bench.oracle import TabularOracle, synthetic_population
    >>> from regnet_space.spaces import get_space
    >>> import optuna
    >>> space = get_space("regnetx", resolution=32, in_channels=3, num_classes=10)
    >>> oracle = TabularOracle.from_table(synthetic_population(space, 60, seed=0, flops="2M:20M"))
    >>> tr = simulate_search(oracle, optuna.samplers.RandomSampler(seed=0), 6,
    ...                      rng=np.random.default_rng(0), workers=2)
    >>> len(tr.observed), bool(np.all(np.diff(tr.finish) >= 0))
    (6, True)
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from ..errors import ConfigError

#: Cost objectives ``--objectives error,<cost>`` accepts (the architecture's complexity).
COSTS = ("params", "flops", "acts")


@dataclass(frozen=True)
class Trace:
    """One search, one entry per evaluation in finishing order: ``observed`` (the answer the
    searcher got; the last epoch trained), ``truth`` (the architecture's seed-mean final error),
    ``kind`` (index into :data:`~regnet_space.bench.oracle.KINDS`), ``finish`` (simulated
    seconds), ``epochs`` (epochs trained), ``complete`` (trained to the last epoch) and ``cost``
    ((evaluations, n_costs) complexity for multi-objective runs, else None)."""

    observed: np.ndarray
    truth: np.ndarray
    kind: np.ndarray
    finish: np.ndarray
    epochs: np.ndarray
    complete: np.ndarray
    cost: np.ndarray | None = None


def parse_objectives(objectives: str | Sequence[str] | None) -> tuple[str, ...]:
    """``"error"`` or ``"error,<cost>"`` with cost one of :data:`COSTS` -> a tuple.

    Example:
        >>> parse_objectives("error,params")
        ('error', 'params')
    """
    if objectives is None:
        return ("error",)
    items = objectives.split(",") if isinstance(objectives, str) else list(objectives)
    names = tuple(str(o).strip().lower() for o in items if str(o).strip())
    if not names or names[0] != "error" or len(names) > 2 or (
            len(names) == 2 and names[1] not in COSTS):
        raise ConfigError(f"objectives must be error or error,<cost> with cost one of "
                          f"{', '.join(COSTS)}; got {objectives!r}")
    return names


def simulate_search(oracle: Any, sampler: Any, budget: int, *, rng: np.random.Generator,
                    encoding: str = "feasible", noise: str = "seed", workers: int = 1,
                    pruner: Any = None, objectives: Sequence[str] = ("error",)) -> Trace:
    """Run ``budget`` trials of an Optuna ``sampler`` (and ``pruner``) against ``oracle`` with
    ``workers`` simulated asynchronous workers; see the module docstring.

    ``objectives`` ``("error", cost)`` makes it a two-objective study (error and the
    architecture's ``params``, ``flops`` or ``acts``, both minimized); Optuna does not prune
    multi-objective trials, so a pruner is refused there.
    """
    import optuna
    from optuna.trial import TrialState

    from ..search.optuna import suggest_values
    from .oracle import _INF

    if workers < 1:
        raise ConfigError(f"workers must be >= 1, got {workers}")
    multi = len(objectives) > 1
    prunes = pruner is not None and not isinstance(pruner, optuna.pruners.NopPruner)
    if multi and prunes:
        raise ConfigError("Optuna does not prune multi-objective trials: use a sampler without "
                          "a pruner with --objectives error,<cost>")
    enc = oracle.encoding(encoding)
    # a fixed name: Optuna's HyperbandPruner assigns brackets by a hash of the study's name and
    # the trial number, and an unnamed study gets a random name, so results would not repeat
    study = optuna.create_study(study_name="regnet-space-bench", sampler=sampler, pruner=pruner,
                                directions=["minimize"] * len(objectives))
    E = oracle.epochs
    rec: list[tuple] = []
    events: list[tuple] = []
    seq = started = 0
    now = 0.0

    def cost_of(d) -> tuple:
        return tuple(getattr(d, c) for c in objectives[1:])

    def told(trial, d, value: float, epochs: int, complete: bool) -> None:
        if complete:
            study.tell(trial, [value, *cost_of(d)] if multi else value)
        else:
            study.tell(trial, state=TrialState.PRUNED)
        rec.append((value, d.truth, d.kind, now, epochs, complete, cost_of(d)))

    while len(rec) < budget:
        while started < budget and len(events) < workers:
            trial = study.ask()
            values = suggest_values(trial, enc)
            d = oracle.draw(values, rng, noise)
            started += 1
            trial.set_constraint("infeasible", 1.0 if d.kind == _INF else 0.0)
            if d.kind == _INF:  # rejected before training: no time, no worker
                told(trial, d, d.value, 0, True)
                continue
            # without a pruner nothing happens between epochs: one event per trial
            first = d.seconds[0] if prunes else float(np.sum(d.seconds))
            heapq.heappush(events, (now + first, seq, trial, d, 0 if prunes else E - 1))
            seq += 1
        if not events:
            break
        now, _, trial, d, e = heapq.heappop(events)
        if prunes:
            trial.report(float(d.curve[e]), e + 1)
            if e + 1 < E and trial.should_prune():
                told(trial, d, float(d.curve[e]), e + 1, False)
                continue
            if e + 1 < E:
                heapq.heappush(events, (now + d.seconds[e + 1], seq, trial, d, e + 1))
                seq += 1
                continue
        told(trial, d, d.value, E, True)
    obs, truth, kind, fin, ep, comp, cost = zip(*rec) if rec else ((),) * 7
    return Trace(np.array(obs, float), np.array(truth, float), np.array(kind, np.int8),
                 np.array(fin, float), np.array(ep, int), np.array(comp, bool),
                 np.array(cost, float) if multi else None)


def incumbent_truth(observed: np.ndarray, truth: np.ndarray, complete: np.ndarray,
                    penalty: float) -> np.ndarray:
    """Truth of the incumbent after each evaluation: the complete evaluation with the lowest
    observed error so far (``penalty`` before the first complete one). Works on the last axis.

    Example:
        >>> incumbent_truth(np.array([0.3, 0.1, 0.2]), np.array([0.25, 0.22, 0.15]),
        ...                 np.array([True, True, True]), 1.0).tolist()
        [0.25, 0.22, 0.22]
    """
    obs = np.where(complete, observed, np.inf)
    out = np.empty(np.shape(obs), dtype=float)
    flat_o = obs.reshape(-1, obs.shape[-1])
    flat_t = np.broadcast_to(truth, obs.shape).reshape(-1, obs.shape[-1])
    res = out.reshape(-1, obs.shape[-1])
    for r in range(len(flat_o)):
        best, cur = np.inf, penalty
        for i in range(flat_o.shape[1]):
            if flat_o[r, i] < best:
                best, cur = flat_o[r, i], flat_t[r, i]
            res[r, i] = cur
    return out


__all__ = ["COSTS", "Trace", "incumbent_truth", "parse_objectives", "simulate_search"]
