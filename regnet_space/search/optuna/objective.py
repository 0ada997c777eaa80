"""The Optuna objective of a sweep: suggest, decode, check feasibility, train, record.

Example:
    >>> import optuna
    >>> from regnet_space.spaces import get_space
    >>> space = get_space("regnetx", resolution=28, in_channels=1, num_classes=10)
    >>> study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    >>> study.optimize(objective(space, budget="2M:5M", evaluate=lambda cfg, **kw: 0.3), n_trials=3)
    >>> {t.user_attrs["status"] for t in study.trials}   # the feasible encoding: all trained
    {'ok'}
"""

from __future__ import annotations

import dataclasses
import math
import time
import traceback
from typing import Any, Callable, Mapping

import numpy as np
import optuna

from ...budget import Budget, as_budget
from ...config import NetConfig
from ...errors import ConfigError
from ...spaces import DesignSpace
from ...training.provenance import FIELDS as PROVENANCE_FIELDS
from ...training.provenance import gather
from ..registry import INFEASIBLE_ERROR
from .encoding import encoding_for, stage_table, suggest_values
from .faults import storage_cut


def apply_budget(trial: optuna.trial.BaseTrial, space: DesignSpace, values: Mapping[str, Any],
                 budget: Budget | Any = None) -> bool:
    """Count the configuration's complexity analytically and record Optuna 5 constraints.

    One constraint per budget bound (``flops_low = (lo - flops) / lo``, ``flops_high = (flops -
    hi) / hi``, ...; <= 0 is feasible) plus ``structure`` (the number of the space's structural
    constraints and caps broken, e.g. a RegNet with 3 stages). Every trial gets every key, so
    constraint-aware samplers can compare them. Also stores ``flops``, ``params``, ``acts``,
    ``feasible`` and ``violations`` as user attributes. Returns whether the configuration is
    feasible.
    """
    verdict = space.check(values, budget)
    for key, value in verdict.constraints.items():
        trial.set_constraint(key, float(value))
    for key, value in (("flops", verdict.flops), ("params", verdict.params),
                       ("acts", verdict.acts), ("feasible", verdict.feasible),
                       ("violations", list(verdict.violations))):
        trial.set_user_attr(key, value)
    return verdict.feasible



