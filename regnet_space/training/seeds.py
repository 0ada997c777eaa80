"""K training seeds of one model as one result: the mean error, its sd, and every seed's error.

One brief run's error carries seed noise about as large as the differences between models of one
space (docs/recipe.md has the measured figures), so a model ranked on one run is ranked mostly on
its seed. ``TrainSettings(seeds=K)`` (``--seeds K``) trains seeds ``seed .. seed + K - 1`` and
:func:`combine` makes their results one :class:`~regnet_space.training.evaluator.EvalResult`:
``error`` is the mean over seeds, ``error_sd`` their sample standard deviation, ``seeds`` = K,
``seed_errors`` each seed's error (the same for ``test_error``/``val_error``). Per-epoch curves are
the seeds' means; times and images add up (the compute is K runs). Averaging K runs raises a
single run's reliability R to ``K R / (1 + (K - 1) R)`` (Spearman-Brown, :func:`averaged_R`).

A model whose run ends other than ``ok`` under any seed ends with that seed's status and reason:
a recipe that diverges under some seeds is not a model's error to average.

Example:
    >>> from regnet_space.training.evaluator import EvalResult
    >>> rs = [EvalResult("ok", error=e, test_error=e + 0.01, eval_error=[0.4, e], epochs=2,
    ...                  train_time=10.0, wall_time=12.0, seed=i)
    ...       for i, e in enumerate([0.20, 0.22, 0.24])]
    >>> r = combine(rs)
    >>> r.seeds, round(r.error, 4), round(r.error_sd, 4), r.seed_errors, round(r.test_error, 4)
    (3, 0.22, 0.02, [0.2, 0.22, 0.24], 0.23)
    >>> [round(x, 4) for x in r.eval_error], r.train_time, r.seed
    ([0.4, 0.22], 30.0, 0)
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Sequence


def _mean(xs: Sequence[float]) -> float:
    return sum(xs) / len(xs)


def _sd(xs: Sequence[float]) -> float | None:
    """Sample standard deviation (ddof 1); None for fewer than two values."""
    if len(xs) < 2:
        return None
    m = _mean(xs)
    return math.sqrt(sum((x - m) ** 2 for x in xs) / (len(xs) - 1))


def _mean_curve(curves: list[list]) -> list:
    n = min(len(c) for c in curves)
    return [_mean([c[i] for c in curves]) for i in range(n)]


def combine(results: Sequence):
    """One :class:`EvalResult` for several seeds of one model (see the module docstring)."""
    if not results:
        raise ValueError("combine needs at least one result")
    first = results[0]
    bad = next((r for r in results if r.status != "ok"), None)
    out = replace(first, seeds=len(results))
    out.wall_time = sum(r.wall_time for r in results)
    out.train_time = sum(r.train_time for r in results)
    out.images_seen = sum(r.images_seen for r in results)
    out.images_per_s = out.images_seen / max(out.train_time, 1e-9)
    if bad is not None:
        out.status, out.error = bad.status, None
        out.reason = f"seed {bad.seed}: {bad.reason or bad.status}"
        out.seed_errors = [r.error for r in results]
        return out
    for name in ("error", "test_error", "val_error"):
        vals = [getattr(r, name) for r in results]
        if any(v is None for v in vals):
            continue
        setattr(out, name, _mean(vals))
        setattr(out, f"{name}_sd", _sd(vals))
        setattr(out, f"seed_{name}s", list(vals))
    for name in ("train_loss", "train_error", "eval_error", "eval_loss", "epoch_time"):
        setattr(out, name, _mean_curve([getattr(r, name) for r in results]))
    return out


def averaged_R(R: float, k: int) -> float:
    """Reliability of the mean of ``k`` runs when one run has reliability ``R`` (Spearman-Brown).

    Example:
        >>> round(averaged_R(0.3, 3), 3), averaged_R(0.5, 1)
        (0.562, 0.5)
    """
    return k * R / (1 + (k - 1) * R)


__all__ = ["averaged_R", "combine"]
