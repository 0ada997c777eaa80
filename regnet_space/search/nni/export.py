"""An NNI experiment's sqlite database -> the population table (``regnet-space nni-export``)."""

from __future__ import annotations

import json
import shlex
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from ...analysis.table import error_columns
from ...budget import Budget
from ...spaces import DesignSpace, get_space
from ...training.provenance import from_mapping
from .config import BUILTIN_TUNER_CLASSES, DEFAULT_EXPERIMENT_DIR, DESIGN_TUNER_CLASS
from .space import decode_parameters
from ...errors import ConfigError, DataNotFoundError

def experiment_db(experiment_id: str, experiment_dir: str | Path | None = None) -> Path:
    """Path of an experiment's ``nni.sqlite``: ``<dir>/<id>/db/nni.sqlite`` (default dir
    ``~/nni-experiments``); ``experiment_dir`` may also be the experiment's own folder or the
    sqlite file itself. FileNotFoundError (saying where it looked) if missing."""
    base = Path(experiment_dir).expanduser() if experiment_dir else DEFAULT_EXPERIMENT_DIR.expanduser()
    candidates = [base / experiment_id / "db" / "nni.sqlite", base / "db" / "nni.sqlite", base]
    for c in candidates:
        if c.is_file():
            return c
    raise DataNotFoundError(f"no NNI database for experiment {experiment_id!r}: looked for "
                            f"{candidates[0]}; pass --experiment-dir (the experimentWorkingDirectory "
                            f"of the experiment's config)")


def _loads_nested(text: Any) -> Any:
    """MetricData.data is JSON inside JSON (a JSON string holding the reported value's JSON).

    Example:
        >>> _loads_nested(json.dumps(json.dumps({"default": 0.25})))
        {'default': 0.25}
    """
    value = json.loads(text) if isinstance(text, str) else text
    for _ in range(2):
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except json.JSONDecodeError:
                break
    return value


@dataclass
class TrialRecord:
    """One generated parameter set and what became of it."""

    parameter_id: int
    parameters: dict
    trial: str | None = None            # trial job id (from the metric when there is one)
    job_status: str | None = None       # NNI's last event for that trial job
    final: Any = None                   # the final result (dict or float), None if none
    intermediate: list = field(default_factory=list)


def read_experiment(db_path: str | Path) -> tuple[dict, list[TrialRecord]]:
    """(experiment profile, records by parameter id) from an experiment's sqlite database.

    Parameters come from ``TrialJobEvent.data`` (keyed by its ``parameter_id``), results from
    ``MetricData`` keyed by ``parameterId``; the trial job id of a record is the one that reported
    the metric (NNI's own job<->parameter pairing is wrong under concurrency, nni#5726).
    """
    db_path = Path(db_path)
    con = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        prof_row = con.execute("SELECT params, id FROM ExperimentProfile ORDER BY revision DESC "
                               "LIMIT 1").fetchone()
        profile = json.loads(prof_row[0]) if prof_row else {}
        if prof_row:
            profile.setdefault("id", prof_row[1])
        events = con.execute("SELECT timestamp, trialJobId, event, data FROM TrialJobEvent "
                             "ORDER BY timestamp, rowid").fetchall()
        metrics = con.execute("SELECT timestamp, trialJobId, parameterId, type, sequence, data "
                              "FROM MetricData ORDER BY timestamp, rowid").fetchall()
    except sqlite3.DatabaseError as e:
        raise ConfigError(f"{db_path} is not a readable NNI database: {e}") from None
    finally:
        con.close()
    records: dict[int, TrialRecord] = {}
    job_status: dict[str, str] = {}
    job_of_param: dict[int, str] = {}
    for _, job, event, data in events:
        job_status[job] = event
        if data:
            try:
                d = json.loads(data)
            except json.JSONDecodeError:
                continue
            if isinstance(d, dict) and "parameter_id" in d and d["parameter_id"] is not None:
                pid = int(d["parameter_id"])
                if pid not in records:
                    records[pid] = TrialRecord(pid, dict(d.get("parameters") or {}))
                    job_of_param[pid] = job
    metric_job: dict[int, str] = {}
    for _, job, pid, mtype, _seq, data in metrics:
        if pid is None or str(pid) == "":
            continue
        pid = int(pid)
        rec = records.get(pid)
        if rec is None:
            rec = records[pid] = TrialRecord(pid, {})
        value = _loads_nested(data)
        if mtype == "FINAL":
            rec.final = value
            metric_job[pid] = job
        elif mtype == "PERIODICAL":
            rec.intermediate.append(value)
            metric_job.setdefault(pid, job)
    for pid, rec in records.items():
        rec.trial = metric_job.get(pid, job_of_param.get(pid))
        rec.job_status = job_status.get(rec.trial) if rec.trial else None
    return profile, [records[k] for k in sorted(records)]


