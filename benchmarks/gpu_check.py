"""The GPU check: speed, the population factory and multi-seed data on one CUDA device, one run.

Device time is short, so one command does everything and writes each phase's files into
``--out`` as the phase ends (a failing phase is reported in ``phases.json`` and the next one
runs). ``--tiny`` runs every phase end to end on the CPU in a few minutes, which is how the script
is tested before it meets a GPU.

Phases:

* ``env``: device, driver, torch, whether CUDA MPS could be started -> ``env.json``.
* ``speed``: training images/s of the default recipe (second epoch, so cuDNN autotuning and
  compilation are excluded; they are reported separately as the first epoch's extra time) for
  1.4, 5 and 9.6 MF networks at 28 px and RegNetX-200MF / RegNetX-4.0GF at 224 px (synthetic
  data), in fp32, fp32 channels-last (TF32), bf16, bf16 channels-last (the default), compiled and
  CUDA-graphed, with GPU utilisation; the step time at batch 32 against batch 2 and against a
  CUDA-graph replay (what the GPU alone needs) -> ``speed.csv``.
* ``factory``: 1, 2, 4, 8, 16 concurrent trainings (processes sharing the GPU; again under CUDA
  MPS when it starts) of brief models from the committed regime -> ``factory.csv``. Its models are
  the next runs of the noise study, so nothing trained is thrown away.
* ``noise``: the rest of the noise study (benchmarks/noise.py: RegNetX, AnyNetX_A, AnyNetX_E,
  24 models x 3 default seeds, then 2 reference seeds), first the 8 RegNetX models x 3 seeds that
  the CPU/GPU agreement compares, at the fastest concurrency, until ``--minutes`` are used up
  -> ``noise_gpu.csv``.
* ``sweep``: the product path, ``regnet-space sweep --device cuda --workers-per-device N``
  end to end into a SQLite study, exported -> ``sweep.json``, ``sweep.csv``.

Run on the GPU machine (from the repository root; nothing is installed):

    python benchmarks/gpu_check.py --out OUT --minutes 6

and on the CPU: ``.venv/bin/python benchmarks/gpu_check.py --tiny --out /tmp/gpu-tiny``.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import os
import shutil
import subprocess
import sys
import threading
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import noise  # noqa: E402
from _pool import read_rows, run_pool, throughput  # noqa: E402

from regnet_space.files import atomic_write  # noqa: E402

LEVELS = (1, 2, 4, 8, 16)


def write_json(path: Path, obj) -> None:
    atomic_write(path, json.dumps(obj, indent=1, default=str))


def write_csv(path: Path, rows: list[dict]) -> None:
    if not rows:
        return
    keys = list(dict.fromkeys(k for r in rows for k in r))

    def write(tmp: Path) -> None:
        with open(tmp, "w", newline="") as f:
            w = csv.DictWriter(f, keys)
            w.writeheader()
            w.writerows(rows)
    atomic_write(path, write)


# ------------------------------------------------------------------------------------ env / MPS
def start_mps(out: Path) -> bool:
    """Start the CUDA MPS daemon (True when it answers)."""
    ctl = shutil.which("nvidia-cuda-mps-control")
    if not ctl:
        return False
    pipe = out / "mps"
    pipe.mkdir(exist_ok=True)
    env = {**os.environ, "CUDA_MPS_PIPE_DIRECTORY": str(pipe), "CUDA_MPS_LOG_DIRECTORY": str(pipe)}
    try:
        subprocess.run([ctl, "-d"], env=env, timeout=20, check=True, capture_output=True)
        time.sleep(1)
        r = subprocess.run([ctl], input="get_server_list\n", env=env, text=True, timeout=10,
                           capture_output=True)
    except (OSError, subprocess.SubprocessError):
        return False
    if r.returncode == 0:
        os.environ["CUDA_MPS_PIPE_DIRECTORY"] = str(pipe)
        os.environ["CUDA_MPS_LOG_DIRECTORY"] = str(pipe)
        return True
    return False


def stop_mps() -> None:
    ctl = shutil.which("nvidia-cuda-mps-control")
    if ctl and os.environ.get("CUDA_MPS_PIPE_DIRECTORY"):
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            subprocess.run([ctl], input="quit\n", text=True, timeout=20, capture_output=True)
        time.sleep(1)
        os.environ.pop("CUDA_MPS_PIPE_DIRECTORY", None)
        os.environ.pop("CUDA_MPS_LOG_DIRECTORY", None)


def env_info(device: str) -> dict:
    import torch

    info = {"torch": torch.__version__, "device": device, "cuda": torch.cuda.is_available(),
            "cpus": os.cpu_count(), "python": sys.version.split()[0],
            "cpu_capability": torch.backends.cpu.get_cpu_capability()}
    if torch.cuda.is_available():
        p = torch.cuda.get_device_properties(0)
        info.update(name=p.name, memory_gib=round(p.total_memory / 2 ** 30, 1),
                    sms=p.multi_processor_count, cuda_version=torch.version.cuda,
                    cudnn=torch.backends.cudnn.version())
        with contextlib.suppress(Exception):
            info["driver"] = subprocess.run(
                ["nvidia-smi", "--query-gpu=driver_version", "--format=csv,noheader"],
                capture_output=True, text=True, timeout=20).stdout.strip()
    info["mps_control"] = shutil.which("nvidia-cuda-mps-control")
    return info


class Utilisation:
    """GPU utilisation (percent) sampled every 50 ms in a thread while the block runs."""

    def __init__(self) -> None:
        self.samples: list[int] = []
        self._stop = threading.Event()

    def __enter__(self):
        import torch

        if torch.cuda.is_available():
            try:
                torch.cuda.utilization()
            except Exception:  # noqa: BLE001 - no NVML: no samples
                return self
            self._t = threading.Thread(target=self._run, daemon=True)
            self._t.start()
        return self

    def _run(self) -> None:
        import torch

        while not self._stop.is_set():
            self.samples.append(int(torch.cuda.utilization()))
            time.sleep(0.05)

    def __exit__(self, *exc) -> None:
        self._stop.set()

    @property
    def mean(self):
        return round(sum(self.samples) / len(self.samples), 1) if self.samples else ""


# ------------------------------------------------------------------------------------ speed
def speed_models(tiny: bool) -> list[tuple[str, object, dict]]:
    """(name, NetConfig, data options) of the speed table."""
    from bench_evaluator import models

    from regnet_space.zoo import get_config

    small = [(k, v, dict(name="synthetic", resolution=28, in_channels=1, num_classes=10))
             for k, v in models().items()]
    res = 32 if tiny else 224
    big = [(f"{n} ({res} px)", get_config(n).with_input(res, in_channels=3, num_classes=10),
            dict(name="synthetic", resolution=res, in_channels=3, num_classes=10))
           for n in ("RegNetX-200MF", "RegNetX-4.0GF")]
    return small + big


MODES = {  # name -> evaluate overrides
    "fp32": dict(amp=False, channels_last=False),
    "fp32 channels-last": dict(amp=False, channels_last=True),
    "bf16": dict(amp=True, channels_last=False),
    "bf16 channels-last": dict(amp=True, channels_last=True),
    "bf16 channels-last, no cuDNN autotuning": dict(amp=True, channels_last=True,
                                                    cudnn_benchmark=False),
    "bf16 channels-last compiled": dict(amp=True, channels_last=True, compile=True),
}


def graph_step(cfg, batch: int, device: str, steps: int, amp: bool = True) -> float:
    """Seconds per training step (forward, backward, fused SGD) replayed from one CUDA graph:
    what the GPU needs without Python or kernel-launch overhead (fixed lr; synthetic batch)."""
    import torch

    from regnet_space.nn import build_model

    torch.manual_seed(0)
    model = build_model(cfg).to(device).to(memory_format=torch.channels_last)
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, weight_decay=5e-4,
                          fused=True)
    x = torch.randn(batch, cfg.in_channels, cfg.resolution, cfg.resolution, device=device
                    ).contiguous(memory_format=torch.channels_last)
    y = torch.randint(0, cfg.num_classes, (batch,), device=device)
    loss_fn = torch.nn.CrossEntropyLoss()
    ac = (lambda: torch.autocast("cuda", dtype=torch.bfloat16, cache_enabled=False)) if amp \
        else contextlib.nullcontext

    def step():
        with ac():
            loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        return loss

    s = torch.cuda.Stream()
    s.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(s):
        for _ in range(3):
            opt.zero_grad(set_to_none=True)
            step()
    torch.cuda.current_stream().wait_stream(s)
    g = torch.cuda.CUDAGraph()
    opt.zero_grad(set_to_none=True)
    with torch.cuda.graph(g):
        step()
    for _ in range(5):
        g.replay()
    torch.cuda.synchronize()
    t = time.perf_counter()
    for _ in range(steps):
        g.replay()
    torch.cuda.synchronize()
    return (time.perf_counter() - t) / steps


def phase_speed(out: Path, device: str, tiny: bool) -> list[dict]:
    import torch

    from regnet_space.training import evaluate, load_data

    rows = []
    cuda = device.startswith("cuda")
    for name, cfg, dopts in speed_models(tiny):
        big = cfg.resolution > 64
        steps = 8 if tiny else (60 if big else 200)
        data = load_data(**dopts, train_size=32 * steps, test_size=64)
        modes = dict(MODES)
        if not cuda:
            modes = {k: v for k, v in modes.items() if not v.get("amp")}
        if not name.startswith(("X (5 MF)", "RegNetX-200MF")):  # compile costs ~a minute each
            modes.pop("bf16 channels-last compiled", None)
        for mode, over in modes.items():
            row = {"model": name, "mode": mode, "batch": 32, "flops": 0}
            try:
                with Utilisation() as u:
                    r = evaluate(cfg, data, epochs=2, device=device, progress=False, adapt=True,
                                 threads=1 if not cuda else None, diverge_factor=1e6, **over)
                if len(r.epoch_time) < 2:
                    raise RuntimeError(f"{r.status}: {r.reason}")
                row.update(flops=r.flops, status=r.status,
                           images_per_s=round(steps * 32 / r.epoch_time[-1], 1),
                           step_ms=round(1000 * r.epoch_time[-1] / steps, 3),
                           first_epoch_extra_s=round(r.epoch_time[0] - r.epoch_time[-1], 2),
                           gpu_util=u.mean)
            except Exception as e:  # noqa: BLE001 - a mode that does not apply is reported
                row.update(status="error", reason=f"{type(e).__name__}: {e}"[:300])
            rows.append(row)
            print("speed", json.dumps(row), file=sys.stderr, flush=True)
            write_csv(out / "speed.csv", rows)
        if cuda:
            for batch in (2, 32):  # launch-bound check: the eager step at batch 2 vs 32
                try:
                    r = evaluate(cfg, load_data(**dopts, train_size=batch * steps, test_size=64),
                                 epochs=2, device=device, progress=False, adapt=True,
                                 batch_size=batch, diverge_factor=1e6)
                    eager = r.epoch_time[-1] / steps
                    graph = graph_step(cfg.with_input(dopts["resolution"], in_channels=dopts[
                        "in_channels"], num_classes=10), batch, device, steps)
                    rows.append({"model": name, "mode": "CUDA graph (fixed lr)", "batch": batch,
                                 "flops": r.flops, "status": "ok",
                                 "images_per_s": round(batch / graph, 1),
                                 "step_ms": round(1000 * graph, 3),
                                 "eager_step_ms": round(1000 * eager, 3)})
                except Exception as e:  # noqa: BLE001
                    rows.append({"model": name, "mode": "CUDA graph (fixed lr)", "batch": batch,
                                 "status": "error", "reason": f"{type(e).__name__}: {e}"[:300]})
                print("speed", json.dumps(rows[-1]), file=sys.stderr, flush=True)
                write_csv(out / "speed.csv", rows)
        torch.cuda.empty_cache() if cuda else None
    return rows


# ------------------------------------------------------------------------------------ factory
def noise_jobs(tiny: bool) -> list[dict]:
    """The noise study's runs, the CPU/GPU agreement block (RegNetX 0-7 x seeds 0-2) first."""
    if tiny:
        js = noise.jobs(3, 2, 1, test_size=200, train_size={"3ep-10k": 256, "reference": 256},
                        epochs={"3ep-10k": 1, "reference": 2})
    else:
        js = noise.jobs(24, 3, 2)
    agree = {f"regnetx-{i}" for i in range(8)}
    first = [j for j in js if j["recipe"] == "3ep-10k" and j["model"] in agree]
    return first + [j for j in js if j not in first]


