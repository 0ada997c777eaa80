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
#: Held-out images carved from the training split before any training subset (the same 5,000
#: for every recipe): per-epoch curves and the divergence rule use them, the test split is
#: scored once at the end.
VAL_SIZE = 5000

#: The recipes of the study: name -> (preset, epochs, train_size). Compute per model is
#: epochs x train_size (+ the held-out passes); ``reference`` is the truth the others are
#: scored against (seed-averaged).
RECIPES = {
    "3ep-10k": ("brief", 3, 10000),
    "reference": ("reference", 12, 12000),
    "6ep-10k": ("brief", 6, 10000),
    "3ep-20k": ("brief", 3, 20000),
}

#: The order runs are made in, tier by tier over the whole panel (model by model, the spaces
#: interleaved), so a study stopped early has a balanced, usable prefix: recipe -> seeds.
TIERS = (
    (("reference", (0,)), ("3ep-10k", (0, 1, 2))),
    (("reference", (1,)),),
    (("6ep-10k", (0,)), ("3ep-20k", (0,))),
    (("6ep-10k", (1,)), ("3ep-20k", (1,))),
)


def jobs(per_space: int = 24, seeds: int = 3, ref_seeds: int = 2, *, spaces=None,
         design_seed: int = DESIGN_SEED, test_size: int | None = None,
         train_size: dict | None = None, epochs: dict | None = None,
         val_size: int = VAL_SIZE, candidates: bool = True) -> list[dict]:
    """The runs of the noise study in :data:`TIERS` order.

    ``seeds``/``ref_seeds`` cap the seeds of ``3ep-10k``/``reference``; ``candidates=False``
    leaves out the longer candidate recipes. ``train_size``/``epochs`` (recipe -> value) shrink
    the recipes for a smoke run.

    Example:
        >>> [j["key"] for j in jobs(1, 1, 1, spaces=["regnetx"], candidates=False)]
        ['reference/regnetx-0/seed0', '3ep-10k/regnetx-0/seed0']
    """
    from regnet_space.training.recipe import PRESETS

    kw = {} if spaces is None else {"spaces": spaces}
    models = panel(per_space, design_seed, **kw)
    by_index: dict[int, list] = {}
    for space, model, cfg in models:
        by_index.setdefault(int(model.rsplit("-", 1)[1]), []).append((space, model, cfg))
    caps = {"3ep-10k": seeds, "reference": ref_seeds}
    out = []
    for tier in TIERS:
        if not candidates and any(r not in caps for r, _ in tier):
            continue
        for i in sorted(by_index):
            for space, model, cfg in by_index[i]:
                for recipe, tier_seeds in tier:
                    preset, ep, size = RECIPES[recipe]
                    settings = dict(PRESETS[preset]["settings"], preset=preset,
                                    epochs=(epochs or {}).get(recipe, ep))
                    size = (train_size or {}).get(recipe, size)
                    data = dict(name="fashion-mnist", train_size=size, val_size=val_size,
                                test_size=test_size, seed=0)
                    for seed in tier_seeds:
                        if seed >= caps.get(recipe, 99):
                            continue
                        out.append(dict(key=f"{recipe}/{model}/seed{seed}", space=space,
                                        model=model, recipe=recipe, config=cfg, data=data,
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


def value(r: dict, column: str = "test_error") -> float:
    """A run's error in ``column`` (``test_error``: the 10,000 test images, scored once;
    ``val_error``/``error``: what a search ranks by), the ranking error when it is empty."""
    return float(r.get(column) or r["error"])


def summary(rows: list[dict], column: str = "test_error") -> list[dict]:
    """Per (space, recipe, device): the noise components of the ok runs' ``column``."""
    by: dict[tuple, dict[str, list[float]]] = {}
    for r in rows:
        if r["status"] != "ok":
            continue
        key = (r["space"], r["recipe"], r["device"].split(":")[0])
        by.setdefault(key, {}).setdefault(r["model"], []).append(value(r, column))
    return [{"space": s, "recipe": rc, "device": d, **components(errs)}
            for (s, rc, d), errs in sorted(by.items())]


def _errors(rows: list[dict], s: dict, column: str = "test_error") -> dict[str, list[float]]:
    """model -> errors of the ok runs of summary row ``s``'s space, recipe and device."""
    errs: dict[str, list[float]] = {}
    for r in rows:
        if (r["status"] == "ok" and r["space"] == s["space"] and r["recipe"] == s["recipe"]
                and r["device"].split(":")[0] == s["device"]):
            errs.setdefault(r["model"], []).append(value(r, column))
    return errs


def with_ci(rows: list[dict], column: str = "test_error") -> list[dict]:
    """:func:`summary` with 95% intervals: the seed sd's from the chi-square distribution of the
    pooled within-model variance; R's from the F distribution of the one-way ANOVA (Shrout and
    Fleiss's ICC(1) interval; exact for equal seeds per model, k = mean seeds otherwise), and the
    between-model sd's from R's interval at the pooled seed variance."""
    from scipy.stats import chi2, f as fdist

    out = []
    for s in summary(rows, column):
        groups = list(_errors(rows, s, column).values())
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
    ap.add_argument("--no-run", action="store_true", help="only print the table of --out")
    ap.add_argument("--measured", metavar="RECIPE", help="print the analysis.noise.MEASURED "
                    "entries (pooled test-error seed sd of RECIPE per space) and stop")
    ap.add_argument("--rows", type=int, help="use only the first ROWS runs of --out (the study "
                    "appends; a published figure names the rows it was made from)")
    ap.add_argument("--column", default="test_error", choices=("test_error", "val_error"),
                    help="the error the table is about (default: test_error)")
    args = ap.parse_args()
    deadline = time.time() + 60 * args.minutes if args.minutes else None
    rows = read_rows(Path(args.out))[:args.rows]
    if args.measured:
        for c in summary(rows):
            if c["recipe"] == args.measured and c["runs"] > c["models"]:
                multi = [v for v in _errors(rows, c).values() if len(v) > 1]
                # the MEASURED form: "val" for runs with a validation split, else "test"
                form = "val" if any(r.get("val_error") for r in rows) else "test"
                print(f'    ("{form}", "{c["space"]}"): ({c["seed_sd"]:.4f}, {len(multi)}, '
                      f'{sum(map(len, multi))}),')
        return
    if not args.no_run:
        run_pool(jobs(args.per_space, args.seeds, args.ref_seeds,
                      spaces=args.spaces.split(",")), Path(args.out),
                 workers=args.workers, device=args.device, deadline=deadline)
    print(f"{args.column}:")
    print("| space | recipe | device | models x runs | seed sd [95% CI] | between-model sd "
          "[95% CI] | R of one run [95% CI] |")
    print("|---|---|---|---|---|---|---|")
    for s in with_ci(read_rows(Path(args.out))[:args.rows], args.column):
        f = "{:.4f} [{:.4f}, {:.4f}]".format
        m, r = s["models"], s["runs"]
        size = f"{m} x {r // m}" if m and r % m == 0 else f"{m} ({r} runs)"
        print(f"| {s['space']} | {s['recipe']} | {s['device']} | {size} | "
              f"{f(s['seed_sd'], *s['seed_sd_ci'])} | "
              f"{f(s['between_sd'], *s['between_sd_ci'])} | "
              f"{s['R']:.2f} [{s['R_ci'][0]:.2f}, {s['R_ci'][1]:.2f}] |")


if __name__ == "__main__":
    main()
