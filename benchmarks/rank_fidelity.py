"""Rank fidelity of brief training: do brief errors rank models as a 10x longer training does?

A panel of models from the three spaces the populations compare (10 each of RegNetX, AnyNetX_A and
AnyNetX_E, 2-5 MF at 28x28, sampled with seed 2: neither the recipe sweep's panel nor the
populations) is trained with

* the ``reference`` preset (12 epochs on 12,000 Fashion-MNIST images: 4.8x the default's compute),
* the ``brief`` preset (the default: 3 epochs on 10,000 images) and the cheaper 2 epochs on
  6,000 images it replaced,
* the ``brief`` preset with another training seed (how well two equally long runs agree),

all tested on the whole 10,000-image test split. For each brief variant it reports Kendall's tau and
Spearman's rho between its errors and the reference errors (with a bootstrap 95% interval over
models). The one-row-per-model table goes to ``results/rank_fidelity.csv``.

Run (resumable; about an hour on 2 idle cores):

    .venv/bin/python benchmarks/rank_fidelity.py --workers 2
"""

from __future__ import annotations

import argparse
import csv
import json
import statistics
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _jobs import panel as _panel, read_rows, run_jobs  # noqa: E402

TEST_SIZE = None  # the whole Fashion-MNIST test split: 10,000 images


def variants() -> dict[str, dict]:
    """name -> (training settings, data subset). ``brief`` and ``reference`` are the presets."""
    from regnet_space.training.recipe import PRESETS

    def preset(name, **over):
        settings = {**PRESETS[name]["settings"], **{k: v for k, v in over.items()
                                                     if k != "train_size"}}
        train = over.get("train_size", PRESETS[name]["data"]["train_size"])
        return {"settings": {**settings, "preset": name, "threads": 1},
                "train_size": train}

    return {
        "reference": preset("reference"),
        "brief": preset("brief"),
        "brief-seed1": preset("brief", seed=1),
        "2ep-6k": preset("brief", epochs=2, train_size=6000),
    }


def panel(per_space: int = 10, seed: int = 2) -> list[tuple[str, str, dict]]:
    return _panel(per_space, seed)


def jobs(models, vs) -> list[dict]:
    out = []
    # the reference runs first: they are the long ones and define the ranking
    for recipe, v in vs.items():
        data = dict(name="fashion-mnist", train_size=v["train_size"], test_size=TEST_SIZE, seed=0)
        for space, model, cfg in models:
            out.append(dict(key=f"{recipe}/{model}", group="rank", space=space, model=model,
                            recipe=recipe, config=cfg, data=data, settings=v["settings"]))
    return out


def _tau(a, b):
    from scipy.stats import kendalltau, spearmanr

    return float(kendalltau(a, b).statistic), float(spearmanr(a, b).statistic)


def correlations(errors: dict[str, dict[str, float]], ref: str = "reference",
                 repeats: int = 2000, seed: int = 0) -> list[dict]:
    """Kendall's tau and Spearman's rho of each recipe against ``ref`` over the shared models,
    with percentile bootstrap intervals over models."""
    rng = np.random.default_rng(seed)
    rows = []
    for recipe, errs in errors.items():
        if recipe == ref:
            continue
        models = sorted(set(errs) & set(errors[ref]))
        a = np.array([errs[m] for m in models])
        b = np.array([errors[ref][m] for m in models])
        tau, rho = _tau(a, b)
        boot = []
        for _ in range(repeats):
            i = rng.integers(len(models), size=len(models))
            if len(set(i)) > 2:
                boot.append(_tau(a[i], b[i]))
        boot = np.array(boot)
        rows.append(dict(recipe=recipe, n=len(models), tau=tau,
                         tau_lo=float(np.percentile(boot[:, 0], 2.5)),
                         tau_hi=float(np.percentile(boot[:, 0], 97.5)), rho=rho,
                         rho_lo=float(np.percentile(boot[:, 1], 2.5)),
                         rho_hi=float(np.percentile(boot[:, 1], 97.5))))
    return rows


def main() -> None:
    from regnet_space.training import as_settings

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", default="results/rank_fidelity_runs.csv")
    ap.add_argument("--out", default="results/rank_fidelity.csv")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--per-space", type=int, default=10)
    args = ap.parse_args()
    vs = variants()
    models = panel(args.per_space)
    run_jobs(jobs(models, vs), Path(args.runs), args.workers)
    rows = read_rows(Path(args.runs))
    errors: dict[str, dict[str, float]] = {}
    cost: dict[str, list[float]] = {}
    for r in rows:
        e = float(r["error"]) if r["status"] == "ok" else 1.0
        errors.setdefault(r["recipe"], {})[r["model"]] = e
        cost.setdefault(r["recipe"], []).append(float(r["wall_time"]))
    with open(args.out, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["space", "model", "config", "brief_error", "long_error", "brief_seed1_error",
                    "brief_settings", "long_settings", "brief_train_size", "long_train_size",
                    "test_size"])
        for space, model, cfg in models:
            w.writerow([space, model, json.dumps(cfg, sort_keys=True),
                        errors.get("brief", {}).get(model), errors.get("reference", {}).get(model),
                        errors.get("brief-seed1", {}).get(model),
                        json.dumps(vs["brief"]["settings"], sort_keys=True),
                        json.dumps(vs["reference"]["settings"], sort_keys=True),
                        vs["brief"]["train_size"], vs["reference"]["train_size"], TEST_SIZE])
    print("| recipe | epochs x images | s/model | Kendall tau [95% CI] | Spearman rho [95% CI] |")
    print("|---|---|---|---|---|")
    for c in correlations(errors):
        v = vs[c["recipe"]]
        print(f"| {c['recipe']} | {as_settings(v['settings']).epochs} x {v['train_size']} | "
              f"{statistics.fmean(cost[c['recipe']]):.1f} | {c['tau']:.2f} "
              f"[{c['tau_lo']:.2f}, {c['tau_hi']:.2f}] | {c['rho']:.2f} "
              f"[{c['rho_lo']:.2f}, {c['rho_hi']:.2f}] |")
    ref = errors.get("reference", {})
    print(f"\nreference: {len(ref)} models, error {min(ref.values()):.3f}..{max(ref.values()):.3f}, "
          f"{statistics.fmean(cost['reference']):.1f} s/model" if ref else "")


if __name__ == "__main__":
    main()
