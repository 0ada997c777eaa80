"""Figures of the paper's analyses, as matplotlib :class:`~matplotlib.figure.Figure` objects.

Figures are built on the Agg canvas without pyplot, so nothing here touches pyplot's global state
or needs a display; save them with ``fig.savefig(path)`` or show them in a notebook as they are.
Every function takes populations as ``{label: DataFrame}`` (or a list of DataFrames, or one
DataFrame) of the population-table contract (:mod:`regnet_space.analysis.table`); only ``status == "ok"``
rows are plotted.

Example:
    >>> import numpy as np
    >>> from regnet_space.analysis.table import from_samples
    >>> from regnet_space.spaces import get_space
    >>> samples = get_space("anynetx_a").sample(40, seed=0, flops="360M:400M")
    >>> pop = from_samples("anynetx_a", samples, error=np.linspace(0.3, 0.5, 40))
    >>> fig = edf_figure({"A": pop}, normalize="flops")
    >>> len(fig.axes)
    1
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib import ticker
from matplotlib.figure import Figure

from .efficiency import efficiency_curve
from . import confidence as ci
from . import stats as an
from ..errors import ConfigError

NORMALIZE = ("none", "flops", "params")
_COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2",
           "#7f7f7f", "#bcbd22", "#17becf"]


def _figure(w: float = 6.0, h: float = 4.2, nrows: int = 1, ncols: int = 1, **kw: Any):
    # constrained layout makes room for the suptitle above the panel titles (fixed spacing let
    # them overlap); on a 20-panel grid it adds a few tenths of a second per figure
    fig = Figure(figsize=(w, h), layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(nrows, ncols, squeeze=False, **kw)
    return fig, axes


def _compact(v: float, _pos: Any = None) -> str:
    """A short number: 3 significant digits with K / M / G, e.g. 2M, 375M, 1.6G, 0.25."""
    a = abs(v)
    for div, suf in ((1e9, "G"), (1e6, "M"), (1e3, "K")):
        if a >= div:
            return f"{v / div:.3g}{suf}"
    return f"{v:.3g}"


class CompactLogLocator(ticker.Locator):
    """At most ``max_ticks`` ticks on a log axis: 1-2-5, then 1-3, then 1 x 10^k, then every
    few decades; inside one narrow stretch (no such value in view) a few round linear steps.

    Example:
        >>> CompactLogLocator(5).tick_values(2e6, 1.6e9).tolist()
        [10000000.0, 100000000.0, 1000000000.0]
        >>> [_compact(t) for t in CompactLogLocator(5).tick_values(3.6e8, 4.0e8)]
        ['360M', '380M', '400M']
    """

    def __init__(self, max_ticks: int = 5):
        self.max_ticks = max(2, int(max_ticks))

    def __call__(self):
        vmin, vmax = self.axis.get_view_interval()
        return self.tick_values(vmin, vmax)

    def tick_values(self, vmin: float, vmax: float) -> np.ndarray:
        vmin, vmax = sorted((float(vmin), float(vmax)))
        if not np.isfinite(vmin) or not np.isfinite(vmax) or vmax <= 0:
            return np.array([])
        vmin = vmin if vmin > 0 else vmax / 1e3
        k0, k1 = int(np.floor(np.log10(vmin))), int(np.ceil(np.log10(vmax)))
        tol = 1e-9 * vmax
        inside = lambda t: t[(t >= vmin - tol) & (t <= vmax + tol)]  # noqa: E731
        for subs in ((1.0, 2.0, 5.0), (1.0, 3.0), (1.0,)):
            t = inside(np.array([s * 10.0 ** k for k in range(k0, k1 + 1) for s in subs]))
            if len(t) <= self.max_ticks:
                break
        else:
            stride = int(np.ceil((k1 - k0 + 1) / self.max_ticks))
            t = inside(10.0 ** np.arange(k0 - k0 % stride, k1 + 1, stride))
        if len(t) >= 2:
            return t
        # a narrow range (e.g. 360M-400M) holds at most one 1-2-5 value: round linear steps
        lin = ticker.MaxNLocator(nbins=min(self.max_ticks, 4) - 1, steps=[1, 2, 2.5, 5, 10])
        return inside(lin.tick_values(vmin, vmax))


def _log_axis(ax, which: str = "x", max_ticks: int = 5) -> None:
    """Log scale with a few round ticks (:class:`CompactLogLocator`), compact labels (2M, 4M),
    no minor ticks (cheap to draw, and readable on small panels)."""
    axis = ax.xaxis if which == "x" else ax.yaxis
    (ax.set_xscale if which == "x" else ax.set_yscale)("log")
    axis.set_major_locator(CompactLogLocator(max_ticks))
    axis.set_major_formatter(ticker.FuncFormatter(_compact))
    axis.set_minor_locator(ticker.NullLocator())
    axis.set_minor_formatter(ticker.NullFormatter())


def _constant(values: np.ndarray) -> float | None:
    """The single value of a column that has only one (finite) value, else None."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    return float(v[0]) if v.size and np.all(v == v[0]) else None