def phase_factory(out: Path, device: str, tiny: bool, levels, deadline: float,
                  mps: bool) -> list[dict]:
    jobs = [j for j in noise_jobs(tiny) if j["recipe"] == "3ep-10k"]
    runs = out / "noise_gpu.csv"
    done = {r["key"] for r in read_rows(runs)}
    todo = [j for j in jobs if j["key"] not in done]
    rows = []
    plan = [(c, False) for c in levels] + ([(c, True) for c in levels if c >= 8] if mps else [])
    for c, with_mps in plan:
        if time.time() > deadline:
            break
        if with_mps and not os.environ.get("CUDA_MPS_PIPE_DIRECTORY"):
            if not start_mps(out):
                break
        n = (3 if c == 1 else 2 * c) if not tiny else c
        batch, todo = todo[:n], todo[n:]
        if not batch:
            break
        t = time.time()
        new = run_pool(batch, runs, workers=c, device=device, deadline=deadline, quiet=True)
        row = {"concurrency": c, "mps": with_mps, "pool_s": round(time.time() - t, 1),
               **throughput(new)}
        rows.append(row)
        print("factory", json.dumps(row), file=sys.stderr, flush=True)
        write_csv(out / "factory.csv", rows)
    stop_mps()
    return rows


def best_level(factory: list[dict]) -> tuple[int, bool]:
    ok = [r for r in factory if r.get("models")]
    if not ok:
        return 4, False
    b = max(ok, key=lambda r: r["models_per_hour"])
    return int(b["concurrency"]), bool(b["mps"])


