"""Benchmark outputs: curves as figures, tables as CSV.

Example:
    >>> import tempfile
    >>> from regnet_space.bench import TabularOracle, run_benchmark, synthetic_population
    >>> from regnet_space.spaces import get_space
    >>> space = get_space("regnetx", resolution=32, in_channels=3, num_classes=10)
    >>> oracle = TabularOracle.from_table(synthetic_population(space, 200, seed=0, flops="2M:20M"))
    >>> res = run_benchmark(oracle, ["random"], seeds=2, budget=8)
    >>> with tempfile.TemporaryDirectory() as out:
    ...     sorted(write_outputs(res, out))
    ['best_so_far', 'curves', 'regret', 'summary', 'traces']
"""

from __future__ import annotations

from pathlib import Path

import numpy as np


from .metrics import mean_ci
from .runs import BenchResult
from ..errors import ConfigError

# ------------------------------------------------------------------------------ plots, files
_COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2",
           "#7f7f7f", "#bcbd22", "#17becf"]


def plot_curves(result: BenchResult, kind: str = "best"):
    """A matplotlib Figure: best-so-far error (``kind="best"``) or normalized regret
    (``kind="regret"``) against evaluations, mean over seeds with a 95% CI band per algorithm."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    if kind not in ("best", "regret"):
        raise ConfigError(f"kind must be 'best' or 'regret', got {kind!r}")
    fig = Figure(figsize=(6.4, 4.4), layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    x = np.arange(1, result.budget + 1)
    data = result.best_so_far if kind == "best" else result.regret()
    for a, name in enumerate(result.algos):
        m, lo, hi = mean_ci(data[a], axis=0)
        c = _COLORS[a % len(_COLORS)]
        ax.plot(x, m, color=c, lw=1.6, label=name)
        if len(result.seeds) > 1:
            ax.fill_between(x, lo, hi, color=c, alpha=0.18, lw=0)
    top = f"{result.top * 100:g}"
    if kind == "best":
        ax.axhline(result.pop_min, color="k", ls=":", lw=1, label="population best")
        ax.axhline(result.threshold, color="k", ls="--", lw=1, label=f"population top {top}%")
        ax.set_ylabel("best error so far")
    else:
        ax.axhline(0, color="k", ls=":", lw=1)
        ax.set_ylabel("normalized regret (best - min) / (median - min)")
    ax.set_xlabel("evaluations")
    ax.set_xlim(1, result.budget)
    ax.set_title(f"{result.info.get('space', '')}: {len(result.seeds)} seeds, mean and bootstrap 95% CI",
                 fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return fig


def write_outputs(result: BenchResult, out: str | Path) -> dict[str, Path]:
    """Write summary.csv, curves.csv, traces.csv, best_so_far.png and regret.png into ``out``."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    paths = {"summary": out / "summary.csv", "curves": out / "curves.csv",
             "traces": out / "traces.csv", "best_so_far": out / "best_so_far.png",
             "regret": out / "regret.png"}
    result.summary().to_csv(paths["summary"], index=False)
    result.curves().to_csv(paths["curves"], index=False)
    result.traces().to_csv(paths["traces"], index=False)
    plot_curves(result, "best").savefig(paths["best_so_far"], dpi=120)
    plot_curves(result, "regret").savefig(paths["regret"], dpi=120)
    return paths