# ------------------------------------------------------------------------------ objective
def jsonable(x: Any) -> Any:
    if dataclasses.is_dataclass(x) and not isinstance(x, type):
        x = dataclasses.asdict(x)
    if isinstance(x, Mapping):
        return {str(k): jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [jsonable(v) for v in x]
    if isinstance(x, (np.integer,)):
        return int(x)
    if isinstance(x, (np.floating,)):
        return float(x)
    if isinstance(x, (str, int, float, bool)) or x is None:
        return x
    if hasattr(x, "item"):
        try:
            return x.item()
        except (TypeError, ValueError):
            pass
    return str(x)


def _result_fields(result: Any) -> dict:
    """An evaluator result (float, mapping, or object with attributes) as a dict."""
    if isinstance(result, (int, float, np.floating, np.integer)):
        return {"error": float(result)}
    if isinstance(result, Mapping):
        return dict(result)
    if dataclasses.is_dataclass(result):
        return {f.name: getattr(result, f.name) for f in dataclasses.fields(result)}
    return {k: v for k, v in vars(result).items() if not k.startswith("_")}


def _fraction(e: Any) -> float:
    """An error as a plain float fraction in [0, 1] (the evaluator's unit); a finite value
    outside it (a percent, a loss, a sign slip) is refused, so the trial is recorded as failed
    with this message instead of ``ok`` with a wrong error. NaN passes (a diverged run)."""
    x = float(e)
    if math.isfinite(x) and not 0.0 <= x <= 1.0:
        raise ConfigError(f"the evaluator returned error {x:g}; an error must be a fraction in "
                          "[0, 1] (a percent? divide by 100)")
    return x


#: Evaluator result fields not copied to user attributes (the study metadata holds them, or the
#: objective stores them under its own names).
_SKIP_FIELDS = ("error", "config", "status", "settings", "data", "reason", "flops", "params",
                "acts", "curve", *PROVENANCE_FIELDS)


def _recipe_name(settings: Any, evaluate: Callable | None) -> str | None:
    """The preset the trials train with (None when a custom evaluator decides)."""
    name = getattr(settings, "preset", None)
    if name is None and isinstance(settings, Mapping):
        name = settings.get("preset")
    if name is None and isinstance(settings, str):
        name = settings
    if name is None and evaluate is None:
        name = "brief"  # what the default evaluator trains with
    return None if name is None else str(name)


def _normalize_result(result: Any) -> tuple[str, float, list, dict, str | None]:
    """(status ok/failed, error fraction or NaN, curve (fractions), extra fields, message)."""
    fields = _result_fields(result)
    status = str(fields.get("status", "ok") or "ok")
    message = fields.get("reason") or fields.get("message")
    err = float("nan")
    for key in ("error", "test_error", "top1_error"):
        if fields.get(key) is not None:
            err = _fraction(fields[key])
            break
    curve = fields.get("curve", fields.get("eval_error")) or []
    curve = [_fraction(x) if x is not None else float("nan") for x in curve]
    extra = {k: v for k, v in fields.items() if k not in _SKIP_FIELDS}
    if "train_time" in extra:
        extra["train_time_s"] = extra.pop("train_time")
    if status != "ok":
        extra["evaluator_status"] = status
        return "failed", float("nan"), curve, extra, message or f"evaluator status {status}"
    if not math.isfinite(err):
        return "failed", err, curve, extra, f"evaluation returned no finite error ({err})"
    return "ok", err, curve, extra, None


def _accepts(fn: Callable, name: str, *, var_keyword: bool = True) -> bool:
    import inspect
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False
    return name in params or (var_keyword and any(p.kind == p.VAR_KEYWORD
                                                  for p in params.values()))


def _default_evaluate(config: NetConfig, data: Any = None, settings: Any = None, on_epoch=None):
    """:func:`regnet_space.training.evaluator.evaluate` (torch is imported only when training)."""
    from ...training.evaluator import evaluate
    kw: dict[str, Any] = {"progress": False}
    if on_epoch is not None and _accepts(evaluate, "on_epoch", var_keyword=False):
        kw["on_epoch"] = on_epoch
    return evaluate(config, data, settings, **kw)


def objective(space: DesignSpace, data: Any = None, settings: Any = None, *,
              budget: Budget | Any = None, evaluate: Callable | None = None,
              prune: bool = True, encoding: Any = "feasible") -> Callable[[optuna.trial.Trial],
                                                                          float]:
    """An Optuna objective: suggest, decode, check the budget, train, record.

    Returns ``fn(trial) -> top-1 error as a fraction`` on the held-out split the recipe ranks by
    (validation when it has one, else test). The trial proposes coordinates of ``encoding``
    (``feasible``: decoded inside the budget by construction; ``raw``: the space's parameters, or
    an :class:`~regnet_space.spaces.encoding.Encoding`); a sampler must propose the same encoding
    (:func:`make_sampler` takes it too). For each trial it stores the user attributes ``values``
    (the decoded parameters; also one ``arch_<name>`` attribute each, which the dashboard lists),
    ``repaired`` (when the proposal was moved), ``config`` (NetConfig JSON), ``stages``
    (:func:`stage_table`), ``provenance`` (:mod:`~regnet_space.training.provenance`: package
    version, git commit, torch, recipe, CPU capability, device name), ``flops``, ``params``,
    ``acts``, ``feasible``, ``violations``, ``status`` (``ok``, ``infeasible``, ``pruned``,
    ``failed``), ``curve`` (per-epoch held-out error, fractions), ``time_s`` (wall time of the
    trial), ``train_time_s`` (the evaluator's), ``message`` (why a trial failed) and ``eval`` (the
    evaluator's other result fields, one dict: a storage write is a transaction).

    * An infeasible configuration (outside ``budget`` or the space's structural constraints)
      returns :data:`INFEASIBLE_ERROR` at once, untrained, with ``status = "infeasible"``.
    * Each epoch's test error is reported with ``trial.report``; with ``prune=True`` a pruner may
      stop the trial (``status = "pruned"``).
    * An evaluation that raises is recorded (``status = "failed"``, ``message``, ``traceback``) and
      the trial returns NaN, which Optuna records as a FAIL trial without stopping the study.

    ``evaluate(config, data=..., settings=..., on_epoch=...)`` replaces the real evaluator
    (:func:`regnet_space.training.evaluator.evaluate`); it returns a float error, a mapping or a result
    object with ``error`` (a fraction), optionally ``curve`` and timings. ``on_epoch(epoch,
    error)`` is called per epoch by the evaluator.
    """
    budget = as_budget(budget)
    enc = encoding_for(space, budget, encoding)
    base = gather(recipe=_recipe_name(settings, evaluate)).as_dict()  # once: git is a subprocess

    def run(trial: optuna.trial.Trial) -> float:
        t0 = time.perf_counter()
        if trial.user_attrs.get("status") != "running":
            trial.set_user_attr("status", "running")
        values = suggest_values(trial, enc)
        try:
            config = space.decode(values)
        except ValueError as e:  # a configuration NetConfig refuses: infeasible, not a crash
            trial.set_constraint("structure", 1.0)
            trial.set_user_attr("violations", [str(e)])
            trial.set_user_attr("feasible", False)
            trial.set_user_attr("status", "infeasible")
            trial.set_user_attr("provenance", base)
            return INFEASIBLE_ERROR
        trial.set_user_attr("config", config.to_json())
        trial.set_user_attr("stages", stage_table(config))
        if not apply_budget(trial, space, values, budget):
            trial.set_user_attr("provenance", base)
            trial.set_user_attr("status", "infeasible")
            trial.set_user_attr("time_s", time.perf_counter() - t0)
            return INFEASIBLE_ERROR
        curve: list[float] = []
        reported: set[int] = set()

        def on_epoch(epoch: int, error: float, *_: Any, **__: Any) -> None:
            e = _fraction(error)
            curve.append(e)
            if math.isfinite(e):
                trial.report(e, int(epoch))
                reported.add(int(epoch))
            if prune and trial.should_prune():
                raise optuna.TrialPruned(f"pruned at epoch {epoch} (test error {e:.4f})")

        def done(status: str, value: float, **attrs: Any) -> float:
            for k, v in attrs.items():
                if v is not None:
                    trial.set_user_attr(k, jsonable(v))
            trial.set_user_attr("status", status)
            trial.set_user_attr("time_s", time.perf_counter() - t0)
            return value

        ev = evaluate or _default_evaluate
        kw: dict[str, Any] = {"data": data, "settings": settings}
        if evaluate is None or _accepts(ev, "on_epoch"):
            kw["on_epoch"] = on_epoch
        trial.set_user_attr("provenance", base)  # the evaluator's own fields replace it below
        try:
            result = ev(config, **kw)
            got = _result_fields(result)
            prov = {k: jsonable(got[k]) if got.get(k) is not None else base[k]
                    for k in PROVENANCE_FIELDS}
            if prov != base:
                trial.set_user_attr("provenance", prov)
            status, err, rcurve, extra, message = _normalize_result(result)
        except optuna.TrialPruned:
            done("pruned", 0.0, curve=curve)
            raise
        except Exception as e:  # recorded, never fatal to the study
            if storage_cut(e):  # the storage went away (trial.report): the worker retries it
                raise
            return done("failed", float("nan"), curve=curve, message=f"{type(e).__name__}: {e}"[:1000],
                        traceback=traceback.format_exc()[-4000:])
        curve = rcurve or curve
        # one storage write for the evaluator's other fields (each write is a transaction)
        train_time = extra.pop("train_time_s", None)
        if extra:
            trial.set_user_attr("eval", jsonable(extra))
        # evaluators without a per-epoch hook: report the curve afterwards (no pruning)
        for epoch, e in enumerate(curve):
            if epoch not in reported and math.isfinite(e):
                trial.report(e, epoch)
        if status != "ok":
            return done("failed", float("nan"), curve=curve, message=message,
                        train_time_s=train_time)
        return done("ok", err, curve=curve, train_time_s=train_time)

    return run
