"""What pinning oneDNN to AVX2 costs: training images/s, native instruction set vs AVX2.

The instruction set is fixed when torch loads, so each measurement is a fresh subprocess; the
two settings alternate (``--repeat`` times each) and the best of each is compared, which keeps a
busy machine's drift out of the ratio as far as it can.

    .venv/bin/python benchmarks/bench_isa.py --repeat 3
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

CHILD = r"""
import json, torch
from bench_evaluator import models
from regnet_space.training import evaluate, load_data
data = load_data("synthetic", train_size=2048, test_size=64)
out = {"isa": torch.backends.cpu.get_cpu_capability()}
for name, cfg in models().items():
    r = evaluate(cfg, data, epochs=1, threads=1, progress=False)
    out[name] = r.images_per_s
print(json.dumps(out))
"""

PIN = {"ONEDNN_MAX_CPU_ISA": "AVX2", "ATEN_CPU_CAPABILITY": "avx2"}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    here = os.path.dirname(os.path.abspath(__file__))
    best: dict[str, dict[str, float]] = {}
    for _ in range(args.repeat):
        for pinned in (False, True):
            env = {**os.environ, **(PIN if pinned else {})}
            for k in () if pinned else PIN:
                env.pop(k, None)
            r = json.loads(subprocess.run([sys.executable, "-c", CHILD], cwd=here, env=env,
                                          capture_output=True, text=True, check=True).stdout)
            isa = r.pop("isa")
            b = best.setdefault(f"{'pinned' if pinned else 'native'} ({isa})", {})
            for name, v in r.items():
                b[name] = max(b.get(name, 0.0), v)
    (native, nat), (pinned, pin) = best.items()
    print(f"| model | {native} img/s | {pinned} img/s | pinned / native |")
    print("|---|---|---|---|")
    for name in nat:
        print(f"| {name} | {nat[name]:,.0f} | {pin[name]:,.0f} | {pin[name] / nat[name]:.2f}x |")


if __name__ == "__main__":
    main()