def _constant_axis(ax, value: float, which: str = "x") -> None:
    """A readable linear axis around a single value: one tick at the value and a note, where
    matplotlib would otherwise draw a zero-width (or, on a log scale, broken) axis."""
    half = 1.0 if value == round(value) else max(abs(value) * 0.5, 0.5)
    (ax.set_xlim if which == "x" else ax.set_ylim)(value - half, value + half)
    (ax.set_xticks if which == "x" else ax.set_yticks)([value], [_compact(value)])
    # clear of the data (a vertical strip at the centre, or a horizontal line) and of the
    # paper's note in the upper left
    xy, ha, va = (((0.97, 0.97), "right", "top") if which == "x"
                  else ((0.5, 0.06), "center", "bottom"))
    ax.text(*xy, f"constant: {_compact(value)}", transform=ax.transAxes, ha=ha, va=va,
            fontsize=8, color="0.3")


def as_populations(pops: Any) -> dict[str, pd.DataFrame]:
    """Normalise ``pops`` to an ordered ``{label: DataFrame}``."""
    if isinstance(pops, pd.DataFrame):
        return {"population": pops}
    if isinstance(pops, Mapping):
        return {str(k): v for k, v in pops.items()}
    return {f"pop{i}": df for i, df in enumerate(pops)}


def _check_normalize(normalize: str) -> str:
    normalize = str(normalize or "none").lower()
    if normalize not in NORMALIZE:
        raise ConfigError(f"normalize must be one of {', '.join(NORMALIZE)}, got {normalize!r}")
    return normalize


def population_weights(pops: Mapping[str, pd.DataFrame], normalize: str = "none",
                       bins: int = 10) -> dict[str, np.ndarray | None]:
    """Per-population weights of the ok rows: None (plain) or the complexity-normalized weights
    on log-spaced ``bins`` shared by all populations (:func:`analysis.complexity_weights`)."""
    normalize = _check_normalize(normalize)
    oks = {k: an.ok_rows(df) for k, df in pops.items()}
    if normalize == "none":
        return {k: None for k in oks}
    edges = an.complexity_edges([ok[normalize].to_numpy(float) for ok in oks.values()], bins)
    return {k: an.complexity_weights(ok[normalize].to_numpy(float), edges=edges) for k, ok in oks.items()}


def _norm_note(normalize: str, bins: int) -> str:
    if normalize == "none":
        return ""
    return f"\n{normalize}-normalized: equal mass in each of {bins} log-spaced {normalize} bins"


# ------------------------------------------------------------------------------ EDF
#: Above this many distinct errors the EDF band is computed on a grid of this many points
#: (a band per distinct error would cost repeats x N memory for no visible gain).
BAND_POINTS = 400


def _band(e: np.ndarray, w: np.ndarray | None, repeats: int, level: float, seed: int):
    if np.unique(e).size <= BAND_POINTS:
        return ci.edf_band(e, weights=w, repeats=repeats, level=level, seed=seed)
    return ci.edf_band(e, np.linspace(e.min(), e.max(), BAND_POINTS), weights=w, repeats=repeats,
                       level=level, seed=seed)


