"""Benchmark outputs: curves as figures, tables as CSV.

Example:
    >>> import tempfile
    >>> from regnet_space.bench import TabularOracle, run_benchmark, synthetic_population
    >>> from regnet_space.spaces import get_space
    >>> space = get_space("regnetx", resolution=32, in_channels=3, num_classes=10)
    >>> oracle = TabularOracle.from_table(synthetic_population(space, 200, seed=0, flops="2M:20M"))
    >>> res = run_benchmark(oracle, ["random"], seeds=2, budget=8)
    >>> with tempfile.TemporaryDirectory() as out:
    ...     sorted(write_outputs(res, out))  # doctest: +NORMALIZE_WHITESPACE
    ['benchmark', 'best_so_far', 'curves', 'curves_time', 'ranks', 'ranks_time', 'regret',
     'regret_time', 'summary', 'traces']
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


def plot_curves(result: BenchResult, kind: str = "best", axis: str = "evaluations"):
    """A matplotlib Figure: best-so-far error (``kind="best"``), normalized regret
    (``kind="regret"``), average rank (``kind="rank"``) or hypervolume regret (``kind="hv"``,
    two-objective runs) against evaluations or simulated time (``axis="time"``), mean over seeds
    with a 95% CI band per algorithm. Best and regret plots shade the seed-noise floor: one run's
    seed sd above the best, where a difference is inside the noise."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from .ranks import ranks_over_time

    if kind not in ("best", "regret", "rank", "hv"):
        raise ConfigError(f"kind must be 'best', 'regret', 'rank' or 'hv', got {kind!r}")
    if axis not in ("evaluations", "time"):
        raise ConfigError(f"axis must be 'evaluations' or 'time', got {axis!r}")
    fig = Figure(figsize=(6.4, 5.4), layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    if axis == "time":
        grid = result.time_grid()
        x = grid / 3600
        best = result.best_at_times(grid)
    else:
        x = np.arange(1, result.budget + 1)
        best = result.best_so_far
    scale = result.pop_median - result.pop_min
    if kind == "best":
        data = best
    elif kind == "regret":
        data = (best - result.pop_min) / scale if scale > 0 else best * 0
    elif kind == "rank":
        data = ranks_over_time(best)[:, None, :]  # (A, 1, T): one curve, no band
    else:
        data = result.hv_regret()
    styles = curve_style(list(result.algos))
    every = max(1, result.budget // 8)
    for a, name in enumerate(result.algos):
        m, lo, hi = mean_ci(data[a], axis=0)
        st = styles[name]
        ax.plot(x, m, color=st["color"], ls=st["ls"], marker=st["marker"], ms=4,
                mfc=st["mfc"] or st["color"], markevery=(a % every, every), lw=1.4, label=name)
        if len(result.seeds) > 1 and kind != "rank":
            ax.fill_between(x, lo, hi, color=st["color"], alpha=0.12, lw=0)
    top = f"{result.top * 100:g}"
    sd = float(result.noise_sd or 0.0)
    if kind == "best":
        ax.axhline(result.pop_min, color="k", ls=":", lw=1, label="population best")
        ax.axhline(result.threshold, color="k", ls="--", lw=1, label=f"population top {top}%")
        if sd > 0:
            ax.axhspan(result.pop_min, result.pop_min + sd, color="0.5", alpha=0.18, lw=0,
                       label=f"seed-noise floor (sd {sd:.4f})")
        ax.set_ylabel("truth of the incumbent (best error so far)")
    elif kind == "regret":
        ax.axhline(0, color="k", ls=":", lw=1)
        if sd > 0 and scale > 0:
            ax.axhspan(0, sd / scale, color="0.5", alpha=0.18, lw=0,
                       label=f"seed-noise floor (sd {sd:.4f})")
        ax.set_ylabel("normalized regret (best - min) / (median - min)")
    elif kind == "rank":
        ax.set_ylabel("average rank over seeds (1 = best)")
    else:
        ax.axhline(0, color="k", ls=":", lw=1)
        ax.set_ylabel("hypervolume regret (normalized error and log cost)")
    ax.set_xlabel("simulated hours" if axis == "time" else "evaluations")
    ax.set_xlim(x[0], x[-1])
    what = ("ranks averaged over seeds" if kind == "rank"
            else "mean and bootstrap 95% CI")
    ax.set_title(f"{result.info.get('space', '')}: {len(result.seeds)} seeds, {what}",
                 fontsize=10)
    ax.grid(alpha=0.3)
    # below the axes: inside, it covers the first evaluations where the curves differ most
    fig.legend(*ax.get_legend_handles_labels(), loc="outside lower center", fontsize=7,
               ncol=min(4, len(result.algos) + 2), frameon=False)
    return fig


#: Files :func:`write_outputs` writes (``hypervolume.png`` only for two-objective runs).
OUTPUT_FILES = ("summary.csv", "curves.csv", "curves_time.csv", "traces.csv", "friedman.csv",
                "benchmark.json", "best_so_far.png", "regret.png", "regret_time.png",
                "ranks.png", "ranks_time.png", "cd.png", "hypervolume.png")


def friedman_table(result: BenchResult, fractions=(0.25, 0.5, 1.0)) -> "pd.DataFrame":
    """Friedman test and Nemenyi critical difference (:func:`.ranks.friedman`) on the truth of
    the incumbent at fixed budgets (fractions of the evaluations): one row per budget and
    algorithm with its mean rank, the statistic, p-value, CD and the groups that cannot be told
    apart."""
    import pandas as pd

    from .ranks import friedman

    rows = []
    bsf = result.best_so_far
    for frac in fractions:
        t = max(1, int(round(frac * result.budget)))
        fr = friedman(bsf[:, :, t - 1], list(result.algos))
        groups = "; ".join(",".join(g) for g in fr.groups())
        for name, r in zip(fr.names, fr.mean_ranks):
            rows.append({"evaluations": t, "algo": name, "mean_rank": r,
                         "friedman_stat": fr.statistic, "friedman_p": fr.pvalue, "cd": fr.cd,
                         "seeds": fr.n_seeds, "groups": groups})
    return pd.DataFrame(rows)


def time_curves(result: BenchResult, points: int = 60) -> "pd.DataFrame":
    """Long table: algo, simulated seconds, incumbent truth mean and 95% CI over seeds."""
    import pandas as pd

    grid = result.time_grid(points)
    best = result.best_at_times(grid)
    rows = []
    for a, name in enumerate(result.algos):
        m, lo, hi = mean_ci(best[a], axis=0)
        rows += [(name, float(g), float(mm), float(ll), float(hh))
                 for g, mm, ll, hh in zip(grid, m, lo, hi)]
    return pd.DataFrame(rows, columns=["algo", "sim_seconds", "best_mean", "best_lo", "best_hi"])


def write_outputs(result: BenchResult, out: str | Path) -> dict[str, Path]:
    """Write the summary, curves (against evaluations and simulated time), traces, Friedman
    table, ``benchmark.json`` (answer sources, noise, curve and cost models, surrogate
    fidelity), and the figures (best-so-far, regret with the noise floor, regret against
    simulated time, average rank, critical-difference diagram, hypervolume regret) into
    ``out``."""
    import json

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    paths = {name.rsplit(".", 1)[0]: out / name for name in OUTPUT_FILES}
    if result.costs is None:
        paths.pop("hypervolume")
    for key in paths:  # a link that leads out of the folder is never written through
        check_target(paths[key], force=True, root=out)
    tables = [("summary", result.summary), ("curves", result.curves),
              ("curves_time", lambda: time_curves(result)), ("traces", result.traces)]
    if len(result.algos) >= 2:
        tables.append(("friedman", lambda: friedman_table(result)))
    else:
        paths.pop("friedman"), paths.pop("cd")
    for key, table in tables:
        atomic_write(paths[key], lambda tmp, df=table(): df.to_csv(tmp, index=False))
    info = {k: v for k, v in result.info.items()}
    info.update(noise=result.noise, noise_sd=result.noise_sd, budget=result.budget,
                seeds=len(result.seeds), objectives=list(result.objectives),
                answer_sources=result.answer_sources())
    atomic_write(paths["benchmark"], lambda tmp: Path(tmp).write_text(
        json.dumps(info, indent=1, default=str) + "\n"))
    figs = [("best_so_far", "best", "evaluations"), ("regret", "regret", "evaluations"),
            ("regret_time", "regret", "time"), ("ranks", "rank", "evaluations"),
            ("ranks_time", "rank", "time")]
    if result.costs is not None:
        figs.append(("hypervolume", "hv", "evaluations"))
    for key, kind, axis in figs:
        fig = plot_curves(result, kind, axis)
        atomic_write(paths[key], lambda tmp, fig=fig: fig.savefig(tmp, dpi=120, format="png"))
    if "cd" in paths:
        from .ranks import cd_diagram, friedman

        fr = friedman(result.final, list(result.algos))
        fig = cd_diagram(fr, f"{result.info.get('space', '')}, {result.budget} evaluations")
        atomic_write(paths["cd"], lambda tmp, fig=fig: fig.savefig(tmp, dpi=120, format="png"))
    return paths
