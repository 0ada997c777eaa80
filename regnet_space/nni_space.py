"""NNI HPO for the design spaces: search-space JSON, experiment config, result export.

Everything here is generated from the space's :class:`~regnet_space.spaces.Param` list; no range
is restated. The pieces:

* :func:`search_space`: NNI's search-space JSON for a :class:`~regnet_space.spaces.DesignSpace`.
* :func:`decode_parameters`: what an NNI tuner suggests -> the space's exact parameter values.
* :func:`experiment_config` / :func:`write_experiment`: ``search_space.json`` and a v2
  ``config.yml`` whose trial command runs :mod:`regnet_space.nni_trial`, so that
  ``nnictl create --config DIR/config.yml`` just works (``regnet-space nni-config``).
* :func:`read_experiment` / :func:`export_population`: an experiment's sqlite database -> the
  population table (``regnet-space nni-export``), joined by parameter id (see below).

Parameter mapping (:func:`search_space`)
-----------------------------------------
=================  ==============================  =============================================
``Param.kind``     NNI ``_type``                   notes
=================  ==============================  =============================================
``uniform``        ``quniform [low, high, q]``     NNI: ``clip(round(U(low, high) / q) * q)``;
                                                   the end points get half the mass of inner
                                                   points (pycls: ``floor(U(low, high + q))``,
                                                   all equal). Same grid, same order.
``log_uniform``    ``qloguniform [low, high, q]``  NNI: ``clip(round(exp(U(log low, log high))
                                                   / q) * q)``; pycls ceils a draw from
                                                   ``(low - min(q, low/2), high]``. Same grid and
                                                   log scale, slightly different end masses.
``power2``         ``choice`` over the powers      uniform over the values: exact.
``power2_or_log``  ``choice`` over ``values()``    uniform over the values, not pycls's mixture
                                                   (an ordered choice keeps it on the grid).
``choice``         ``choice``                      exact.
=================  ==============================  =============================================

The tuners' priors therefore differ slightly from the paper's distribution (and structural
constraints such as "4 stages" or monotone widths are not expressible in NNI's JSON at all: the
trial reports such samples as infeasible). The exact paper distribution, with the budget applied
by rejection, is :class:`regnet_space.nni_tuner.DesignSpaceTuner` (``--tuner design``).

NNI's arithmetic leaves float noise (``36.400000000000006``) and numpy scalars in what the trial
receives; :func:`decode_parameters` snaps every value to the nearest allowed one with
:meth:`Param.snap` (a no-op on the grid) and says which values moved.

Export and the concurrency bug (nni#5726)
-----------------------------------------
With ``trialConcurrency > 1`` NNI's manager pairs trial jobs with the wrong parameters in its
records (web UI, ``nnictl trial ls``, ``experiment export``, and the ``TrialJobEvent`` rows of the
database). Metrics carry the right parameter id. The export therefore joins
``MetricData.parameterId`` (FINAL) to ``TrialJobEvent.data['parameter_id']`` and, in addition,
prefers the decoded configuration the trial echoes in its final result, checking that both agree.
It reads the sqlite file directly, so stopped experiments export too (``nnictl experiment export``
refuses them).
"""

from __future__ import annotations

import json
import math
import shlex
import sqlite3
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from .budget import Budget
from .spaces import DesignSpace, Param, get_space

#: Tuner names ``regnet-space nni-config --tuner`` accepts (NNI built-ins that work with NNI 3.0
#: on numpy 2, plus our design-space tuner).
TUNERS = ("TPE", "Random", "Evolution", "design")
#: What the trial reports as ``default`` for a sample outside the budget or the space's structural
#: constraints, and for a training that failed: the worst possible top-1 error, as a fraction (the
#: population table's unit), so tuners that cannot know better steer away from such samples.
INFEASIBLE_ERROR = 1.0
#: ``className`` of the design-space tuner (its ``codeDirectory`` is the package's parent).
DESIGN_TUNER_CLASS = "regnet_space.nni_tuner.DesignSpaceTuner"
#: The built-in tuners, as written by nni-config: NNI's own classes with duplicate final results
#: ignored (nni#5798 kills the dispatcher otherwise); see :mod:`regnet_space.nni_tuner`.
BUILTIN_TUNER_CLASSES = {"TPE": "regnet_space.nni_tuner.TolerantTpeTuner",
                         "Random": "regnet_space.nni_tuner.TolerantRandomTuner",
                         "Evolution": "regnet_space.nni_tuner.TolerantEvolutionTuner"}
