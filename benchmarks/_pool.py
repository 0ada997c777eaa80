"""A resumable, time-boxed pool of ``evaluate`` runs on one device, for the measurement scripts.

Each job is plain data (a key, a NetConfig dict, data options, training settings, labels). Rows
are appended to a CSV as runs finish (flushed per row), so an interrupted study resumes where it
stopped: jobs whose key is in the CSV already are skipped. Unlike ``_jobs.run_jobs`` the pool
works on CUDA as well (each worker process holds one CUDA context and loads the data once), keeps
per-epoch curves and epoch times, stops *submitting* at a deadline and records the time window of
every run, which is what the population-factory throughput is computed from.

    rows = run_pool(jobs, Path("out.csv"), workers=8, device="cuda", deadline=time.time() + 300)
"""

from __future__ import annotations

import csv
import json
import multiprocessing as mp
import os
import sys
import time
from pathlib import Path
from typing import Any, Iterable

#: One row per run. Lists (curves, epoch times) are JSON text; the config is canonical JSON.
FIELDS = ("key", "space", "model", "config", "recipe", "seed", "status", "error", "test_error",
          "val_error", "eval_error", "eval_loss", "train_loss", "epoch_time", "epochs",
          "train_size", "val_size", "test_size", "flops", "params", "acts", "device",
          "device_name", "cpu_capability", "torch_version", "package_version", "git_commit",
          "amp", "channels_last", "threads", "workers", "wall_time", "train_time", "t_start",
          "t_end", "reason")

_STATE: dict = {}

from _jobs import _data  # noqa: E402  (one data set in memory per worker)


def _init(device: str, threads: int) -> None:
    import torch

    torch.set_num_threads(threads)
    os.environ.setdefault("OMP_NUM_THREADS", str(threads))
    _STATE["device"] = device
    _STATE["threads"] = threads
    if device.startswith("cuda"):
        torch.zeros(1, device=device).sum().item()  # the CUDA context, before any timing


def _num(v) -> Any:
    return "" if v is None else v


def run_one(job: dict) -> dict:
    """Train one job in this process; the CSV row (see :data:`FIELDS`)."""
    from regnet_space.training import evaluate

    data = _data(job["data"])
    device = _STATE.get("device", job["settings"].get("device", "cpu"))
    settings = {**job["settings"], "device": device}
    if device == "cpu":  # the worker's thread count, recorded (results depend on it on CPU)
        settings.setdefault("threads", _STATE.get("threads", 1))
    t0 = time.time()
    r = evaluate(job["config"], data, settings, progress=False)
    t1 = time.time()
    s = r.settings
    return {
        "key": job["key"], "space": job.get("space", ""), "model": job.get("model", ""),
        "config": json.dumps(r.config, sort_keys=True), "recipe": job.get("recipe", s["preset"]),
        "seed": s["seed"], "status": r.status, "error": _num(r.error),
        "test_error": _num(r.test_error), "val_error": _num(r.val_error),
        "eval_error": json.dumps(r.eval_error), "eval_loss": json.dumps(r.eval_loss),
        "train_loss": json.dumps(r.train_loss),
        "epoch_time": json.dumps([round(t, 4) for t in r.epoch_time]),
        "epochs": r.epochs, "train_size": len(data.train),
        "val_size": len(data.val) if data.val is not None else 0, "test_size": len(data.test),
        "flops": r.flops, "params": r.params, "acts": r.acts, "device": r.device,
        "device_name": _num(getattr(r, "device_name", None)),
        "cpu_capability": _num(getattr(r, "cpu_capability", None)),
        "torch_version": _num(getattr(r, "torch_version", None)),
        "package_version": _num(getattr(r, "package_version", None)),
        "git_commit": _num(getattr(r, "git_commit", None)),
        "amp": s["amp"], "channels_last": s["channels_last"], "threads": r.threads,
        "workers": job.get("workers", ""), "wall_time": round(r.wall_time, 3),
        "train_time": round(r.train_time, 3), "t_start": round(t0, 3), "t_end": round(t1, 3),
        "reason": r.reason or "",
    }


def read_rows(path: Path) -> list[dict[str, str]]:
    """The rows of a pool CSV ([] when it does not exist)."""
    if not Path(path).is_file():
        return []
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def run_pool(jobs: Iterable[dict], out: Path, *, workers: int = 2, device: str = "cpu",
             threads: int = 1, deadline: float | None = None, quiet: bool = False
             ) -> list[dict]:
    """Run the jobs not yet in ``out`` on ``workers`` processes; the new rows.

    No job starts after ``deadline`` (a ``time.time()`` value); runs already started finish.
    """
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    have = {r["key"] for r in read_rows(out)}
    todo = [j for j in jobs if j["key"] not in have]
    if not quiet:
        print(f"{out}: {len(have)} done, {len(todo)} to run on {workers} worker(s) on {device}",
              file=sys.stderr, flush=True)
    if not todo:
        return []
    new = not out.is_file() or out.stat().st_size == 0
    ctx = mp.get_context("spawn")
    rows: list[dict] = []
    with open(out, "a", newline="") as f, ctx.Pool(workers, initializer=_init,
                                                   initargs=(device, threads)) as pool:
        w = csv.DictWriter(f, FIELDS)
        if new:
            w.writeheader()
        pending: list = []
        it = iter(todo)
        exhausted = False
        while pending or not exhausted:
            while not exhausted and len(pending) < 2 * workers:
                if deadline is not None and time.time() > deadline:
                    exhausted = True
                    break
                job = next(it, None)
                if job is None:
                    exhausted = True
                    break
                pending.append(pool.apply_async(run_one, ({**job, "workers": workers},)))
            done = [p for p in pending if p.ready()]
            for p in done:
                pending.remove(p)
                row = p.get()
                w.writerow(row)
                f.flush()
                rows.append(row)
                if not quiet:
                    print(f"{row['key']}: {row['status']} {row['error']} "
                          f"({row['wall_time']} s)", file=sys.stderr, flush=True)
            if not done:
                time.sleep(0.05)
    return rows


def throughput(rows: list[dict]) -> dict:
    """Models per hour over the window from the first start to the last end of ``rows``."""
    if not rows:
        return {"models": 0, "window_s": 0.0, "models_per_hour": 0.0}
    t0 = min(float(r["t_start"]) for r in rows)
    t1 = max(float(r["t_end"]) for r in rows)
    ok = sum(r["status"] == "ok" for r in rows)
    return {"models": len(rows), "ok": ok, "window_s": round(t1 - t0, 2),
            "models_per_hour": round(3600 * len(rows) / max(t1 - t0, 1e-9), 1),
            "mean_wall_s": round(sum(float(r["wall_time"]) for r in rows) / len(rows), 2)}