def edf_figure(pops: Any, normalize: str = "none", bins: int = 10, title: str | None = None, *,
               bands: bool = True, repeats: int = 500, level: float = 0.95,
               seed: int = 0) -> Figure:
    """Error EDFs of several populations on one axis; legend with n, min and (weighted) mean
    error (fractions). ``bands``: shade each EDF's pointwise bootstrap confidence band
    (:func:`analysis.confidence.edf_band`: ``repeats`` resamples of the models, seeded)."""
    pops = as_populations(pops)
    normalize = _check_normalize(normalize)
    weights = population_weights(pops, normalize, bins)
    fig, axes = _figure()
    ax = axes[0, 0]
    for i, (label, df) in enumerate(pops.items()):
        e = an.ok_rows(df)["error"].to_numpy(float)
        w = weights[label]
        c = _COLORS[i % len(_COLORS)]
        x, f = an.edf_steps(e, w)
        mean = float(np.average(e, weights=w))
        ax.plot(np.concatenate([[x[0]], x]), np.concatenate([[0.0], f]), drawstyle="steps-post",
                color=c, lw=1.8, label=f"{label} (n={e.size}, min={e.min():.3f}, mean={mean:.3f})")
        if bands and e.size > 1:
            b = _band(e, w, repeats, level, seed + i)
            ax.fill_between(b.x, b.low, b.high, step="post", color=c, alpha=0.18, lw=0)
    ax.set_xlabel("error")
    ax.set_ylabel("cumulative prob." + (" (weighted)" if normalize != "none" else ""))
    ax.set_ylim(0, 1.0)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right", fontsize=8)
    note = (f"\nshaded: {level:.0%} pointwise bootstrap band ({repeats} resamples)"
            if bands else "")
    ax.set_title(title or "error EDF" + _norm_note(normalize, bins) + note, fontsize=9)
    return fig


# ------------------------------------------------------------------------------ efficiency
def efficiency_figure(pops: Any, normalize: str = "none", bins: int = 10, seed: int = 0,
                      rounds: int = 1, title: str | None = None) -> Figure:
    """Random-search efficiency: E[best error of k random models] against k (log2 axis).

    Solid line and band: the exact order-statistics expectation
    (:func:`analysis.efficiency.efficiency_curve`) with a 95% bootstrap band over the models
    (non-increasing in k by construction); dotted, thin: the paper's bootstrap (floor(N/k)
    groups of k), which is left with one or two groups at large k.
    """
    pops = as_populations(pops)
    normalize = _check_normalize(normalize)
    weights = population_weights(pops, normalize, bins)
    fig, axes = _figure()
    ax = axes[0, 0]
    for i, (label, df) in enumerate(pops.items()):
        e = an.ok_rows(df)["error"].to_numpy(float)
        curve = efficiency_curve(e, weights=weights[label], seed=seed)
        tab = an.efficiency_table(e, seed=seed, weights=weights[label], rounds=rounds)
        c = _COLORS[i % len(_COLORS)]
        k = curve["k"].to_numpy()
        ax.plot(k, curve["exact"], color=c, lw=1.8, marker="o", ms=3,
                label=f"{label} E[best of k] (95% bootstrap over models)")
        ax.fill_between(k, curve["low"], curve["high"], color=c, alpha=0.15, lw=0)
        ax.plot(tab["k"], tab["mean"], color=c, ls=":", lw=1.0,
                label=f"{label} paper's bootstrap (floor(N/k) groups)")
    ax.set_xscale("log", base=2)
    ax.set_xlabel("k (models sampled at random)")
    ax.set_ylabel("best error among k")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    ax.set_title(title or "random search efficiency" + _norm_note(normalize, bins), fontsize=9)
    return fig


# ------------------------------------------------------------------------------ bootstrap
def _bootstrap_axis(ax, ok: pd.DataFrame, column: str, color: str, seed: int, **kw: Any):
    x = an.column_values(ok, column)
    e = ok["error"].to_numpy(float)
    ax.set_xlabel(column)
    ax.set_ylabel("error")
    ax.grid(alpha=0.3)
    const = _constant(x)
    if const is not None:
        # one value: no best region to find, and a log or zero-width axis would be broken
        ax.scatter(x, e, s=8, color=color, alpha=0.6, lw=0)
        _constant_axis(ax, const, "x")
        ax.set_title(f"{column}: constant {_compact(const)}", fontsize=8)
        return None
    r = an.bootstrap_best(x, e, column=column, seed=seed, **kw)
    ax.axvspan(r.low, r.high, color=color, alpha=0.18, lw=0, label="95% CI of best")
    ax.scatter(x, e, s=8, color=color, alpha=0.6, lw=0)
    ax.axvline(r.median, color=color, lw=1.5, label=f"median {_compact(r.median)}")
    if an.is_log_column(ok, column) and np.nanmin(x) > 0:
        _log_axis(ax, "x", max_ticks=4)
    ax.set_title(f"{column}: {_compact(r.median)} [{_compact(r.low)}, {_compact(r.high)}]",
                 fontsize=8)
    return r


