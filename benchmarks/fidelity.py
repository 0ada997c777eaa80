"""Within-space rank fidelity against compute, from the noise study (``results/noise.csv``).

For each space and each candidate recipe, the models are ranked by the mean of their first k
runs (k = 1, 2, ... seeds) and that ranking is compared with the truth: the seed-averaged
``reference`` test error (12 epochs on 12,000 images, 4.8x the default's training images). The
figure is Kendall's tau within one space, with a 95% bootstrap interval over the models (2,000
resamples of the models, seed 0). Compute is per model, relative to one run of the default
(``3ep-10k``): nominal (epochs x training images, x k) and measured (mean wall time of the runs,
x k; noisy when the machine was shared). The tau of the reference against itself (seed 0 vs
seed 1) is the ceiling that the truth's own noise allows.

Run (no training; reads the study):

    .venv/bin/python benchmarks/fidelity.py --runs results/noise.csv --out results/fidelity.csv \
        --plot results/fidelity.png

It prints a Markdown table (the one in BENCHMARKS.md).
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from noise import RECIPES, value  # noqa: E402

TRUTH = "reference"
BASE = "3ep-10k"


def kendall(a, b) -> float:
    from scipy.stats import kendalltau

    return float(kendalltau(a, b).statistic)


def tau_ci(x: np.ndarray, y: np.ndarray, repeats: int = 2000, seed: int = 0) -> tuple:
    """(tau, low, high): Kendall's tau of x and y with a percentile bootstrap over the pairs."""
    t = kendall(x, y)
    rng = np.random.default_rng(seed)
    boots = []
    for _ in range(repeats):
        i = rng.integers(0, len(x), len(x))
        if len(set(i)) > 2:
            boots.append(kendall(x[i], y[i]))
    lo, hi = np.nanpercentile(boots, [2.5, 97.5]) if boots else (np.nan, np.nan)
    return t, float(lo), float(hi)


def runs_by(rows, column: str) -> dict:
    """(space, recipe) -> model -> {seed: (error, wall seconds)} of the ok runs."""
    out: dict = {}
    for r in rows:
        if r["status"] != "ok":
            continue
        out.setdefault((r["space"], r["recipe"]), {}).setdefault(r["model"], {})[
            int(r["seed"])] = (value(r, column), float(r["wall_time"]))
    return out


def fidelity(rows, column: str = "val_error", repeats: int = 2000,
             min_models: int = 4) -> list[dict]:
    """One row per (space, candidate, k): models, tau [CI] against the reference mean, cost."""
    by = runs_by(rows, column)
    truth_by = runs_by(rows, "test_error")
    spaces = sorted({s for s, _ in by})
    base_wall = {s: np.mean([w for m in by.get((s, BASE), {}).values() for _, w in m.values()])
                 for s in spaces}
    out = []
    for space in spaces:
        ref = truth_by.get((space, TRUTH), {})
        truth = {m: np.mean([e for e, _ in v.values()]) for m, v in ref.items()}
        # the truth's own noise: one reference seed against the other
        both = [m for m, v in ref.items() if {0, 1} <= set(v)]
        if len(both) >= min_models:
            t, lo, hi = tau_ci(np.array([ref[m][0][0] for m in both]),
                               np.array([ref[m][1][0] for m in both]), repeats)
            out.append(dict(space=space, recipe="reference seed 0 vs 1", k=1, models=len(both),
                            tau=t, low=lo, high=hi, nominal=4.8, measured=np.nan))
        for recipe in (r for r in RECIPES if r != TRUTH):
            runs = by.get((space, recipe), {})
            _, epochs, size = RECIPES[recipe]
            kmax = max((len(v) for v in runs.values()), default=0)
            for k in range(1, kmax + 1):
                ms = [m for m, v in runs.items() if m in truth and set(range(k)) <= set(v)]
                if len(ms) < min_models:
                    continue
                x = np.array([np.mean([runs[m][s][0] for s in range(k)]) for m in ms])
                y = np.array([truth[m] for m in ms])
                t, lo, hi = tau_ci(x, y, repeats)
                wall = np.mean([runs[m][s][1] for m in ms for s in range(k)])
                out.append(dict(space=space, recipe=recipe, k=k, models=len(ms), tau=t, low=lo,
                                high=hi, nominal=k * epochs * size / 30000,
                                measured=k * wall / base_wall[space]))
    return out


