"""What the held-out passes cost a brief run: per-epoch test passes vs a validation split.

Before: the default scored all 10,000 test images after every epoch (the curves, the divergence
rule). Now: 5,000 validation images carved from the training split after every epoch and the test
split once at the end. Each model of ``bench_evaluator.models()`` is trained with the brief
recipe both ways, alternating, in this one process (one thread); the ratio of models per hour is
printed per model, next to the share of a run that the held-out passes take.

    .venv/bin/python benchmarks/bench_heldout.py --repeat 1
"""

from __future__ import annotations

import argparse
import time

from bench_evaluator import models


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--epochs", type=int, default=3)
    args = ap.parse_args()
    from regnet_space.training import evaluate, load_data

    variants = {
        "before: test after every epoch": load_data("fashion-mnist", train_size=10000, seed=0),
        "now: 5,000 validation per epoch, test once": load_data(
            "fashion-mnist", train_size=10000, val_size=5000, seed=0),
    }
    best: dict[tuple, tuple] = {}
    for _ in range(args.repeat):
        for name, cfg in models().items():
            for label, data in variants.items():
                t0 = time.perf_counter()
                r = evaluate(cfg, data, epochs=args.epochs, threads=1, progress=False)
                wall = time.perf_counter() - t0
                key = (name, label)
                if key not in best or wall < best[key][0]:
                    best[key] = (wall, r.train_time)
    print(f"| model | {' | '.join(variants)} | held-out share before / now | models/hour "
          "now / before |")
    print("|---|---|---|---|---|")
    before, now = list(variants)
    for name in models():
        (wb, tb), (wn, tn) = best[(name, before)], best[(name, now)]
        print(f"| {name} | {wb:.1f} s | {wn:.1f} s | {1 - tb / wb:.0%} / {1 - tn / wn:.0%} | "
              f"{wb / wn:.2f}x |")


if __name__ == "__main__":
    main()
