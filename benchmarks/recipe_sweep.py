"""The recipe sweep behind the ``brief`` preset: learning rate x weight decay x batch size.

As pycls tunes its optimiser before a design-space sweep, this trains a fixed panel of models from
the three spaces the populations compare (4 each of RegNetX, AnyNetX_A and AnyNetX_E, 2-5 MF at
28x28, sampled with seed 1, not the populations' seed 0) with every recipe of the grid, for the
same brief budget (2 epochs on 6,000 Fashion-MNIST training images), and ranks recipes by the
panel's mean error on 2,000 validation images carved from the training split (the test split is
not used to choose). Then, at the best grid recipe, it measures the two stabilisers separately:
pycls's initialisation instead of zero-init of the last BN, and no warm-up.

Run (resumable: finished runs are kept in the CSV; about 25 minutes on 2 cores):

    .venv/bin/python benchmarks/recipe_sweep.py --out results/recipe_sweep.csv --workers 2

It prints the Markdown table recorded in BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _jobs import panel as _panel, read_rows, run_jobs  # noqa: E402

LRS = (0.05, 0.1, 0.2, 0.4, 0.8)
WDS = (5e-5, 5e-4)
BATCHES = (32, 64, 128)
DATA = dict(name="fashion-mnist", train_size=6000, val_size=2000, test_size=1000, seed=0)
BASE = dict(epochs=2, warmup=0.1, warmup_factor=0.1, init="zero_last_bn", momentum=0.9, seed=0,
            threads=1)


def panel(per_space: int = 4, seed: int = 1) -> list[tuple[str, str, dict]]:
    return _panel(per_space, seed)


def recipe_name(lr, wd, bs, init="zero_last_bn", warmup=0.1) -> str:
    extra = "" if (init, warmup) == ("zero_last_bn", 0.1) else f"-{init}-warmup{warmup:g}"
    return f"lr{lr:g}-wd{wd:g}-bs{bs}{extra}"


def jobs_for(models, lr, wd, bs, **over) -> list[dict]:
    settings = {**BASE, "lr": lr, "weight_decay": wd, "batch_size": bs, **over}
    name = recipe_name(lr, wd, bs, settings["init"], settings["warmup"])
    return [dict(key=f"{name}/{model}", group="grid" if not over else "ablation", space=space,
                 model=model, recipe=name, config=cfg, data=DATA, settings=settings)
            for space, model, cfg in models]


def summarize(rows: list[dict]) -> list[dict]:
    by = {}
    for r in rows:
        by.setdefault(r["recipe"], []).append(r)
    out = []
    for name, rs in by.items():
        errs = [float(r["error"]) if r["status"] == "ok" else 1.0 for r in rs]
        out.append(dict(recipe=name, n=len(rs), mean=statistics.fmean(errs),
                        median=statistics.median(errs), worst=max(errs),
                        chance=sum(e > 0.8 for e in errs),
                        diverged=sum(r["status"] != "ok" for r in rs),
                        time=statistics.fmean(float(r["wall_time"]) for r in rs)))
    return sorted(out, key=lambda d: d["mean"])


def table(summary: list[dict], limit: int | None = None) -> str:
    lines = ["| recipe | models | mean val error | median | worst | > 0.8 | not ok | s/model |",
             "|---|---|---|---|---|---|---|---|"]
    for d in summary[:limit]:
        lines.append(f"| {d['recipe']} | {d['n']} | {d['mean']:.4f} | {d['median']:.4f} | "
                     f"{d['worst']:.4f} | {d['chance']} | {d['diverged']} | {d['time']:.1f} |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="results/recipe_sweep.csv")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--per-space", type=int, default=4)
    args = ap.parse_args()
    out = Path(args.out)
    models = panel(args.per_space)
    grid = [j for lr, wd, bs in itertools.product(LRS, WDS, BATCHES)
            for j in jobs_for(models, lr, wd, bs)]
    run_jobs(grid, out, args.workers)
    rows = read_rows(out)
    best = summarize([r for r in rows if r["group"] == "grid"])[0]
    b = next(r for r in rows if r["recipe"] == best["recipe"])
    lr, wd, bs = float(b["lr"]), float(b["weight_decay"]), int(b["batch_size"])
    ablation = (jobs_for(models, lr, wd, bs, init="pycls")
                + jobs_for(models, lr, wd, bs, warmup=0.0)
                + jobs_for(models, lr, wd, bs, init="pycls", warmup=0.0))
    run_jobs(ablation, out, args.workers)
    rows = read_rows(out)
    print("## grid (2 epochs, 6,000 training images, ranked by mean validation error)\n")
    print(table(summarize([r for r in rows if r["group"] == "grid"])))
    print(f"\n## stabilisers at the best grid recipe ({best['recipe']})\n")
    keep = {best["recipe"]} | {r["recipe"] for r in rows if r["group"] == "ablation"}
    print(table(summarize([r for r in rows if r["recipe"] in keep])))


if __name__ == "__main__":
    main()
