"""channels_last on one-channel images: training images/s of the two memory formats, CPU.

Before ``training.device.as_format`` the flag did nothing on Fashion-MNIST (with C = 1 both
layouts pass both contiguity checks, so PyTorch ran channels-last either way). This prints the
training throughput of ``channels_last=True`` (the default) against ``False`` for the benchmark
models, best of ``--repeat`` runs each, in one process, with the ratio.

    .venv/bin/python benchmarks/bench_memory_format.py --train-size 2048 --repeat 3
"""

from __future__ import annotations

import argparse

from bench_evaluator import models

from regnet_space.training import evaluate, load_data


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--train-size", type=int, default=2048)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    data = load_data("synthetic", train_size=args.train_size, test_size=64)
    print("| model | contiguous img/s | channels-last img/s | ratio |")
    print("|---|---|---|---|")
    for name, cfg in models().items():
        best = {}
        for _ in range(args.repeat):
            for cl in (False, True):
                r = evaluate(cfg, data, epochs=1, channels_last=cl, threads=1, progress=False)
                best[cl] = max(best.get(cl, 0.0), r.images_per_s)
        print(f"| {name} | {best[False]:,.0f} | {best[True]:,.0f} | {best[True] / best[False]:.2f}x |",
              flush=True)


if __name__ == "__main__":
    main()