DEFAULT_EXPERIMENT_DIR = Path("~/nni-experiments")


# ------------------------------------------------------------------------------- search space
def param_spec(p: Param) -> dict:
    """NNI's ``{"_type": ..., "_value": [...]}`` for one parameter (see the module docstring).

    Example:
        >>> param_spec(Param("w0", "log_uniform", 8, 248, 8))
        {'_type': 'qloguniform', '_value': [8, 248, 8]}
        >>> param_spec(Param("g", "power2", 1, 32))
        {'_type': 'choice', '_value': [1, 2, 4, 8, 16, 32]}
    """
    def num(x: float) -> int | float:
        return int(x) if p.is_int else float(x)

    if p.kind == "uniform":
        return {"_type": "quniform", "_value": [num(p.low), num(p.high), num(p.q)]}
    if p.kind == "log_uniform":
        return {"_type": "qloguniform", "_value": [num(p.low), num(p.high), num(p.q)]}
    return {"_type": "choice", "_value": [p.cast(v) for v in p.values()]}


def search_space(space: DesignSpace | str) -> dict:
    """NNI's HPO search-space JSON for a design space, one entry per :class:`Param`.

    Example:
        >>> ss = search_space("regnetx")
        >>> list(ss), ss["d"], ss["b"]
        (['d', 'w0', 'wa', 'wm', 'b', 'g'], {'_type': 'quniform', '_value': [1, 63, 1]}, {'_type': 'choice', '_value': [1, 2, 4]})
    """
    if isinstance(space, str):
        space = get_space(space)
    return {p.name: param_spec(p) for p in space.params}


def _plain(x: Any) -> Any:
    """numpy scalars -> Python numbers (NNI's serializer rejects numpy/torch scalars)."""
    if isinstance(x, np.generic):
        return x.item()
    if hasattr(x, "item") and callable(x.item) and getattr(x, "ndim", 1) == 0:
        return x.item()
    return x


def decode_parameters(space: DesignSpace, parameters: Mapping[str, Any]) -> tuple[dict, list[str]]:
    """A tuner's suggestion -> (the space's exact values, names of the values that moved).

    Each value is snapped to the nearest allowed one (:meth:`Param.snap`); values already on the
    grid (up to float noise) do not count as moved. Missing or unknown names raise ValueError.

    Example:
        >>> vals, moved = decode_parameters(get_space("regnetx"),
        ...     dict(d=13.0, w0=24.0, wa=36.400000000000006, wm=2.49, b=1, g=8))
        >>> vals, moved
        ({'d': 13, 'w0': 24, 'wa': 36.4, 'wm': 2.49, 'b': 1, 'g': 8}, [])
    """
    if not isinstance(parameters, Mapping):
        raise ValueError(f"NNI parameters must be a JSON object, got {type(parameters).__name__}")
    missing = [n for n in space.names if n not in parameters]
    extra = [k for k in parameters if k not in space.names]
    if missing or extra:
        raise ValueError(f"space {space.name} takes parameters {list(space.names)}; the tuner sent "
                         f"{sorted(parameters)} (missing {missing}, unknown {extra}): was the "
                         f"search space generated for another space?")
    values, moved = {}, []
    for p in space.params:
        raw = _plain(parameters[p.name])
        try:
            raw_f = float(raw)
        except (TypeError, ValueError):
            raise ValueError(f"parameter {p.name} = {raw!r} is not a number") from None
        if not math.isfinite(raw_f):
            raise ValueError(f"parameter {p.name} = {raw!r} is not finite")
        values[p.name] = p.snap(raw_f)
        if not p.contains(raw_f):
            moved.append(p.name)
    return values, moved


# ------------------------------------------------------------------------------- config
@dataclass
class ExperimentSpec:
    """What ``regnet-space nni-config`` writes: the space, budget, tuner and trial command."""

    space: DesignSpace
    budget: Budget
    tuner: str = "TPE"
    trials: int = 50
    concurrency: int = 1
    seed: int = 0
    trial_args: Sequence[str] = ()
    experiment_name: str | None = None
    experiment_dir: str | None = None
    population_size: int | None = None
    max_duration: str | None = None
    gpus: int = 0
    python: str = field(default_factory=lambda: sys.executable)


