"""The CUDA path of the evaluator and the sweep, on a real GPU (``pytest -m gpu``).

Collected everywhere; on a machine without CUDA every test here is reported as skipped with the
reason "needs CUDA", never as passed. benchmarks/gpu_check.sh runs them on the GPU machine.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import torch

from regnet_space.config import NetConfig
from regnet_space.training import evaluate, load_data
from regnet_space.training.data import augment

pytestmark = [pytest.mark.gpu, pytest.mark.skipif(
    not torch.cuda.is_available(), reason="needs CUDA: run on a GPU machine (pytest -m gpu)")]

NET = dict(stem="small", resolution=28, in_channels=1, num_classes=10)
TINY = NetConfig.from_lists([1, 1], [16, 32], gs=8, stem_w=16, **NET)


def _data(**kw):
    return load_data("synthetic", **{"train_size": 512, "test_size": 256, **kw})


def _recording(records: list):
    """A builder whose model records (dtype, channels-last?) of its first stage's output."""
    from regnet_space.nn import build_model

    def build(cfg):
        m = build_model(cfg)
        stage = list(m.children())[1]
        stage.register_forward_hook(lambda mod, i, o: records.append(
            (o.dtype, o.is_contiguous(memory_format=torch.channels_last) and not o.is_contiguous(),
             o.device.type)))
        return m
    return build


def test_device_data_lives_on_the_gpu_and_batches_are_made_there():
    dev = _data().on("cuda")
    assert dev.train_x.is_cuda and dev.train_y.is_cuda
    assert all(x.is_cuda and y.is_cuda for x, y in dev.eval_splits.values())
    g = torch.Generator(device="cuda").manual_seed(0)
    idx = torch.arange(32, device="cuda")
    x = augment(dev, idx, g)
    assert x.is_cuda and x.dtype == torch.float32 and x.shape == (32, 1, 28, 28)


@pytest.mark.parametrize("amp", [True, False])
def test_bf16_autocast_is_used_exactly_when_asked_and_the_run_learns(amp):
    rec: list = []
    r = evaluate(TINY, _data(), epochs=2, device="cuda", amp=amp, builder=_recording(rec),
                 progress=False)
    assert r.status == "ok" and r.device.startswith("cuda")
    train_dtypes = {d for d, _, _ in rec}
    assert train_dtypes == ({torch.bfloat16} if amp else {torch.float32})
    assert r.error < 0.5  # the synthetic set is learnable; chance is 0.9


@pytest.mark.parametrize("channels_last", [True, False])
def test_channels_last_is_the_memory_format_of_the_activations(channels_last):
    rec: list = []
    r = evaluate(TINY, _data(), epochs=1, device="cuda", channels_last=channels_last,
                 builder=_recording(rec), progress=False)
    assert r.status == "ok"
    assert {cl for _, cl, _ in rec} == {channels_last}


def test_torch_compile_trains_on_cuda():
    r = evaluate(TINY, _data(), epochs=1, device="cuda", compile=True, progress=False)
    assert r.status == "ok", r.reason
    assert r.error < 0.9


def test_out_of_memory_is_a_status_the_sweep_goes_on_and_memory_is_freed():
    import optuna

    from regnet_space.search.optuna import objective, run_worker
    from regnet_space.spaces import get_space

    big = _data(resolution=224, in_channels=3, train_size=600, test_size=64)
    space = get_space("regnetx", resolution=224, in_channels=3, num_classes=10)
    fn = objective(space, big, {"epochs": 1, "batch_size": 512, "device": "cuda"},
                   budget="400M:4G")
    big.on("cuda")  # the data (~100 MB) fits; a batch of 512 at 224 px does not
    torch.cuda.empty_cache()
    before = torch.cuda.memory_allocated()
    total = torch.cuda.get_device_properties(0).total_memory
    torch.cuda.set_per_process_memory_fraction((before + (400 << 20)) / total)
    try:
        study = optuna.create_study()
        s = run_worker(study, fn, 3, progress=False, max_failures=10)
    finally:
        torch.cuda.set_per_process_memory_fraction(1.0)
    assert s["finished"] == 3  # the worker went on after each OOM
    statuses = [t.user_attrs.get("evaluator_status") or t.user_attrs.get("eval", {}).get(
        "evaluator_status") for t in study.trials]
    assert statuses == ["oom"] * 3, [t.user_attrs for t in study.trials]
    assert torch.cuda.memory_allocated() <= before + (1 << 20)
    r = evaluate(TINY, _data(), epochs=1, device="cuda", progress=False)
    assert r.status == "ok"


def test_sweep_workers_per_device_share_one_study_on_the_gpu(tmp_path):
    db = tmp_path / "s.db"
    cmd = [sys.executable, "-m", "regnet_space", "sweep", "--space", "regnetx", "--flops",
           "2M:5M", "--trials", "6", "--storage", f"sqlite:///{db}", "--study", "g",
           "--data", "synthetic", "--train-size", "256", "--val-size", "64", "--test-size", "128",
           "--epochs", "1",
           "--device", "cuda", "--workers-per-device", "3"]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stderr[-3000:]
    import optuna

    trials = optuna.load_study(study_name="g", storage=f"sqlite:///{db}").trials
    assert len(trials) == 6 and all(t.state.name == "COMPLETE" for t in trials)
    workers = {t.user_attrs.get("worker") for t in trials} - {None}
    devices = {json.dumps(t.user_attrs.get("eval", {}).get("device")) for t in trials}
    assert len(workers) >= 2, workers  # several processes took trials
    assert all("cuda" in d for d in devices), devices