def bootstrap_figure(pop: pd.DataFrame, column: str, seed: int = 0, frac: float = 0.25,
                     repeats: int = 10_000, label: str | None = None) -> Figure:
    """Error against one column, with the bootstrap best region (shaded 95% CI, median line).
    Log x for log-distributed parameters."""
    ok = an.ok_rows(pop)
    fig, axes = _figure(5.0, 3.8)
    _bootstrap_axis(axes[0, 0], ok, column, _COLORS[0], seed, frac=frac, repeats=repeats)
    axes[0, 0].legend(fontsize=7)
    if label:
        fig.suptitle(label, fontsize=9)
    return fig


def bootstrap_grid_figure(pop: pd.DataFrame, columns: Sequence[str], seed: int = 0,
                          frac: float = 0.25, repeats: int = 10_000, label: str | None = None,
                          ncols: int = 4) -> Figure:
    """:func:`bootstrap_figure` for several columns, one panel each."""
    ok = an.ok_rows(pop)
    columns = list(columns)
    ncols = max(1, min(ncols, len(columns)))
    nrows = -(-len(columns) // ncols)
    fig, axes = _figure(3.2 * ncols, 2.7 * nrows, nrows, ncols)
    for i, ax in enumerate(axes.ravel()):
        if i >= len(columns):
            ax.set_visible(False)
            continue
        try:
            _bootstrap_axis(ax, ok, columns[i], _COLORS[0], seed, frac=frac, repeats=repeats)
        except ValueError as e:
            ax.text(0.5, 0.5, str(e)[:60], ha="center", va="center", fontsize=7, transform=ax.transAxes)
    if label:
        fig.suptitle(f"{label}: error vs parameter, bootstrap best region (median, 95% CI)", fontsize=9)
    return fig


def _integer_axis(ax, values: Any) -> None:
    """Integer ticks for an integer column (b in {1, 2, 4}: ticks 1, 2, 4, never 1.5)."""
    v = np.asarray(values, float)
    v = v[np.isfinite(v)]
    if not v.size or not np.allclose(v, np.round(v)):
        return
    ticks = np.unique(np.round(v))
    if ticks.size <= 6:
        ax.set_yticks(ticks)
        ax.yaxis.set_major_formatter(ticker.FormatStrFormatter("%g"))
    else:
        ax.yaxis.set_major_locator(ticker.MaxNLocator(integer=True))


def trend_figure(pop: pd.DataFrame, columns: Sequence[str] | None = None,
                 regimes: int | Sequence[float] = 3, seed: int = 0, min_models: int = 8,
                 label: str | None = None, **kw: Any) -> Figure:
    """Best-region median and 95% CI of each column against the flops regime (log x), for a
    population spanning several regimes, with the paper's findings as reference text/lines."""
    if columns is None:
        cols = an.param_columns(pop)
        columns = [c for c in ("d", "w0", "wa", "wm", "g", "b") if c in cols] or cols[:6]
    columns = list(columns)
    ncols = max(1, min(3, len(columns)))
    nrows = -(-len(columns) // ncols)
    fig, axes = _figure(3.6 * ncols, 2.9 * nrows, nrows, ncols)
    for i, ax in enumerate(axes.ravel()):
        if i >= len(columns):
            ax.set_visible(False)
            continue
        c = columns[i]
        const = _constant(an.column_values(an.ok_rows(pop), c))
        tab = (an.regime_trend(pop, c, regimes=regimes, seed=seed, min_models=min_models, **kw)
               if const is None else pd.DataFrame())
        if const is not None:
            f = an.ok_rows(pop)["flops"].to_numpy(float)
            ax.hlines(const, f.min(), f.max(), color=_COLORS[0], lw=1.5)
            _constant_axis(ax, const, "y")
            _log_axis(ax, "x", max_ticks=4)
        elif len(tab):
            mid = tab["flops_mid"].to_numpy()
            med = tab["median"].to_numpy()
            ax.fill_between(mid, tab["low"], tab["high"], color=_COLORS[0], alpha=0.18, lw=0)
            ax.errorbar(mid, med, yerr=[med - tab["low"], tab["high"] - med], color=_COLORS[0],
                        marker="o", ms=4, capsize=3, lw=1.5)
            _log_axis(ax, "x")
        else:
            ax.text(0.5, 0.5, f"no regime with >= {min_models} models", ha="center", fontsize=7,
                    transform=ax.transAxes)
        if c in an.PAPER_VALUES and const is None:
            ax.axhline(an.PAPER_VALUES[c], color="k", ls=":", lw=1)
        if c in an.PAPER_FINDINGS:  # above the axes: inside, it lands on the markers
            ax.set_title(an.PAPER_FINDINGS[c], fontsize=7, color="0.3")
        if an.is_log_column(pop, c) and const is None:
            _log_axis(ax, "y", max_ticks=4)
        elif const is None:
            _integer_axis(ax, an.column_values(an.ok_rows(pop), c))
        ax.set_xlabel("flops (regime centre)")
        ax.set_ylabel(f"best {c}")
        ax.grid(alpha=0.3)
    fig.suptitle((f"{label}: " if label else "") + "best region per flops regime (median, 95% CI)",
                 fontsize=9)
    return fig


# ------------------------------------------------------------------------------ e_fit
def efit_figure(pops: Any, max_models: int | None = 500, seed: int = 0) -> Figure:
    """e_fit (quantized linear fit of the per-block widths) against error, as the paper's Fig. 8.
    Accepts one population or several (one colour each)."""
    pops = as_populations(pops)
    fig, axes = _figure()
    ax = axes[0, 0]
    for i, (label, df) in enumerate(pops.items()):
        tab = an.efit_table(df, max_models=max_models, seed=seed)
        ax.scatter(tab["e_fit"], tab["error"], s=10, alpha=0.6, lw=0,
                   color=_COLORS[i % len(_COLORS)], label=f"{label} (n={len(tab)})")
    ax.set_xlabel("e_fit (mean |log(predicted w_j / w_j)|)")
    ax.set_ylabel("error")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    ax.set_title("quantized linear fit vs error", fontsize=9)
    return fig


def staircase_figure(pop: pd.DataFrame, k: int = 4, label: str | None = None) -> Figure:
    """Per-block widths w_j of the k best models (steps) with their quantized linear fit
    (predicted w_j, and the continuous line u_j = w0 + wa j), log y."""
    from ..regnet import quantized_linear_fit
    best = an.best_models(pop, k)
    cfgs = an.configs(best)
    n = max(1, len(cfgs))
    ncols = min(4, n)
    nrows = -(-n // ncols)
    fig, axes = _figure(3.3 * ncols, 2.8 * nrows, nrows, ncols)
    errs = best["error"].to_numpy(float)
    for i, ax in enumerate(axes.ravel()):
        if i >= len(cfgs):
            ax.set_visible(False)
            continue
        ws = np.asarray(cfgs[i].block_widths, float)
        fit = quantized_linear_fit(ws)
        j = np.arange(ws.size)
        ax.step(j, ws, where="mid", color=_COLORS[0], lw=2, label="observed w_j")
        ax.step(j, fit.predicted, where="mid", color=_COLORS[1], lw=1.2, ls="--",
                label="fitted (quantized)")
        ax.plot(j, fit.w0 + fit.wa * j, color="0.5", lw=1, ls=":", label="u_j = w0 + wa j")
        _log_axis(ax, "y")
        ax.set_xlabel("block j")
        ax.xaxis.set_major_locator(ticker.MaxNLocator(integer=True))  # blocks are counted
        ax.set_ylabel("width")
        ax.grid(alpha=0.3, which="both")
        ax.set_title(f"#{i + 1} error {errs[i]:.3f}, e_fit {fit.e_fit:.3f}\n"
                     f"w0={fit.w0:g} wa={fit.wa:.1f} wm={fit.wm:.2f}", fontsize=7)
        if i == 0:
            ax.legend(fontsize=6)
    if label:
        fig.suptitle(f"{label}: best {len(cfgs)} models, per-block widths and fit", fontsize=9)
    return fig