def canonical_tuner(name: str) -> str:
    """The canonical spelling of a tuner name (case-insensitive); ValueError listing the known."""
    for t in TUNERS:
        if str(name).lower() == t.lower():
            return t
    raise ValueError(f"unknown tuner {name!r}; use one of {', '.join(TUNERS)} (Anneal, GP, "
                     f"Hyperband, BOHB, SMAC are broken or need extras with NNI 3.0 here)")


def package_parent() -> Path:
    """The folder holding the ``regnet_space`` package (the custom tuner's ``codeDirectory``)."""
    return Path(__file__).resolve().parent.parent


def tuner_config(spec: ExperimentSpec) -> dict:
    """The ``tuner:`` section for a spec (built-in name + classArgs, or our custom class)."""
    t = canonical_tuner(spec.tuner)
    if t == "design":
        sp = spec.space
        args: dict[str, Any] = {"space": sp.name, "seed": int(spec.seed),
                                "resolution": sp.resolution, "in_channels": sp.in_channels,
                                "num_classes": sp.num_classes, "stem": sp.stem, "block": sp.block}
        for name, (lo, hi) in spec.budget.items():
            args[name] = [lo, hi]
        return {"codeDirectory": str(package_parent()), "className": DESIGN_TUNER_CLASS,
                "classArgs": args}
    if t == "TPE":
        args = {"optimize_mode": "minimize", "seed": int(spec.seed)}
    elif t == "Random":
        args = {"seed": int(spec.seed)}
    else:
        # Evolution: the first population_size trials are random; keep it well above concurrency.
        pop = spec.population_size or max(2 * spec.concurrency, min(32, spec.trials // 2), 2)
        args = {"optimize_mode": "minimize", "population_size": int(pop)}
    # The built-in tuner, through a subclass that survives NNI's duplicate results (nni#5798).
    return {"codeDirectory": str(package_parent()), "className": BUILTIN_TUNER_CLASSES[t],
            "classArgs": args}


def space_arguments(space: DesignSpace) -> list[str]:
    """Trial-command options that rebuild ``space`` (name, block, input) in the trial."""
    base = get_space(space.name)
    out = ["--space", space.name]
    if space.block != base.block:
        out += ["--block", space.block]
    out += ["--space-input", f"{space.resolution},{space.in_channels},{space.num_classes}"]
    return out


def budget_arguments(budget: Budget) -> list[str]:
    out = []
    for name, (lo, hi) in budget.items():
        out += [f"--{name}", f"{'' if lo is None else lo}:{'' if hi is None else hi}"]
    return out


def trial_command(spec: ExperimentSpec) -> str:
    """``<python> -m regnet_space.nni_trial --space ... --flops ... <evaluator options>``."""
    argv = [spec.python, "-m", "regnet_space.nni_trial", *space_arguments(spec.space),
            *budget_arguments(spec.budget), *spec.trial_args]
    return " ".join(shlex.quote(str(a)) for a in argv)


def experiment_config(spec: ExperimentSpec, out_dir: Path) -> dict:
    """The v2 ``config.yml`` content (a dict) for ``nnictl create``."""
    if spec.trials < 1:
        raise ValueError(f"--trials must be >= 1, got {spec.trials}")
    if spec.concurrency < 1:
        raise ValueError(f"--concurrency must be >= 1, got {spec.concurrency}")
    out_dir = Path(out_dir).resolve()
    name = spec.experiment_name or f"{spec.space.name}-{canonical_tuner(spec.tuner)}"
    cfg: dict[str, Any] = {
        "experimentName": name,
        "searchSpaceFile": str(out_dir / "search_space.json"),
        "trialCommand": trial_command(spec),
        "trialCodeDirectory": str(out_dir),
        "trialConcurrency": int(spec.concurrency),
        "maxTrialNumber": int(spec.trials),
        "tuner": tuner_config(spec),
        "trainingService": {"platform": "local", "useActiveGpu": False},
    }
    if spec.gpus:
        cfg["trialGpuNumber"] = int(spec.gpus)
        cfg["trainingService"]["useActiveGpu"] = True
    if spec.max_duration:
        cfg["maxExperimentDuration"] = spec.max_duration
    if spec.experiment_dir:
        cfg["experimentWorkingDirectory"] = str(Path(spec.experiment_dir).expanduser().resolve())
    return cfg


def _yaml(data: Any, indent: int = 0) -> str:
    """A tiny YAML writer for the config (JSON scalars are valid YAML; no PyYAML needed)."""
    pad = "  " * indent
    lines = []
    for k, v in data.items():
        if isinstance(v, dict):
            if not v:
                lines.append(f"{pad}{k}: {{}}")
            else:
                lines.append(f"{pad}{k}:")
                lines.append(_yaml(v, indent + 1))
        else:
            lines.append(f"{pad}{k}: {json.dumps(v)}")
    return "\n".join(lines)


def write_experiment(spec: ExperimentSpec, out_dir: str | Path, *, check_budget: bool = True) -> dict:
    """Write ``search_space.json`` and ``config.yml`` into ``out_dir``; returns their paths.

    Everything is validated first (tuner name, budget reachable in the space via one exact budget
    sample, trial and concurrency counts), so a bad request writes nothing.
    """
    out_dir = Path(out_dir)
    canonical_tuner(spec.tuner)
    if check_budget and not spec.budget.is_empty:
        spec.space.sample_arrays(1, seed=spec.seed, budget=spec.budget, max_draws=2_000_000)
    ss = search_space(spec.space)
    cfg = experiment_config(spec, out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    ss_path, cfg_path = out_dir / "search_space.json", out_dir / "config.yml"
    ss_path.write_text(json.dumps(ss, indent=2) + "\n")
    header = ("# NNI v2 experiment config written by `regnet-space nni-config`.\n"
              f"# Run: nnictl create --config {cfg_path.resolve()} --port 8080\n")
    cfg_path.write_text(header + _yaml(cfg) + "\n")
    return {"search_space": ss_path, "config": cfg_path}


# ------------------------------------------------------------------------------- export
def experiment_db(experiment_id: str, experiment_dir: str | Path | None = None) -> Path:
    """Path of an experiment's ``nni.sqlite``: ``<dir>/<id>/db/nni.sqlite`` (default dir
    ``~/nni-experiments``); ``experiment_dir`` may also be the experiment's own folder or the
    sqlite file itself. FileNotFoundError (saying where it looked) if missing."""
    base = Path(experiment_dir).expanduser() if experiment_dir else DEFAULT_EXPERIMENT_DIR.expanduser()
    candidates = [base / experiment_id / "db" / "nni.sqlite", base / "db" / "nni.sqlite", base]
    for c in candidates:
        if c.is_file():
            return c
    raise FileNotFoundError(f"no NNI database for experiment {experiment_id!r}: looked for "
                            f"{candidates[0]}; pass --experiment-dir (the experimentWorkingDirectory "
                            f"of the experiment's config)")


def _loads_nested(text: Any) -> Any:
    """MetricData.data is JSON inside JSON (a JSON string holding the reported value's JSON)."""
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
        raise ValueError(f"{db_path} is not a readable NNI database: {e}") from None
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
    if "regnet_space.nni_trial" not in argv:
        raise ValueError("this experiment was not created by `regnet-space nni-config` (its trial "
                         f"command does not run regnet_space.nni_trial): {cmd!r}")
    argv = argv[argv.index("regnet_space.nni_trial") + 1:]
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
        raise ValueError(f"cannot find --space in the trial command {cmd!r}")
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
    of :mod:`regnet_space.table`, the space's parameter columns, and ``trial``, ``parameter_id``,
    ``sampler`` (the tuner), ``feasible``, ``train_time_s``, ``images_per_s``, ``epochs``, ``seed``,
    ``dataset``, ``source`` (``nni``), ``study`` (the experiment id), ``consistent`` (the echoed
    configuration equals the decode of the parameters joined by id) and ``message``.
    """
    import pandas as pd

    from .complexity import complexity
    from .config import NetConfig

    db = Path(db_path) if db_path else experiment_db(experiment_id, experiment_dir)
    profile, records = read_experiment(db)
    space_name, opts = _space_from_profile(profile)
    sampler = tuner_name(profile)
    space = _experiment_space(space_name, opts, records)
    rows = []
    running = 0
    for rec in records:
        row: dict[str, Any] = {"trial": rec.trial, "parameter_id": rec.parameter_id}
        final = rec.final if isinstance(rec.final, Mapping) else (
            {"default": float(rec.final)} if isinstance(rec.final, (int, float)) else None)
        joined_cfg, joined_vals, msg = None, None, []
        if rec.parameters:
            try:
                joined_vals, _ = decode_parameters(space, rec.parameters)
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
