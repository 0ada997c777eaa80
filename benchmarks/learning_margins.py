"""Seed and CPU-type noise of the suite's learning tests: the margins their thresholds need.

Each learning test trains one configuration with one seed and asserts an error below a
threshold. This script trains the same configurations with several training seeds under the
machine's own oneDNN instruction set and prints mean, sd and max error per test, so that a
threshold can sit several seed sds above what any seed and CPU type gives. Run it twice, once as
is and once pinned to AVX2 (what a CPU without AVX-512 runs):

    .venv/bin/python benchmarks/learning_margins.py
    ONEDNN_MAX_CPU_ISA=AVX2 ATEN_CPU_CAPABILITY=avx2 .venv/bin/python benchmarks/learning_margins.py
"""

from __future__ import annotations

import argparse
import json
import statistics

import torch

from regnet_space.config import NetConfig
from regnet_space.spaces import get_space
from regnet_space.training import evaluate, load_data

FAST = dict(threads=1, progress=False)


def cases():
    """(test name, threshold, [(config, data, settings)] per seed-independent item)."""
    tiny = NetConfig.from_lists([1, 2, 2], [16, 32, 64], gs=8, stem="small", stem_w=16,
                                resolution=28, in_channels=1, num_classes=10)
    fm4k = load_data("fashion-mnist", train_size=4000, test_size=1000, seed=0)
    yield ("test_evaluator one short epoch", [(tiny, fm4k, dict(epochs=1, batch_size=32, lr=0.1,
                                                                  augment=False))])
    from regnet_space.zoo import get_config

    r200 = get_config("RegNetX-200MF")
    fm = load_data("fashion-mnist", train_size=4000, test_size=2000, seed=0)
    yield ("test_recipe RegNetX-200MF 2 epochs", [(r200, fm, dict(epochs=2, adapt=True))])
    data = load_data("fashion-mnist", train_size=2000, test_size=500, seed=0)
    items = []
    for name in ("regnetx", "anynetx_a", "anynetx_e"):
        space = get_space(name, resolution=28, in_channels=1, num_classes=10)
        samples = space.sample(3000, seed=11, flops="2M:5M")
        items += [(max(samples, key=lambda s: s.config.depth).config, data, dict(epochs=2)),
                  (min(samples, key=lambda s: max(s.config.widths)).config, data,
                   dict(epochs=2))]
    yield ("test_recipe deepest/narrowest", items)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=4)
    args = ap.parse_args()
    isa = torch.backends.cpu.get_cpu_capability()
    for name, items in cases():
        errs = []
        for cfg, data, kw in items:
            kw = dict(kw)
            adapt = kw.pop("adapt", False)
            for seed in range(args.seeds):
                r = evaluate(cfg, data, seed=seed, adapt=adapt, **kw, **FAST)
                errs.append(r.error if r.error is not None else 1.0)
        print(json.dumps({"test": name, "isa": isa, "runs": len(errs),
                          "mean": round(statistics.fmean(errs), 4),
                          "sd": round(statistics.stdev(errs), 4) if len(errs) > 1 else None,
                          "max": round(max(errs), 4), "min": round(min(errs), 4),
                          "seed0": [round(e, 4) for e in errs[::args.seeds]]}), flush=True)


if __name__ == "__main__":
    main()