def _space_from_profile(profile: Mapping) -> tuple[str, dict]:
    """(space name, the trial's options) parsed from the experiment's trial command."""
    cmd = profile.get("trialCommand") or profile.get("trainingService", {}).get("trialCommand", "")
    try:
        argv = shlex.split(cmd)
    except ValueError:
        argv = cmd.split()
    if "regnet_space.search.nni.trial" not in argv:
        raise ConfigError("this experiment was not created by `regnet-space nni-config` (its trial "
                         f"command does not run regnet_space.search.nni.trial): {cmd!r}")
    argv = argv[argv.index("regnet_space.search.nni.trial") + 1:]
    opts: dict[str, str] = {}
    i = 0
    while i < len(argv):
        a = argv[i]
        if a.startswith("--"):
            if "=" in a:
                k, v = a[2:].split("=", 1)
                opts[k] = v
            elif i + 1 < len(argv) and not argv[i + 1].startswith("--"):
                opts[a[2:]] = argv[i + 1]
                i += 1
            else:
                opts[a[2:]] = "true"
        i += 1
    if "space" not in opts:
        raise ConfigError(f"cannot find --space in the trial command {cmd!r}")
    return opts["space"], opts


def tuner_name(profile: Mapping) -> str:
    """The tuner's name as nni-config spells it (``design`` for our custom tuner)."""
    tuner = profile.get("tuner") or profile.get("advisor") or {}
    if tuner.get("className") == DESIGN_TUNER_CLASS:
        return "design"
    for name, cls in BUILTIN_TUNER_CLASSES.items():
        if tuner.get("className") == cls:
            return name
    return str(tuner.get("name") or tuner.get("className") or "unknown")


def _row_from_final(final: Mapping, space: DesignSpace) -> dict:
    row = {k: final.get(k) for k in ("status", "feasible", "error", "flops", "params", "acts",
                                      "images_per_s", "epochs", "seed", "dataset")}
    row["train_time_s"] = final.get("train_time")  # the table's name (as the Optuna export)
    # the tuner saw the validation error; the table reports the test error (scored once)
    row.update(error_columns(final.get("error"), final))
    row.update(from_mapping(final.get("provenance")).as_dict())
    return row


def _experiment_space(space_name: str, opts: Mapping, records: Sequence[TrialRecord]) -> DesignSpace:
    """The space the trials decoded with: its input (resolution, channels, classes, stem, block)
    comes from the first configuration a trial echoed, else from the trial command."""
    for rec in records:
        cfg = rec.final.get("config") if isinstance(rec.final, Mapping) else None
        if isinstance(cfg, Mapping):
            return get_space(rec.final.get("space", space_name), resolution=cfg.get("resolution"),
                             in_channels=cfg.get("in_channels"), num_classes=cfg.get("num_classes"),
                             stem=cfg.get("stem"), block=cfg.get("block"))
    try:
        res, ch, nc = (int(v) for v in str(opts.get("space-input", "")).split(","))
    except ValueError:
        return get_space(space_name, block=opts.get("block"))
    return get_space(space_name, block=opts.get("block"), resolution=res, in_channels=ch,
                     num_classes=nc)


