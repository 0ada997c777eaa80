"""A resumable pool of brief-training jobs for the recipe studies (recipe sweep, rank fidelity).

Each job is one ``evaluate`` call described by plain data (a NetConfig dict, data options and
training settings) under a unique key. Results are appended to a CSV as they finish, so an
interrupted study resumes where it stopped: jobs whose key is already in the CSV are skipped.
Workers are processes with one thread each (the fastest way to fill a busy 2-core machine; see
BENCHMARKS.md), and each loads the data set once per distinct data option set.
"""

from __future__ import annotations

import csv
import json
import multiprocessing as mp
import os
import sys
from pathlib import Path
from typing import Any, Iterable

FIELDS = ("key", "group", "space", "model", "recipe", "status", "error", "final_train_loss",
          "max_eval_loss", "epochs", "train_size", "test_size", "val_size", "lr", "weight_decay",
          "batch_size", "warmup", "init", "seed", "flops", "params", "wall_time", "config",
          "reason")

_DATA: dict = {}


def _data(opts: dict):
    from regnet_space.training import load_data

    key = json.dumps(opts, sort_keys=True)
    if key not in _DATA:
        _DATA.clear()  # one data set in memory per worker
        _DATA[key] = load_data(**opts)
    return _DATA[key]


def _run(job: dict) -> dict:
    import torch

    from regnet_space.training import evaluate

    torch.set_num_threads(1)
    data = _data(job["data"])
    r = evaluate(job["config"], data, job["settings"], progress=False)
    s = r.settings
    return {
        "key": job["key"], "group": job.get("group", ""), "space": job.get("space", ""),
        "model": job.get("model", ""), "recipe": job.get("recipe", ""), "status": r.status,
        "error": "" if r.error is None else r.error,
        "final_train_loss": r.train_loss[-1] if r.train_loss else "",
        "max_eval_loss": max(r.eval_loss) if r.eval_loss else "",
        "epochs": s["epochs"], "train_size": len(data.train), "test_size": len(data.test),
        "val_size": len(data.val) if data.val is not None else 0, "lr": s["lr"],
        "weight_decay": s["weight_decay"], "batch_size": s["batch_size"], "warmup": s["warmup"],
        "init": s["init"], "seed": s["seed"], "flops": r.flops, "params": r.params,
        "wall_time": round(r.wall_time, 2), "config": json.dumps(r.config, sort_keys=True),
        "reason": r.reason or "",
    }


def read_rows(path: Path) -> list[dict[str, Any]]:
    """The rows of a results CSV (a missing header line is tolerated)."""
    if not Path(path).is_file():
        return []
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f, fieldnames=FIELDS))
    return [r for r in rows if r["key"] != "key"]


#: The spaces the populations compare (the paper's Figure 9): every study's model panel.
SPACES = ("regnetx", "anynetx_a", "anynetx_e")


def panel(per_space: int, seed: int, spaces=SPACES) -> list[tuple[str, str, dict]]:
    """(space, model name, NetConfig dict) for ``per_space`` samples of each space at 2-5 MF
    (28x28 Fashion-MNIST input), drawn from the paper's distribution with ``seed``."""
    from regnet_space.spaces import get_space

    out = []
    for name in spaces:
        space = get_space(name, resolution=28, in_channels=1, num_classes=10)
        for i, s in enumerate(space.sample(per_space, seed=seed, flops="2M:5M")):
            out.append((name, f"{name}-{i}", s.config.to_dict()))
    return out


def done_keys(path: Path) -> set[str]:
    return {row["key"] for row in read_rows(path)}


def run_jobs(jobs: Iterable[dict], out: Path, workers: int = 2) -> None:
    """Run the jobs not yet in ``out`` on ``workers`` processes, appending rows as they finish."""
    from tqdm.auto import tqdm

    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    have = done_keys(out)
    todo = [j for j in jobs if j["key"] not in have]
    print(f"{out}: {len(have)} done, {len(todo)} to run on {workers} worker(s)", file=sys.stderr)
    if not todo:
        return
    new = not out.is_file() or out.stat().st_size == 0
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    ctx = mp.get_context("spawn")
    with open(out, "a", newline="") as f, ctx.Pool(workers, maxtasksperchild=200) as pool:
        w = csv.DictWriter(f, FIELDS)
        if new:
            w.writeheader()
        bar = tqdm(total=len(todo), unit="run", file=sys.stderr, mininterval=5,
                   disable=None if sys.stderr.isatty() else False)
        for row in pool.imap_unordered(_run, todo):
            w.writerow(row)
            f.flush()
            bar.update(1)
            if not sys.stderr.isatty():
                bar.write(f"{row['key']}: {row['status']} {row['error']} ({row['wall_time']} s)")
        bar.close()

