"""Training throughput of the evaluator's loop against a plain PyTorch loop and timm's model.

For each model (all under 20 MFLOPs at 28x28, Fashion-MNIST), one epoch over the same training
subset with the same batch size, optimiser and learning-rate schedule:

* ``ours``: :func:`regnet_space.training.evaluator.evaluate` (data on the device, vectorised crop + flip,
  channels-last), ``images_per_s`` as it reports it (training steps only, held-out eval excluded).
* ``plain``: what a typical user writes: a ``Dataset`` over the same uint8 tensors applying
  torchvision's ``RandomCrop(28, padding=4)``, ``RandomHorizontalFlip()``, ``ToDtype`` and
  ``Normalize`` per sample, a ``DataLoader`` (shuffle, drop_last, ``--workers`` processes), the
  same ``build_model`` network in the default memory format.
* ``timm``: ``evaluate(..., builder=regnet_space.nn.to_timm)``: timm's RegNet with our loop.

Also times a large float32 matmul (``2 n^3`` FLOPs) as the machine's peak, and reports the
evaluator's achieved fraction: ``3 * 2 * flops * images/s / matmul FLOP/s``, where ``flops`` is
the analytic multiply-add count of one forward pass (so ``2 * flops`` FLOPs) and a training step
costs about 3 forward passes (forward + backward for activations + backward for weights).

Run (CPU; add --threads 1 on a machine busy with other jobs):

    .venv/bin/python benchmarks/bench_evaluator.py --train-size 4096 --repeat 2
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time

import torch
from torch import nn

from regnet_space.complexity import complexity
from regnet_space.config import NetConfig
from regnet_space.training.data import load_data
from regnet_space.training import cosine_lr, evaluate
from regnet_space.training.cpu import available_cpus
from regnet_space.nn import build_model, to_timm


def models() -> dict[str, NetConfig]:
    net = dict(stem="small", resolution=28, in_channels=1, num_classes=10)
    return {
        "tiny X (1.4 MF)": NetConfig.from_lists([1, 1, 2, 2], [16, 32, 48, 64], gs=8, stem_w=16, **net),
        "X (5 MF)": NetConfig.from_lists([1, 1, 3, 4], [24, 48, 96, 192], gs=8, **net),
        "Y (9.6 MF)": NetConfig.from_lists([1, 2, 3, 3], [32, 64, 128, 256], gs=16,
                                                  block="Y", **net),
    }


def matmul_flops(n: int = 2048, reps: int = 5) -> float:
    a, b = torch.randn(n, n), torch.randn(n, n)
    a @ b
    t = time.perf_counter()
    for _ in range(reps):
        a @ b
    return 2 * n ** 3 * reps / (time.perf_counter() - t)


class PerSampleDataset(torch.utils.data.Dataset):
    """uint8 tensors with torchvision per-sample transforms, as a typical training script has."""

    def __init__(self, x, y, mean, std, res):
        from torchvision.transforms import v2

        self.x, self.y = x, y
        self.tf = v2.Compose([v2.RandomCrop(res, padding=4), v2.RandomHorizontalFlip(),
                              v2.ToDtype(torch.float32, scale=True), v2.Normalize(mean, std)])

    def __len__(self):
        return len(self.y)

    def __getitem__(self, i):
        return self.tf(self.x[i]), self.y[i]


def plain_loop(cfg, data, *, batch_size, lr, wd, workers, seed=0) -> float:
    """One epoch of the typical DataLoader loop; training images per second."""
    torch.manual_seed(seed)
    model = build_model(cfg)
    opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9, weight_decay=wd)
    loss_fn = nn.CrossEntropyLoss()
    ds = PerSampleDataset(data.train.x, data.train.y, list(data.mean), list(data.std), data.resolution)
    loader = torch.utils.data.DataLoader(ds, batch_size=batch_size, shuffle=True, drop_last=True,
                                         num_workers=workers, persistent_workers=False)
    total = len(loader)
    model.train()
    t = time.perf_counter()
    n = 0
    for step, (x, y) in enumerate(loader):
        for g in opt.param_groups:
            g["lr"] = cosine_lr(lr, step, total)
        loss = loss_fn(model(x), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        n += len(y)
    if not math.isfinite(float(loss.detach())):
        raise RuntimeError("plain loop diverged")
    return n / (time.perf_counter() - t)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--train-size", type=int, default=4096)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--threads", type=int, default=available_cpus())
    p.add_argument("--workers", type=int, default=0, help="DataLoader workers of the plain loop")
    p.add_argument("--repeat", type=int, default=1, help="run the whole comparison this many times")
    p.add_argument("--compile", action="store_true", help="also time ours with torch.compile")
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    data = load_data("fashion-mnist", train_size=args.train_size, test_size=500, seed=0)
    peak = matmul_flops()
    print(f"torch {torch.__version__}, {args.threads} thread(s) of {os.cpu_count()} CPUs, "
          f"load avg {os.getloadavg()[0]:.1f}; {data!r}; batch {args.batch_size}; "
          f"DataLoader workers {args.workers}")
    print(f"float32 matmul 2048^3: {peak / 1e9:.1f} GFLOP/s")
    common = dict(epochs=1, batch_size=args.batch_size, threads=args.threads, progress=False,
                  device="cpu")
    for rep in range(args.repeat):
        print(f"\nrun {rep + 1}/{args.repeat}")
        print(f"{'model':<26} {'MFLOPs':>6} {'ours img/s':>10} {'plain img/s':>11} {'timm img/s':>10}"
              f" {'ours/plain':>10} {'ours/timm':>9} {'ours % of matmul':>16}")
        for name, cfg in models().items():
            f = complexity(cfg).flops
            ours = evaluate(cfg, data, **common)
            plain = plain_loop(cfg, data, batch_size=args.batch_size, lr=0.05, wd=5e-5,
                               workers=args.workers)
            timm = evaluate(cfg, data, builder=to_timm, **common)
            for r in (ours, timm):
                if not r.ok:
                    raise RuntimeError(r.summary())
            frac = 3 * 2 * f * ours.images_per_s / peak
            print(f"{name:<26} {f / 1e6:6.1f} {ours.images_per_s:10.0f} {plain:11.0f} "
                  f"{timm.images_per_s:10.0f} {ours.images_per_s / plain:10.2f} "
                  f"{ours.images_per_s / timm.images_per_s:9.2f} {100 * frac:15.1f}%")
            if args.compile:
                comp = evaluate(cfg, data, compile=True, **common)
                print(f"{'  + torch.compile':<26} {'':6} {comp.images_per_s:10.0f} (compile time included)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
