"""A self-contained HTML report comparing populations (``regnet-space compare``).

:func:`build_report` writes ``index.html`` (every figure embedded as a base64 PNG, so the file can
be mailed or opened anywhere) and the same PNGs next to it.

Example:
    >>> import tempfile, numpy as np
    >>> from regnet_space.analysis.table import from_samples
    >>> from regnet_space.spaces import get_space
    >>> samples = get_space("anynetx_a").sample(30, seed=0, flops="360M:400M")
    >>> pop = from_samples("anynetx_a", samples, error=np.linspace(0.3, 0.5, 30))
    >>> with tempfile.TemporaryDirectory() as out:
    ...     build_report({"A": pop}, out, repeats=200, efit_max=5).name
    'index.html'
"""

from __future__ import annotations

import base64
import html
import io
import re
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from . import stats as an
from . import plots
from ..errors import ConfigError


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("_") or "pop"


def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    return buf.getvalue()


def _fmt(v: Any) -> Any:
    if isinstance(v, (float, np.floating)):
        if not np.isfinite(v):
            return ""
        a = abs(v)
        return f"{v:.3e}" if a >= 1e5 else f"{v:.4g}"
    return v


def _table(df: pd.DataFrame) -> str:
    return df.map(_fmt).to_html(index=False, escape=True, border=0, classes="t")


_CSS = """
body{font-family:system-ui,sans-serif;margin:24px;max-width:1200px;color:#222}
h1{font-size:1.4em} h2{font-size:1.15em;margin-top:1.6em;border-bottom:1px solid #ddd}
table.t{border-collapse:collapse;font-size:12px;margin:8px 0}
table.t td,table.t th{border:1px solid #ccc;padding:3px 6px;text-align:right}
table.t th{background:#f3f3f3} img{max-width:100%;border:1px solid #eee;margin:6px 0}
.note{color:#555;font-size:13px}
"""


