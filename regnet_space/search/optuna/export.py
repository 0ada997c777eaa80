"""A study as a population table (see :mod:`regnet_space.analysis.table`).

Example:
    >>> import optuna
    >>> from regnet_space.search.optuna import DesignSpaceSampler, objective
    >>> from regnet_space.spaces import get_space
    >>> space = get_space("anynetx_a", resolution=28, in_channels=1, num_classes=10)
    >>> study = optuna.create_study(sampler=DesignSpaceSampler(space, flops="2M:5M", seed=0))
    >>> study.optimize(objective(space, budget="2M:5M", evaluate=lambda cfg, **kw: 0.25), n_trials=2)
    >>> export_population(study, space)[["error", "status"]].values.tolist()
    [[0.25, 'ok'], [0.25, 'ok']]
"""

from __future__ import annotations

from typing import Mapping

import optuna
from optuna.trial import TrialState

from ...analysis.table import error_columns
from ...spaces import DesignSpace, get_space
from ...training.provenance import from_mapping
from .encoding import decode_params
from .storage import META_KEY

# ------------------------------------------------------------------------------ export
#: The per-epoch columns of :func:`export_curves`, from the evaluator's result fields.
CURVE_FIELDS = {"val_error": "eval_error", "val_loss": "eval_loss", "train_loss": "train_loss",
                "train_error": "train_error", "epoch_time": "epoch_time"}


def export_curves(study: optuna.Study):
    """Per-epoch learning curves, long format: one row per (trial, epoch) of every trial that
    trained, with ``trial, epoch`` (from 1), ``val_error`` (the held-out split the trial ranked
    by: validation, or test when the recipe has none; a fraction), ``val_loss``, ``train_loss``,
    ``train_error``, ``epoch_time`` (seconds of training in that epoch) and ``status``. Written
    beside a population table as ``<name>.curves.csv`` by ``regnet-space export``; join on
    ``trial``. Means over seeds when a trial trained several.

    Example:
        >>> import optuna
        >>> study = optuna.create_study()
        >>> t = study.ask(); t.set_user_attr("status", "ok")
        >>> t.set_user_attr("curve", [0.5, 0.3]); _ = study.tell(t, 0.3)
        >>> export_curves(study)[["trial", "epoch", "val_error"]].values.tolist()
        [[0.0, 1.0, 0.5], [0.0, 2.0, 0.3]]
    """
    import pandas as pd

    rows = []
    for t in study.get_trials(deepcopy=False):
        if t.state not in (TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL):
            continue
        ev = t.user_attrs.get("eval") or {}
        curves = {k: ev.get(v) or [] for k, v in CURVE_FIELDS.items()}
        curves["val_error"] = t.user_attrs.get("curve") or curves["val_error"]
        n = max(map(len, curves.values()))
        for i in range(n):
            row = {"trial": t.number, "epoch": i + 1}
            row.update({k: (c[i] if i < len(c) else None) for k, c in curves.items()})
            row["status"] = t.user_attrs.get("status")
            rows.append(row)
    cols = ["trial", "epoch", *CURVE_FIELDS, "status"]
    return pd.DataFrame(rows, columns=cols)


def export_population(study: optuna.Study, space: DesignSpace | None = None):
    """The study as a population table (see :mod:`regnet_space.analysis.table`): one row per trial that
    counts (COMPLETE, PRUNED, and evaluation failures); retried dead-worker trials and surplus
    trials are left out, since their configuration appears in another row or was never evaluated.

    Columns: ``space, config, flops, params, acts, error`` (test top-1 error as a fraction, NaN
    unless ``status == "ok"``; with a validation split the trial's value is the validation error
    and ``val_error`` holds it), ``status`` (ok / infeasible / pruned / failed), ``val_error``,
    ``error_sd``/``val_error_sd`` and ``seeds`` (several training seeds: means and sds), one column per
    sampled parameter (effective values), then ``feasible``, ``trial``, ``sampler``, ``study``,
    ``seed``, ``epochs``, ``dataset``, ``time_s``, ``train_time_s``, ``value`` (the Optuna
    objective), ``datetime``, ``worker``, ``message``, and the provenance columns
    (:data:`~regnet_space.training.provenance.FIELDS`: ``package_version``, ``git_commit``,
    ``torch_version``, ``recipe``, ``cpu_capability``, ``device_name``; None where unknown).
    """
    import pandas as pd

    meta = study.user_attrs.get(META_KEY, {}) or {}
    if space is None and meta.get("space"):
        space = get_space(meta["space"], resolution=meta.get("resolution"),
                          in_channels=meta.get("in_channels"), num_classes=meta.get("num_classes"),
                          stem=meta.get("stem"), block=meta.get("block"))
    settings = meta.get("settings") or {}
    data = meta.get("data") or {}
    rows = []
    for t in study.get_trials(deepcopy=False):
        status = t.user_attrs.get("status")
        if t.state == TrialState.COMPLETE:
            status = "infeasible" if status == "infeasible" else "ok"
        elif t.state == TrialState.PRUNED:
            status = "pruned"
        elif t.state == TrialState.FAIL and status == "failed":
            status = "failed"
        else:
            continue
        values = t.user_attrs.get("values")
        if values is None and space is not None:
            try:
                values = decode_params(space, t.params, meta.get("budget"),
                                       meta.get("encoding", "raw"))
            except ValueError:
                values = {}
        values = values or {}
        config = t.user_attrs.get("config")
        flops, params, acts = (t.user_attrs.get(k) for k in ("flops", "params", "acts"))
        if space is not None and values and (config is None or flops is None):
            try:
                cfg = space.decode(values)
                from ...complexity import complexity
                cx = complexity(cfg)
                config = config or cfg.to_json()
                flops, params, acts = cx.flops, cx.params, cx.acts
            except ValueError:
                pass
        ev = t.user_attrs.get("eval") or {}
        ok = status == "ok" and t.value is not None
        row = {"space": meta.get("space", getattr(space, "name", "")), "config": config,
               "flops": flops, "params": params, "acts": acts, "error": float("nan"),
               "status": status}
        if ok:
            row.update(error_columns(t.value, ev))
        row.update(values)
        row.update({
            "feasible": t.user_attrs.get("feasible", status != "infeasible"),
            "trial": t.number, "sampler": meta.get("sampler"), "study": study.study_name,
            "seed": meta.get("seed"),
            "epochs": settings.get("epochs") if isinstance(settings, Mapping) else None,
            "dataset": data.get("name") if isinstance(data, Mapping) else data,
            "time_s": t.user_attrs.get("time_s"),
            "train_time_s": t.user_attrs.get("train_time_s", t.user_attrs.get("train_time")),
            "value": t.value, "datetime": t.datetime_start.isoformat() if t.datetime_start else None,
            "worker": t.user_attrs.get("worker"), "message": t.user_attrs.get("message"),
            **from_mapping(t.user_attrs.get("provenance")).as_dict(),
        })
        rows.append(row)
    cols = ["space", "config", "flops", "params", "acts", "error", "status"]
    df = pd.DataFrame(rows)
    if df.empty:
        df = pd.DataFrame(columns=cols)
    return df