def phase_noise(out: Path, device: str, tiny: bool, workers: int, mps: bool,
                deadline: float) -> dict:
    if mps:
        mps = start_mps(out)
    t = time.time()
    new = run_pool(noise_jobs(tiny), out / "noise_gpu.csv", workers=workers, device=device,
                   deadline=deadline, quiet=False)
    stop_mps()
    res = {"workers": workers, "mps": mps, "pool_s": round(time.time() - t, 1), **throughput(new)}
    res["summary"] = noise.summary(read_rows(out / "noise_gpu.csv"))
    write_json(out / "noise_summary.json", res)
    return res


# ------------------------------------------------------------------------------------ sweep
def phase_sweep(out: Path, device: str, tiny: bool, workers: int) -> dict:
    """The product path: ``regnet-space sweep --workers-per-device N`` into SQLite, exported."""
    db = out / "sweep.db"
    trials = 4 if tiny else 4 * workers
    extra = ["--train-size", "256", "--test-size", "200", "--epochs", "1"] if tiny else []
    cmd = [sys.executable, "-m", "regnet_space", "sweep", "--space", "regnetx", "--flops",
           "2M:5M", "--trials", str(trials), "--storage", f"sqlite:///{db}", "--study", "factory",
           "--device", device, "--workers-per-device", str(workers), "--threads", "1", *extra]
    t = time.time()
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    wall = time.time() - t
    exp = subprocess.run([sys.executable, "-m", "regnet_space", "export", "--storage",
                          f"sqlite:///{db}", "--study", "factory", "--out", str(out / "sweep.csv")],
                         capture_output=True, text=True, timeout=300)
    res = {"cmd": " ".join(cmd[1:]), "rc": p.returncode, "wall_s": round(wall, 1),
           "trials": trials, "workers": workers,
           "models_per_hour_incl_startup": round(3600 * trials / wall, 1),
           "stdout": p.stdout[-2000:], "stderr": p.stderr[-4000:], "export_rc": exp.returncode,
           "export_err": exp.stderr[-1000:]}
    with contextlib.suppress(Exception):
        import pandas as pd

        t = pd.read_csv(out / "sweep.csv")
        res.update(rows=len(t), status=t["status"].value_counts().to_dict(),
                   duplicates=int(t.duplicated("config").sum()) if "config" in t else None)
    write_json(out / "sweep.json", res)
    db.unlink(missing_ok=True)
    return res