def build_report(pops: Mapping[str, pd.DataFrame], out: str | Path, *, normalize: str = "flops",
                 bins: int = 10, seed: int = 0, repeats: int = 10_000, frac: float = 0.25,
                 efit_max: int | None = 500, staircase_k: int = 4, regimes: int = 3,
                 title: str = "regnet-space population comparison",
                 sources: Sequence[str] | None = None) -> Path:
    """Write ``out/index.html`` and the PNG figures; returns the index path.

    Sections: summary (counts by status; non-ok rows are excluded from every statistic), error
    EDFs (plain and, unless ``normalize="none"``, complexity-normalized), random-search
    efficiency (bootstrap and exact), samples needed to reach the top q%, bootstrap best regions
    (parameters shared by all populations, flops and total depth, then each population's own
    parameters), e_fit against error, the best models' width staircases, and the trend of the
    best region across flops regimes where a population spans several.
    """
    pops = plots.as_populations(pops)
    if not pops:
        raise ConfigError("no populations to compare")
    normalize = plots._check_normalize(normalize)
    for label, df in pops.items():
        if len(an.ok_rows(df)) == 0:
            raise ConfigError(f"population {label!r} has no rows with status ok")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    body: list[str] = []
    files: list[str] = []

    def add_fig(fig, name: str, caption: str) -> None:
        data = _png(fig)
        fig.clf()
        (out / name).write_bytes(data)
        files.append(name)
        b64 = base64.b64encode(data).decode("ascii")
        body.append(f'<figure><img alt="{html.escape(caption)}" src="data:image/png;base64,{b64}">'
                    f'<figcaption class="note">{html.escape(caption)}</figcaption></figure>')

    def h2(text: str) -> None:
        body.append(f"<h2>{html.escape(text)}</h2>")

    def note(text: str) -> None:
        body.append(f'<p class="note">{html.escape(text)}</p>')

    labels = list(pops)
    slugs = {}
    for label in labels:
        s, j = _slug(label), 2
        while s in slugs.values():
            s, j = f"{_slug(label)}_{j}", j + 1
        slugs[label] = s

    # ---------------------------------------------------------------- summary
    h2("Summary")
    summ = an.summary_table(pops)
    excluded = int(summ["n_excluded"].sum())
    note(f"Only rows with status 'ok' are analysed; {excluded} row(s) were excluded "
         f"(infeasible, failed or pruned are counted separately below).")
    if sources:
        note("Sources: " + "; ".join(f"{l} = {s}" for l, s in zip(labels, sources)))
    cols = ["population", "space", "n_total", "n_ok", "n_infeasible", "n_failed", "n_pruned",
            "error_min", "error_median", "error_mean", "flops_min", "flops_max"]
    body.append(_table(summ[[c for c in cols if c in summ.columns]]))
    body.append(_table(summ[["population", "best_error", "best_params", "best_config"]]))

    # ---------------------------------------------------------------- EDF
    h2("Error EDF")
    note("F(e) = fraction of models with error < e. Legend: n, min and mean error"
         + (" (mean weighted as the EDF)." if normalize != "none" else "."))
    add_fig(plots.edf_figure(pops), "edf.png", "error EDF (plain)")
    if normalize != "none":
        add_fig(plots.edf_figure(pops, normalize=normalize, bins=bins), f"edf_{normalize}.png",
                f"error EDF, {normalize}-normalized: each of {bins} log-spaced {normalize} bins "
                f"(shared by all populations) gets equal total weight")

    # ---------------------------------------------------------------- efficiency
    h2("Random search efficiency")
    add_fig(plots.efficiency_figure(pops, normalize=normalize, bins=bins, seed=seed),
            "efficiency.png",
            "expected best error among k random models: bootstrap (floor(N/k) groups of k with "
            f"replacement, mean ± 2 std, seed {seed}) and the exact order-statistics expectation"
            + (f"; {normalize}-normalized" if normalize != "none" else ""))
    weights = plots.population_weights(pops, normalize, bins)
    eff_rows, top_rows = [], []
    for label, df in pops.items():
        e = an.ok_rows(df)["error"].to_numpy(float)
        tab = an.efficiency_table(e, seed=seed, weights=weights[label])
        tab.insert(0, "population", label)
        eff_rows.append(tab)
        row = {"population": label, "n_ok": e.size}
        for q in (0.01, 0.05, 0.10):
            row[f"top {q:.0%} (p=0.9)"] = an.samples_to_top(e, q=q, p=0.9, weights=weights[label])
            row[f"top {q:.0%} (p=0.95)"] = an.samples_to_top(e, q=q, p=0.95, weights=weights[label])
        top_rows.append(row)
    body.append(_table(pd.concat(eff_rows, ignore_index=True)))
    note("Random samples needed to draw at least one model of the population's top q% with "
         "probability p (smallest k with 1 - (1 - q')^k >= p; q' includes models tied with the "
         "threshold error):")
    body.append(_table(pd.DataFrame(top_rows)))

    # ---------------------------------------------------------------- bootstrap
    h2("Best region (empirical bootstrap)")
    note(f"{repeats} resamples of {frac:.0%} of the models with replacement; the parameter value of "
         f"each resample's best model; 2.5/50/97.5 percentiles (seed {seed}).")
    shared = an.shared_params(pops)
    common = shared + [c for c in ("flops", "depth") if c not in shared]
    kw = dict(seed=seed, repeats=repeats, frac=frac)
    tab = an.best_region_table(pops, common, **kw)
    if len(tab):
        wide = tab.pivot(index="column", columns="population", values=["low", "median", "high"])
        wide = wide.reindex(index=[c for c in common if c in set(tab["column"])])
        wide.columns = [f"{p} {s}" for s, p in wide.columns]
        order = [f"{p} {s}" for p in labels for s in ("low", "median", "high") if f"{p} {s}" in wide.columns]
        body.append(_table(wide[order].reset_index()))
    if not shared and len(pops) > 1:
        note("The populations share no sampled parameter (different design spaces): the common "
             "table shows flops and total depth; each population's own parameters follow.")
    for label, df in pops.items():
        own = an.param_columns(df)
        cols = list(dict.fromkeys(own + ["flops"]))
        t = an.best_region_table({label: df}, cols, **kw)
        body.append(f"<h3>{html.escape(label)}</h3>")
        body.append(_table(t.drop(columns="population")))
        add_fig(plots.bootstrap_grid_figure(df, [c for c in cols if c in set(t["column"])],
                                            label=label, **kw),
                f"bootstrap_{slugs[label]}.png",
                f"{label}: error against each parameter; shaded: 95% CI of the best value, line: median")

    # ---------------------------------------------------------------- e_fit
    h2("Quantized linear fit")
    cap = f" (a seeded random subset of at most {efit_max} ok models per population)" if efit_max else ""
    add_fig(plots.efit_figure(pops, max_models=efit_max, seed=seed), "efit.png",
            "e_fit (mean |log(predicted / observed)| of the per-block widths under the best "
            "quantized linear fit) against error" + cap)
    for label, df in pops.items():
        add_fig(plots.staircase_figure(df, k=staircase_k, label=label), f"staircase_{slugs[label]}.png",
                f"{label}: per-block widths of the {staircase_k} best models with their fit (log y)")

    # ---------------------------------------------------------------- trends
    h2("Trends across flops regimes")
    any_trend = False
    for label, df in pops.items():
        ok = an.ok_rows(df)
        f = ok["flops"].to_numpy(float)
        if f.size < 16 or f.max() / max(f.min(), 1) < 2:
            continue
        cols = an.param_columns(df)
        cols = [c for c in ("d", "w0", "wa", "wm", "g", "b") if c in cols] or ["depth", "w_last"]
        trend = pd.concat([an.regime_trend(df, c, regimes=regimes, **kw).assign(column=c)
                           for c in cols], ignore_index=True)
        if not len(trend) or trend.groupby("column").size().max() < 2:
            continue
        any_trend = True
        add_fig(plots.trend_figure(df, cols, regimes=regimes, label=label, **kw),
                f"trend_{slugs[label]}.png",
                f"{label}: best-region median and 95% CI per flops regime ({regimes} log-spaced "
                "regimes); dotted lines and grey text: the paper's findings")
    if not any_trend:
        note("No population spans at least two flops regimes (a factor of 2 in flops with enough "
             "models per regime); no trend plot.")

    page = (f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
            f"<style>{_CSS}</style></head><body><h1>{html.escape(title)}</h1>"
            f"<p class='note'>Populations: {html.escape(', '.join(labels))}. normalize={normalize}, "
            f"seed={seed}. Figures are embedded; the same PNGs are in this folder: "
            f"{html.escape(', '.join(files))}.</p>" + "\n".join(body) + "</body></html>")
    index = out / "index.html"
    index.write_text(page, encoding="utf-8")
    return index