def plot(table: list[dict], path: Path, runs: int = 0) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from regnet_space.files import atomic_write

    spaces = sorted({r["space"] for r in table})
    fig, axes = plt.subplots(1, len(spaces), figsize=(4.2 * len(spaces), 3.6), sharey=True,
                             squeeze=False)
    marks = {"3ep-10k": "o", "6ep-10k": "s", "3ep-20k": "^", "reference seed 0 vs 1": "*"}
    for ax, space in zip(axes[0], spaces):
        for recipe, mark in marks.items():
            pts = [r for r in table if r["space"] == space and r["recipe"] == recipe]
            if not pts:
                continue
            x = [r["nominal"] for r in pts]
            y = [r["tau"] for r in pts]
            err = [[r["tau"] - r["low"] for r in pts], [r["high"] - r["tau"] for r in pts]]
            ax.errorbar(x, y, yerr=err, fmt=mark + "-", capsize=3, label=recipe)
            for r in pts:
                ax.annotate(f"k={r['k']}" if "seed" not in recipe else "", (r["nominal"], r["tau"]),
                            textcoords="offset points", xytext=(4, -10), fontsize=7)
        ax.axhline(0.6, color="grey", ls=":", lw=1)
        ax.axvline(3.0, color="grey", ls="--", lw=0.8)
        n = max((r["models"] for r in table if r["space"] == space), default=0)
        ax.set_title(f"{space} (up to {n} models)")
        ax.set_xlabel("compute per model (x one 3ep-10k run)")
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel("Kendall tau vs seed-averaged reference")
    axes[0][0].legend(fontsize=7, loc="lower right")
    fig.suptitle(f"within-space rank fidelity against compute, from {runs} runs (95% bootstrap "
                 "CI over models; dotted: goal 0.6, dashed: 3x budget)", fontsize=9)
    fig.tight_layout()
    atomic_write(path, lambda tmp: fig.savefig(tmp, dpi=110, format="png"))
    plt.close(fig)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", default="results/noise.csv")
    ap.add_argument("--column", default="val_error", choices=("val_error", "test_error"),
                    help="the candidate's error that ranks (default: val_error, what a search "
                    "sees); the truth is always the reference's test error")
    ap.add_argument("--rows", type=int, help="use only the first ROWS runs (the study appends)")
    ap.add_argument("--repeats", type=int, default=2000)
    ap.add_argument("--min-models", type=int, default=4, help="leave out cells with fewer")
    ap.add_argument("--out", help="write the table as CSV")
    ap.add_argument("--plot", help="write the figure as PNG")
    args = ap.parse_args()
    with open(args.runs, newline="") as f:
        rows = list(csv.DictReader(f))[:args.rows]
    table = fidelity(rows, args.column, args.repeats, args.min_models)
    print(f"candidate ranked by {args.column}; truth: mean reference test error")
    print("| space | recipe | seeds averaged | models | Kendall tau [95% CI] | compute nominal "
          "| compute measured |")
    print("|---|---|---|---|---|---|---|")
    for r in table:
        print(f"| {r['space']} | {r['recipe']} | {r['k']} | {r['models']} | {r['tau']:.2f} "
              f"[{r['low']:.2f}, {r['high']:.2f}] | {r['nominal']:.1f}x | "
              f"{r['measured']:.1f}x |".replace("nanx", "-"))
    if args.out:
        from regnet_space.files import atomic_write

        def write(tmp):
            with open(tmp, "w", newline="") as f:
                w = csv.DictWriter(f, list(table[0]))
                w.writeheader()
                for r in table:
                    w.writerow({k: (round(v, 4) if isinstance(v, float) else v)
                                for k, v in r.items()})
        atomic_write(args.out, write)
    if args.plot:
        plot(table, Path(args.plot), len(rows))


if __name__ == "__main__":
    main()