# ------------------------------------------------------------------------------------ main
def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", required=True, help="folder for the results")
    ap.add_argument("--minutes", type=float, default=6.0, help="time box of the whole check: no "
                    "phase or run starts after it (runs under way finish)")
    ap.add_argument("--tiny", action="store_true", help="CPU smoke run with tiny sizes")
    ap.add_argument("--phases", default="env,speed,factory,noise,sweep")
    ap.add_argument("--levels", default=",".join(map(str, LEVELS)))
    args = ap.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.time()
    deadline = t0 + 60 * args.minutes
    import torch

    device = "cuda" if torch.cuda.is_available() and not args.tiny else "cpu"
    levels = [int(c) for c in args.levels.split(",")]
    if args.tiny:
        levels = [c for c in levels if c <= 2]
    phases = args.phases.split(",")
    status: dict = {}
    factory: list[dict] = []
    mps = False

    def run(name, fn):
        if name not in phases:
            return None
        if time.time() > deadline and name != "env":
            status[name] = "skipped: time box used up"
            write_json(out / "phases.json", status)
            return None
        t = time.time()
        print(f"== phase {name} ({t - t0:.0f} s in)", file=sys.stderr, flush=True)
        try:
            r = fn()
            status[name] = f"ok in {time.time() - t:.1f} s"
            return r
        except Exception:  # noqa: BLE001 - the next phase runs; the trace comes back
            status[name] = "failed: " + traceback.format_exc()[-3000:]
            print(status[name], file=sys.stderr, flush=True)
            return None
        finally:
            write_json(out / "phases.json", status)

    info = run("env", lambda: env_info(device)) or {}
    if "env" in phases:
        write_json(out / "env.json", info)
    run("speed", lambda: phase_speed(out, device, args.tiny))
    # the factory and noise phases leave time for the sweep (about a minute)
    work_end = deadline - (60 if "sweep" in phases and not args.tiny else 0)
    if "factory" in phases and info.get("mps_control") and device == "cuda":
        mps = True
    factory = run("factory", lambda: phase_factory(out, device, args.tiny, levels, work_end,
                                                   mps)) or []
    workers, use_mps = best_level(factory)
    run("noise", lambda: phase_noise(out, device, args.tiny, workers, use_mps, work_end))
    sweep_workers = min(workers, 2) if args.tiny else workers
    run("sweep", lambda: phase_sweep(out, device, args.tiny, sweep_workers))
    status["total_s"] = round(time.time() - t0, 1)
    write_json(out / "phases.json", status)
    print(json.dumps(status, indent=1)[:4000], file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
