"""Turn the noise study's runs (results/noise.csv) into benchmark tables: one population table
per space with the parameters of every model (re-drawn from the panel's design seed and checked
against the recorded config), one row per run (seeds of a model share its parameters), the
validation and test errors, and the per-epoch curve companion that ``bench-search`` reads.

    python benchmarks/noise_bench.py --recipe 3ep-10k --rows 144 --out results/bench

writes results/bench/noise_<space>.csv and noise_<space>.curves.csv. These are the benchmark's
seed-averaged subset: every model has 3 seeds of the default recipe, so ``bench-search
--holdout results/bench/noise_regnetx.csv`` checks a surrogate against their seed means.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _pool import read_rows  # noqa: E402

DESIGN_SEED = 7


def tables(rows: list[dict], recipe: str, rows_limit: int | None = None):
    """{space: (population DataFrame, curves DataFrame)} for ``recipe``'s ok runs of models
    that have 2+ seeds (the first ``rows_limit`` rows of the study only, when given)."""
    import pandas as pd

    from regnet_space.spaces import get_space

    rows = rows[:rows_limit] if rows_limit else rows
    out = {}
    for space_name in sorted({r["space"] for r in rows}):
        mine = [r for r in rows if r["space"] == space_name and r["recipe"] == recipe
                and r["status"] == "ok"]
        seeds: dict[str, int] = {}
        for r in mine:
            seeds[r["model"]] = seeds.get(r["model"], 0) + 1
        mine = [r for r in mine if seeds[r["model"]] >= 2]
        if not mine:
            continue
        n = 1 + max(int(r["model"].rsplit("-", 1)[1]) for r in mine)
        space = get_space(space_name, resolution=28, in_channels=1, num_classes=10)
        drawn = space.sample(n, seed=DESIGN_SEED, flops="2M:5M")
        pop, curves = [], []
        for trial, r in enumerate(mine):
            sample = drawn[int(r["model"].rsplit("-", 1)[1])]
            if json.loads(r["config"]) != json.loads(sample.config.to_json()):
                raise SystemExit(f"{r['key']}: the re-drawn panel does not match the config")
            pop.append({"space": space_name, "config": r["config"], "flops": int(r["flops"]),
                        "params": int(r["params"]), "acts": int(r["acts"]),
                        "error": float(r["test_error"]), "val_error": float(r["val_error"]),
                        "status": "ok", **sample.values, "trial": trial, "model": r["model"],
                        "seed": int(r["seed"]), "recipe": recipe, "epochs": int(r["epochs"]),
                        "train_time_s": float(r["train_time"]),
                        "cpu_capability": r["cpu_capability"],
                        "torch_version": r["torch_version"],
                        "package_version": r["package_version"]})
            ev, times = json.loads(r["eval_error"]), json.loads(r["epoch_time"])
            curves += [{"trial": trial, "epoch": e + 1, "val_error": v, "epoch_time": t,
                        "status": "ok"} for e, (v, t) in enumerate(zip(ev, times))]
        out[space_name] = (pd.DataFrame(pop), pd.DataFrame(curves))
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--study", default="results/noise.csv")
    ap.add_argument("--recipe", default="3ep-10k")
    ap.add_argument("--rows", type=int, default=None, help="use only the study's first R rows")
    ap.add_argument("--out", default="results/bench")
    args = ap.parse_args(argv)
    from regnet_space.analysis.table import write_population
    from regnet_space.files import atomic_write

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for space, (pop, curves) in tables(read_rows(Path(args.study)), args.recipe,
                                       args.rows).items():
        write_population(pop, out / f"noise_{space}.csv")
        atomic_write(out / f"noise_{space}.curves.csv",
                     lambda tmp, c=curves: c.to_csv(tmp, index=False))
        print(f"{space}: {pop['model'].nunique()} models, {len(pop)} runs -> "
              f"{out / f'noise_{space}.csv'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