def export_population(experiment_id: str, experiment_dir: str | Path | None = None, *,
                      db_path: str | Path | None = None):
    """An NNI experiment (running or stopped) as a population DataFrame.

    One row per generated parameter set (trials still running are left out): the fixed columns
    of :mod:`regnet_space.analysis.table`, the space's parameter columns, and ``trial``, ``parameter_id``,
    ``sampler`` (the tuner), ``feasible``, ``train_time_s``, ``images_per_s``, ``epochs``, ``seed``,
    ``dataset``, ``source`` (``nni``), ``study`` (the experiment id), ``consistent`` (the echoed
    configuration equals the decode of the parameters joined by id), ``message`` and the
    provenance columns (:data:`~regnet_space.training.provenance.FIELDS`; None where unknown).
    """
    import pandas as pd

    from ...complexity import complexity
    from ...config import NetConfig

    db = Path(db_path) if db_path else experiment_db(experiment_id, experiment_dir)
    profile, records = read_experiment(db)
    space_name, opts = _space_from_profile(profile)
    sampler = tuner_name(profile)
    space = _experiment_space(space_name, opts, records)
    budget = Budget.parse(opts.get("flops"), opts.get("params"), opts.get("acts"))
    rows = []
    running = 0
    for rec in records:
        row: dict[str, Any] = {"trial": rec.trial, "parameter_id": rec.parameter_id}
        final = rec.final if isinstance(rec.final, Mapping) else (
            {"default": float(rec.final)} if isinstance(rec.final, (int, float)) else None)
        joined_cfg, joined_vals, msg = None, None, []
        if rec.parameters:
            try:
                joined_vals = decode_parameters(space, rec.parameters, budget,
                                                opts.get("encoding", "raw")).values
                joined_cfg = space.decode(joined_vals)
            except ValueError as e:
                msg.append(f"parameters do not decode: {e}")
        if final is None:
            if rec.job_status in (None, "WAITING", "RUNNING", "UNKNOWN"):
                running += 1
                continue
            status = "pruned" if rec.job_status == "EARLY_STOPPED" else "failed"
            cfg = joined_cfg
            row.update(status=status, feasible=None, error=np.nan)
            msg.append(f"no final result (trial job {rec.job_status}; the job id may be NNI's "
                       f"wrong pairing, nni#5726)")
            values = joined_vals or {}
            consistent = None
        else:
            row.update(_row_from_final(final, space))
            echoed = final.get("config")
            cfg = NetConfig.from_dict(echoed) if isinstance(echoed, Mapping) else joined_cfg
            values = dict(final.get("parameters") or joined_vals or {})
            consistent = (joined_cfg is not None and cfg == joined_cfg
                          and (joined_vals is None or values == joined_vals))
            if joined_cfg is not None and not consistent:
                msg.append("the echoed configuration differs from the parameters joined by id")
            if final.get("message"):
                msg.append(str(final["message"]))
            if row.get("status") is None:
                row["status"] = "ok"
            if rec.job_status == "EARLY_STOPPED" and row["status"] == "ok":
                row["status"] = "pruned"
            if row["status"] != "ok":
                row["error"] = np.nan
            elif row.get("error") is None:
                row["error"] = float(final["default"])
        if cfg is not None and row.get("flops") is None:
            cx = complexity(cfg)
            row.update(flops=cx.flops, params=cx.params, acts=cx.acts)
        row.update(space=space.name, config=cfg.to_json() if cfg is not None else None,
                   sampler=sampler, source="nni", study=str(profile.get("id", experiment_id)),
                   consistent=consistent, message="; ".join(msg) or None)
        for p in space.params:
            row[p.name] = values.get(p.name, np.nan)
        rows.append(row)
    df = pd.DataFrame(rows)
    if df.empty:
        df = pd.DataFrame(columns=["space", "config", "flops", "params", "acts", "error", "status"])
    df.attrs["running"] = running
    return df
