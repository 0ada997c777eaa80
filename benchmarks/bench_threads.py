"""Throughput of brief training when workers share a small machine: threads x workers.

The same panel of models (6 from RegNetX and AnyNetX_A at 2-5 MF, 28x28 Fashion-MNIST, the brief
recipe on a 2,000-image subset for one epoch) is trained under each layout, and every layout's
models per hour are printed as a ratio to the first one, measured in the same run:

* ``1 worker x N threads``: one process, all cores for each model (what ``train`` does);
* ``N workers x 1 thread``: one process per core (``sweep --threads 1`` run N times);
* ``N workers x N threads``: every worker takes all cores (the default ``threads`` of several
  sweep workers on one machine): oversubscription, where OpenMP threads spin-wait for cores other
  workers hold;
* the same with ``OMP_WAIT_POLICY=PASSIVE`` (OpenMP threads sleep instead of spinning);
* one model with and without flushing denormals to zero (``torch.set_flush_denormal``).

Run on an otherwise idle machine:

    .venv/bin/python benchmarks/bench_threads.py
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

WORKER = r"""
import json, sys, time, torch
from regnet_space.training import evaluate, load_data
cfgs, threads = json.loads(sys.argv[1]), int(sys.argv[2])
data = load_data("fashion-mnist", train_size=2000, test_size=500, seed=0)
t = time.perf_counter()
for c in cfgs:
    r = evaluate(c, data, epochs=1, threads=threads, progress=False)
    assert r.status == "ok", r.reason
print(json.dumps({"seconds": time.perf_counter() - t, "models": len(cfgs)}))
"""


def panel() -> list[dict]:
    from regnet_space.spaces import get_space

    out = []
    for name in ("regnetx", "anynetx_a"):
        space = get_space(name, resolution=28, in_channels=1, num_classes=10)
        out += [s.config.to_dict() for s in space.sample(3, seed=5, flops="2M:5M")]
    return out


def layout(cfgs: list[dict], workers: int, threads: int, env: dict | None = None) -> float:
    """Models per hour with ``workers`` processes of ``threads`` threads sharing the panel."""
    chunks = [cfgs[i::workers] for i in range(workers)]
    t = time.perf_counter()
    procs = [subprocess.Popen([sys.executable, "-c", WORKER, json.dumps(c), str(threads)],
                              stdout=subprocess.PIPE, text=True, env={**os.environ, **(env or {})})
             for c in chunks]
    for p in procs:
        out, _ = p.communicate()
        if p.returncode:
            raise SystemExit(f"worker failed: {out}")
    return len(cfgs) / (time.perf_counter() - t) * 3600


def denormals(cfg: dict, repeats: int = 3) -> tuple[float, float]:
    """Best-of-``repeats`` seconds for one model with and without flush-to-zero (threads 1, same
    seed), after a warm-up run, alternating the two so drift hits both alike."""
    import contextlib

    import torch

    from regnet_space.training import evaluate, load_data
    from regnet_space.training import evaluator as ev

    data = load_data("fashion-mnist", train_size=2000, test_size=500, seed=0)
    original = ev._cpu_setup

    @contextlib.contextmanager
    def no_flush(device, threads):  # the evaluator's setup without flush-to-zero
        torch.set_flush_denormal(False)
        old = torch.get_num_threads()
        torch.set_num_threads(threads or 1)
        try:
            yield threads or 1
        finally:
            torch.set_num_threads(old)

    def timed(setup) -> float:
        ev._cpu_setup = setup
        try:
            t = time.perf_counter()
            evaluate(cfg, data, epochs=1, threads=1, progress=False)
            return time.perf_counter() - t
        finally:
            ev._cpu_setup = original

    timed(original)  # warm-up: first-call allocations and kernel selection
    flushed, plain = [], []
    for _ in range(repeats):
        flushed.append(timed(original))
        plain.append(timed(no_flush))
    return min(flushed), min(plain)


def main() -> None:
    from regnet_space.training.cpu import available_cpus

    n = available_cpus()
    cfgs = panel()
    rows = [(f"1 worker x {n} threads", layout(cfgs, 1, n)),
            (f"{n} workers x 1 thread", layout(cfgs, n, 1)),
            (f"{n} workers x {n} threads", layout(cfgs, n, n)),
            (f"{n} workers x {n} threads, OMP_WAIT_POLICY=PASSIVE",
             layout(cfgs, n, n, {"OMP_WAIT_POLICY": "PASSIVE"})),
            (f"{n} workers x 1 thread, OMP_WAIT_POLICY=PASSIVE",
             layout(cfgs, n, 1, {"OMP_WAIT_POLICY": "PASSIVE"}))]
    base = rows[0][1]
    print(f"{len(cfgs)} models, 1 epoch on 2,000 Fashion-MNIST images each, {n} cores\n")
    print("| layout | models/hour | ratio |")
    print("|---|---|---|")
    for name, rate in rows:
        print(f"| {name} | {rate:,.0f} | {rate / base:.2f} |")
    flushed, plain = denormals(cfgs[0])
    print(f"\ndenormals: one model {plain:.2f} s without flush-to-zero, {flushed:.2f} s with "
          f"(ratio {plain / flushed:.2f})")


if __name__ == "__main__":
    main()
