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
from ..files import atomic_write, check_target

# ------------------------------------------------------------------------------ plots, files
_COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2",
           "#7f7f7f", "#bcbd22", "#17becf"]
_MARKERS = ["o", "s", "^", "D", "v", "P", "X", "*"]


def curve_style(names: list[str]) -> dict[str, dict]:
    """Line style per algorithm label: a colour and marker per sampler, solid for the feasible
    encoding and dashed for ``raw`` (labels ``sampler/encoding``), so curves that coincide (all
    raw searches stuck at the worst error) stay distinguishable.

    Example:
        >>> st = curve_style(["tpe/feasible", "tpe/raw", "random/raw"])
        >>> st["tpe/raw"]["color"] == st["tpe/feasible"]["color"], st["tpe/raw"]["ls"]
        (True, '--')
        >>> st["random/raw"]["marker"] != st["tpe/raw"]["marker"]
        True
    """
    bases = list(dict.fromkeys(n.split("/")[0] for n in names))
    out = {}
    for n in names:
        base, _, enc = n.partition("/")
        i = bases.index(base)
        out[n] = {"color": _COLORS[i % len(_COLORS)], "marker": _MARKERS[i % len(_MARKERS)],
                  "ls": "--" if enc == "raw" else "-", "mfc": "none" if enc == "raw" else None}
    return out


def plot_curves(result: BenchResult, kind: str = "best"):
    """A matplotlib Figure: best-so-far error (``kind="best"``) or normalized regret
    (``kind="regret"``) against evaluations, mean over seeds with a 95% CI band per algorithm."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    if kind not in ("best", "regret"):
        raise ConfigError(f"kind must be 'best' or 'regret', got {kind!r}")
    fig = Figure(figsize=(6.4, 5.4), layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    x = np.arange(1, result.budget + 1)
    data = result.best_so_far if kind == "best" else result.regret()
    styles = curve_style(list(result.algos))
    every = max(1, result.budget // 8)
    for a, name in enumerate(result.algos):
        m, lo, hi = mean_ci(data[a], axis=0)
        st = styles[name]
        ax.plot(x, m, color=st["color"], ls=st["ls"], marker=st["marker"], ms=4,
                mfc=st["mfc"] or st["color"], markevery=(a % every, every), lw=1.4, label=name)
        if len(result.seeds) > 1:
            ax.fill_between(x, lo, hi, color=st["color"], alpha=0.12, lw=0)
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
    # below the axes: inside, it covers the first evaluations where the curves differ most
    fig.legend(*ax.get_legend_handles_labels(), loc="outside lower center", fontsize=7,
               ncol=min(4, len(result.algos) + 2), frameon=False)
    return fig


def write_outputs(result: BenchResult, out: str | Path) -> dict[str, Path]:
    """Write summary.csv, curves.csv, traces.csv, best_so_far.png and regret.png into ``out``."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    paths = {"summary": out / "summary.csv", "curves": out / "curves.csv",
             "traces": out / "traces.csv", "best_so_far": out / "best_so_far.png",
             "regret": out / "regret.png"}
    for key in paths:  # a link that leads out of the folder is never written through
        check_target(paths[key], force=True, root=out)
    for key, table in (("summary", result.summary), ("curves", result.curves),
                       ("traces", result.traces)):
        atomic_write(paths[key], lambda tmp, df=table(): df.to_csv(tmp, index=False))
    for key, kind in (("best_so_far", "best"), ("regret", "regret")):
        fig = plot_curves(result, kind)
        atomic_write(paths[key], lambda tmp, fig=fig: fig.savefig(tmp, dpi=120, format="png"))
    return paths
