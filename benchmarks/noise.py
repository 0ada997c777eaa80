"""Seed noise of brief training, per space: the same models trained with several seeds.

A panel of models per space (RegNetX, AnyNetX_A, AnyNetX_E at 2-5 MF on 28x28 Fashion-MNIST,
drawn from the paper's distribution with design seed 7: neither the populations' nor the rank
panel's models) is trained with ``--seeds`` training seeds of the default recipe and
``--ref-seeds`` seeds of the ``reference`` recipe. Runs are ordered seed by seed over the whole
panel, so a study stopped early still has every model at the same number of seeds. One row per
run goes to ``--out`` (resumable: finished keys are skipped), with per-epoch curves, epoch
times, the device and the CPU capability. The summary gives, per space and recipe, the seed
standard deviation (pooled within models), the between-model standard deviation of the true
means (one-way random effects), and the reliability R of one run.

Run (CPU, resumable; about 5 CPU hours for the full panel):

    .venv/bin/python benchmarks/noise.py --workers 2 --out results/noise.csv

and on a GPU machine ``--device cuda --workers 8`` (see benchmarks/gpu_check.py).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _jobs import panel  # noqa: E402
from _pool import read_rows, run_pool  # noqa: E402

DESIGN_SEED = 7


def jobs(per_space: int = 24, seeds: int = 3, ref_seeds: int = 2, *, spaces=None,
         design_seed: int = DESIGN_SEED, test_size: int | None = None,
         train_size: dict | None = None, epochs: dict | None = None) -> list[dict]:
    """The runs of the noise study, seed by seed over the panel; default recipe first.

    ``train_size``/``epochs`` (recipe -> value) shrink the recipes for a smoke run.
    """
    from regnet_space.training.recipe import PRESETS

    kw = {} if spaces is None else {"spaces": spaces}
    models = panel(per_space, design_seed, **kw)
    out = []
    for recipe, n in (("brief", seeds), ("reference", ref_seeds)):
        settings = dict(PRESETS[recipe]["settings"], preset=recipe)
        if epochs and recipe in epochs:
            settings["epochs"] = epochs[recipe]
        size = (train_size or {}).get(recipe, PRESETS[recipe]["data"]["train_size"])
        data = dict(name="fashion-mnist", train_size=size, test_size=test_size, seed=0)
        for seed in range(n):
            for space, model, cfg in models:
                out.append(dict(key=f"{recipe}/{model}/seed{seed}", space=space, model=model,
                                recipe=recipe, config=cfg, data=data,
                                settings={**settings, "seed": seed}))
    return out


def components(errors: dict[str, list[float]]) -> dict:
    """Seed sd, between-model sd and single-run reliability from ``model -> [errors]``.

    One-way random effects: the seed variance is pooled within models; the between-model
    variance of the true means is the variance of the model means less the seed variance's share
    of it (clipped at 0). R = between / (between + seed) is the correlation of two single runs.

    Example:
        >>> c = components({"a": [0.20, 0.22], "b": [0.30, 0.32]})
        >>> round(c["seed_sd"], 4), round(c["between_sd"], 4), round(c["R"], 3)
        (0.0141, 0.0700, 0.961)
    """
    groups = [v for v in errors.values() if len(v) >= 1]
    multi = [v for v in groups if len(v) >= 2]
    ss = sum(sum((x - sum(v) / len(v)) ** 2 for x in v) for v in multi)
    dof = sum(len(v) - 1 for v in multi)
    seed_var = ss / dof if dof else math.nan
    means = [sum(v) / len(v) for v in groups]
    if len(means) < 2 or not dof:
        return {"models": len(groups), "runs": sum(map(len, groups)), "seed_sd": math.sqrt(seed_var)
                if dof else math.nan, "between_sd": math.nan, "R": math.nan}
    m = sum(means) / len(means)
    var_means = sum((x - m) ** 2 for x in means) / (len(means) - 1)
    inv_k = sum(1 / len(v) for v in groups) / len(groups)
    between = max(0.0, var_means - seed_var * inv_k)
    return {"models": len(groups), "runs": sum(map(len, groups)), "seed_sd": math.sqrt(seed_var),
            "between_sd": math.sqrt(between), "R": between / (between + seed_var)
            if between + seed_var > 0 else math.nan}


def summary(rows: list[dict]) -> list[dict]:
    """Per (space, recipe, device): the noise components of the ok runs."""
    by: dict[tuple, dict[str, list[float]]] = {}
    for r in rows:
        if r["status"] != "ok":
            continue
        key = (r["space"], r["recipe"], r["device"].split(":")[0])
        by.setdefault(key, {}).setdefault(r["model"], []).append(float(r["error"]))
    return [{"space": s, "recipe": rc, "device": d, **components(errs)}
            for (s, rc, d), errs in sorted(by.items())]


def with_ci(rows: list[dict]) -> list[dict]:
    """:func:`summary` with 95% intervals: the seed sd's from the chi-square distribution of the
    pooled within-model variance; R's from the F distribution of the one-way ANOVA (Shrout and
    Fleiss's ICC(1) interval; exact for equal seeds per model, k = mean seeds otherwise), and the
    between-model sd's from R's interval at the pooled seed variance."""
    from scipy.stats import chi2, f as fdist

    out = []
    for s in summary(rows):
        errs: dict[str, list[float]] = {}
        for r in rows:
            if (r["status"] == "ok" and r["space"] == s["space"] and r["recipe"] == s["recipe"]
                    and r["device"].split(":")[0] == s["device"]):
                errs.setdefault(r["model"], []).append(float(r["error"]))
        groups = list(errs.values())
        n = len(groups)
        dof = sum(len(v) - 1 for v in groups)
        nan2 = [math.nan, math.nan]
        seed_ci, r_ci, b_ci = nan2, nan2, nan2
        if dof:
            seed_ci = [s["seed_sd"] * math.sqrt(dof / chi2.ppf(q, dof)) for q in (0.975, 0.025)]
        if dof and n > 2:
            k = sum(map(len, groups)) / n
            grand = sum(map(sum, groups)) / sum(map(len, groups))
            msb = sum(len(v) * (sum(v) / len(v) - grand) ** 2 for v in groups) / (n - 1)
            msw = s["seed_sd"] ** 2
            F = msb / msw if msw > 0 else math.inf
            lo = F / fdist.ppf(0.975, n - 1, dof)
            hi = F * fdist.ppf(0.975, dof, n - 1)
            r_ci = [max(0.0, (x - 1) / (x + k - 1)) for x in (lo, hi)]
            b_ci = [s["seed_sd"] * math.sqrt(r / (1 - r)) if r < 1 else math.inf for r in r_ci]
        out.append({**s, "seed_sd_ci": seed_ci, "between_sd_ci": b_ci, "R_ci": r_ci})
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="results/noise.csv")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--per-space", type=int, default=24)
    ap.add_argument("--spaces", default="regnetx,anynetx_a,anynetx_e")
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--ref-seeds", type=int, default=2)
    ap.add_argument("--minutes", type=float, help="start no run after this many minutes")
    args = ap.parse_args()
    deadline = time.time() + 60 * args.minutes if args.minutes else None
    run_pool(jobs(args.per_space, args.seeds, args.ref_seeds, spaces=args.spaces.split(",")),
             Path(args.out),
             workers=args.workers, device=args.device, deadline=deadline)
    print("| space | recipe | device | models x runs | seed sd [95% CI] | between-model sd "
          "[95% CI] | R of one run [95% CI] |")
    print("|---|---|---|---|---|---|---|")
    for s in with_ci(read_rows(Path(args.out))):
        f = "{:.4f} [{:.4f}, {:.4f}]".format
        print(f"| {s['space']} | {s['recipe']} | {s['device']} | {s['models']} x "
              f"{s['runs'] / max(s['models'], 1):.0f} | {f(s['seed_sd'], *s['seed_sd_ci'])} | "
              f"{f(s['between_sd'], *s['between_sd_ci'])} | "
              f"{s['R']:.2f} [{s['R_ci'][0]:.2f}, {s['R_ci'][1]:.2f}] |")


if __name__ == "__main__":
    main()
