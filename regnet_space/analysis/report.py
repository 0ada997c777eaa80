"""A self-contained HTML report comparing populations (``regnet-space compare``).

:func:`build_report` writes ``index.html`` (every figure embedded as a base64 PNG, so the file can
be mailed or opened anywhere) and the same PNGs next to it. The page is built by one function per
section writing into a small document builder (:class:`Page`), which escapes all text; errors
are shown as fractions in [0, 1].

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
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from string import Template
from typing import Any, Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from .efficiency import efficiency_curve
from . import confidence as ci
from . import stats as an
from . import plots
from .noise import inside, noise_floor, tied_with_best
from .tables import result_tables
from ..errors import ConfigError
from ..files import atomic_write, check_target

#: Resamples of the EDF bands and the dominance test: pointwise percentiles settle long before
#: the 10^4 repeats of the best-region bootstrap, and each resample costs N x points here.
EDF_REPEATS = 1000

_CSS = """
body{font-family:system-ui,sans-serif;margin:24px;max-width:1200px;color:#222}
h1{font-size:1.4em} h2{font-size:1.15em;margin-top:1.6em;border-bottom:1px solid #ddd}
table.t{border-collapse:collapse;font-size:12px;margin:8px 0}
table.t td,table.t th{border:1px solid #ccc;padding:3px 6px;text-align:right}
table.t th{background:#f3f3f3} img{max-width:100%;border:1px solid #eee;margin:6px 0}
.note{color:#555;font-size:13px}
"""

_PAGE = Template("""<!doctype html>
<html><head><meta charset="utf-8"><title>$title</title><style>$css</style></head>
<body><h1>$title</h1>
$body
</body></html>
""")

_FIGURE = Template('<figure><img alt="$caption" src="data:image/png;base64,$data">'
                   '<figcaption class="note">$caption</figcaption></figure>')


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("_") or "pop"


def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    return buf.getvalue()


def _fmt(v: Any) -> Any:
    """A table cell: large amounts as the figures print them (2.95M), others to 4 digits.

    Example:
        >>> _fmt(2.951e6), _fmt(0.21234), _fmt(float("nan"))
        ('2.95M', '0.2123', '')
    """
    if isinstance(v, (float, np.floating)):
        if not np.isfinite(v):
            return ""
        return plots._compact(v) if abs(v) >= 1e5 else f"{v:.4g}"
    return v


class Page:
    """An HTML body under construction: escaped headings, notes, lists, tables and figures (each
    PNG written to ``out`` and embedded), rendered by :meth:`html`.

    Example:
        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as out:
        ...     page = Page(Path(out))
        ...     page.h2("A < B"); page.note("errors are fractions")
        ...     "<h2>A &lt; B</h2>" in page.html("t")
        True
    """

    def __init__(self, out: Path):
        self.out = out
        self.parts: list[str] = []
        self.files: list[str] = []

    def h2(self, text: str) -> None:
        self.parts.append(f"<h2>{html.escape(text)}</h2>")

    def h3(self, text: str) -> None:
        self.parts.append(f"<h3>{html.escape(text)}</h3>")

    def note(self, text: str, *, first: bool = False) -> None:
        at = 0 if first else len(self.parts)
        self.parts.insert(at, f'<p class="note">{html.escape(text)}</p>')

    def bullets(self, items: Sequence[str]) -> None:
        self.parts.append("<ul>" + "".join(f"<li>{html.escape(t)}</li>" for t in items) + "</ul>")

    def table(self, df: pd.DataFrame) -> None:
        self.parts.append(df.map(_fmt).to_html(index=False, escape=True, border=0, classes="t"))

    def figure(self, fig, name: str, caption: str) -> None:
        data = _png(fig)
        fig.clf()  # frees the figure's artists now; a report draws dozens of them
        atomic_write(check_target(self.out / name, force=True, root=self.out), data)
        self.files.append(name)
        self.parts.append(_FIGURE.substitute(caption=html.escape(caption),
                                             data=base64.b64encode(data).decode("ascii")))

    def html(self, title: str) -> str:
        return _PAGE.substitute(title=html.escape(title), css=_CSS, body="\n".join(self.parts))


@dataclass(frozen=True)
class _Report:
    """What every section needs: the populations and the report's settings."""

    pops: Mapping[str, pd.DataFrame]
    normalize: str
    bins: int
    seed: int
    repeats: int
    frac: float
    efit_max: int | None
    staircase_k: int
    regimes: int
    sources: Sequence[str] | None
    seed_sd: float | None = None

    def floor_text(self, label: str) -> str:
        return noise_floor(self.pops[label], self.seed_sd).describe()

    def tied(self, label: str) -> int:
        """Models one run per model cannot tell from the population's best."""
        df = self.pops[label]
        return tied_with_best(an.ok_rows(df)["error"], noise_floor(df, self.seed_sd).sd)

    @property
    def labels(self) -> list[str]:
        return list(self.pops)

    @cached_property
    def slugs(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for label in self.pops:
            s, j = _slug(label), 2
            while s in out.values():
                s, j = f"{_slug(label)}_{j}", j + 1
            out[label] = s
        return out

    @cached_property
    def weights(self) -> dict[str, np.ndarray | None]:
        return plots.population_weights(self.pops, self.normalize, self.bins)

    @property
    def boot(self) -> dict[str, Any]:
        return dict(seed=self.seed, repeats=self.repeats, frac=self.frac)

    @property
    def norm_text(self) -> str:
        return f"; {self.normalize}-normalized" if self.normalize != "none" else ""


# ------------------------------------------------------------------------------ sections
def _summary(page: Page, r: _Report) -> None:
    page.h2("Summary")
    summ = an.summary_table(r.pops, r.seed_sd)
    excluded = int(summ["n_excluded"].sum())
    page.note(f"Only rows with status 'ok' are analysed; {excluded} row(s) were excluded "
              f"(infeasible, failed or pruned are counted separately below). Errors are "
              f"fractions in [0, 1].")
    if r.sources:
        page.note("Sources: " + "; ".join(f"{lab} = {s}" for lab, s in zip(r.labels, r.sources)))
    cols = ["population", "space", "n_total", "n_ok", "n_infeasible", "n_failed", "n_pruned",
            "error_min", "error_median", "error_mean", "flops_min", "flops_max"]
    page.table(summ[[c for c in cols if c in summ.columns]])
    page.table(summ[["population", "best_error", "noise_sd", "tied_with_best", "best_params",
                     "best_config"]])
    page.note("How sure the single-model figures are: "
              + "; ".join(f"{lab}: {r.floor_text(lab)}" for lab in r.labels)
              + ". tied_with_best counts the models within 1.96 x sqrt(2) x noise_sd of the best "
              "error, which one run per model cannot tell from the best model; the best model "
              "named here is one of them, not a finding by itself.")


def _edf(page: Page, r: _Report) -> None:
    page.h2("Error EDF")
    page.note("F(e) = fraction of models with error < e. Legend: n, min and mean error"
              + (" (mean weighted as the EDF)" if r.normalize != "none" else "")
              + f"; shaded: 95% pointwise bootstrap band ({EDF_REPEATS} resamples of the "
              f"models, seed {r.seed}).")
    kw = dict(repeats=EDF_REPEATS, seed=r.seed)
    page.figure(plots.edf_figure(r.pops, **kw), "edf.png", "error EDF (plain)")
    if r.normalize != "none":
        page.figure(plots.edf_figure(r.pops, normalize=r.normalize, bins=r.bins, **kw),
                    f"edf_{r.normalize}.png",
                    f"error EDF, {r.normalize}-normalized: each of {r.bins} log-spaced "
                    f"{r.normalize} bins (shared by all populations) gets equal total weight")


def _dominance(page: Page, r: _Report) -> None:
    if len(r.pops) < 2:
        return
    page.h3("Does one EDF dominate another?")
    page.note(f"Each pair A vs B is resampled {EDF_REPEATS} times (seed {r.seed}). 'Above on x%': "
              "the share of the pooled 5th-95th error percentiles where the 95% pointwise CI of "
              "F_A - F_B lies above 0 (A has significantly more models below that error). A "
              "negative mean error difference or a positive area between the EDFs favours A"
              + (f". EDFs {r.normalize}-normalized." if r.normalize != "none" else "."))
    doms = ci.pairwise_dominance(r.pops, r.weights, repeats=EDF_REPEATS, seed=r.seed)
    page.bullets([d.describe() for d in doms])


def _efficiency(page: Page, r: _Report) -> None:
    page.h2("Random search efficiency")
    page.figure(plots.efficiency_figure(r.pops, normalize=r.normalize, bins=r.bins, seed=r.seed),
                "efficiency.png",
                "expected best error among k random models: the exact order-statistics "
                "expectation with a 95% bootstrap band over the models (1000 resamples of the "
                f"population, seed {r.seed}; non-increasing in k), and, dotted, the paper's "
                "bootstrap (floor(N/k) groups of k), which has one or two groups at large k. "
                "Single-seed errors: the best of k also picks the luckiest seed, so these curves "
                "are optimistic by up to the seed noise" + r.norm_text)
    eff_rows, top_rows, floors = [], [], {}
    for label, df in r.pops.items():
        e = an.ok_rows(df)["error"].to_numpy(float)
        w = r.weights[label]
        curve = efficiency_curve(e, weights=w, seed=r.seed)
        paper = an.efficiency_table(e, seed=r.seed, weights=w)
        # is best-of-k's gain over one random model larger than two single runs' noise?
        floors[label] = noise_floor(df, r.seed_sd).sd
        gain = float(curve["exact"].iloc[0]) - curve["exact"].to_numpy(float)
        eff_rows.append(curve[["k", "exact", "low", "high"]].assign(
            paper_bootstrap=paper["mean"].to_numpy(), paper_groups=paper["groups"].to_numpy(),
            gain_inside_noise=[inside(g, floors[label]) for g in gain], population=label))
        row = {"population": label, "n_ok": e.size}
        for q in (0.01, 0.05, 0.10):
            for p in (0.9, 0.95):
                row[f"top {q:.0%} (p={p:g})"] = an.samples_to_top(e, q=q, p=p, weights=w)
        top_rows.append(row)
    eff = pd.concat(eff_rows, ignore_index=True)
    page.table(eff[["population"] + [c for c in eff.columns if c != "population"]])
    page.note("gain_inside_noise: the expected gain of best-of-k over one random model is within "
              "1.96 x sqrt(2) x the seed-noise sd (" + ", ".join(f"{k} {v:.4f}" for k, v in
                                                         floors.items()) + ").")
    page.note("Random samples needed to draw at least one model of the population's top q% with "
              "probability p (smallest k with 1 - (1 - q')^k >= p; q' includes models tied with "
              "the threshold error):")
    page.table(pd.DataFrame(top_rows))


def _shared_regions(page: Page, r: _Report) -> None:
    shared = an.shared_params(r.pops)
    common = shared + [c for c in ("flops", "depth") if c not in shared]
    tab = an.best_region_table(r.pops, common, **r.boot)
    if len(tab):
        wide = tab.pivot(index="column", columns="population", values=["low", "median", "high"])
        wide = wide.reindex(index=[c for c in common if c in set(tab["column"])])
        wide.columns = [f"{p} {s}" for s, p in wide.columns]
        order = [f"{p} {s}" for p in r.labels for s in ("low", "median", "high")
                 if f"{p} {s}" in wide.columns]
        page.table(wide[order].reset_index())
    if not shared and len(r.pops) > 1:
        page.note("The populations share no sampled parameter (different design spaces): the "
                  "common table shows flops and total depth; each population's own parameters "
                  "follow.")


def _best_regions(page: Page, r: _Report) -> None:
    page.h2("Best region (empirical bootstrap)")
    page.note(f"{r.repeats} resamples of {r.frac:.0%} of the models with replacement; the "
              f"parameter value of each resample's best model; 2.5/50/97.5 percentiles "
              f"(seed {r.seed}). Each resample's best model is picked on single-run errors, "
              "so a region is as sure as the seed noise lets the best models be told apart: "
              + "; ".join(f"{lab}: {r.floor_text(lab)}, {r.tied(lab)} models tied with the best"
                          for lab in r.labels) + ".")
    _shared_regions(page, r)
    for label, df in r.pops.items():
        cols = list(dict.fromkeys(an.param_columns(df) + ["flops"]))
        t = an.best_region_table({label: df}, cols, **r.boot)
        page.h3(label)
        page.table(t.drop(columns="population"))
        page.figure(plots.bootstrap_grid_figure(df, [c for c in cols if c in set(t["column"])],
                                                label=label, **r.boot),
                    f"bootstrap_{r.slugs[label]}.png",
                    f"{label}: error against each parameter; shaded: 95% CI of the best value, "
                    "line: median")


def _efit(page: Page, r: _Report) -> None:
    page.h2("Quantized linear fit")
    cap = (f" (a seeded random subset of at most {r.efit_max} ok models per population)"
           if r.efit_max else "")
    page.figure(plots.efit_figure(r.pops, max_models=r.efit_max, seed=r.seed), "efit.png",
                "e_fit (mean |log(predicted / observed)| of the per-block widths under the best "
                "quantized linear fit) against error" + cap)
    for label, df in r.pops.items():
        page.figure(plots.staircase_figure(df, k=r.staircase_k, label=label),
                    f"staircase_{r.slugs[label]}.png",
                    f"{label}: per-block widths of the {r.staircase_k} best models with their fit "
                    "(log y)")


def _trend_columns(df: pd.DataFrame, r: _Report) -> list[str] | None:
    """The columns of a population's trend plot, or None when it spans fewer than two regimes
    with enough models (a trend needs at least two points)."""
    f = an.ok_rows(df)["flops"].to_numpy(float)
    if f.size < 16 or f.max() / max(f.min(), 1) < 2:
        return None
    cols = an.param_columns(df)
    cols = [c for c in ("d", "w0", "wa", "wm", "g", "b") if c in cols] or ["depth", "w_last"]
    trend = pd.concat([an.regime_trend(df, c, regimes=r.regimes, **r.boot).assign(column=c)
                       for c in cols], ignore_index=True)
    if not len(trend) or trend.groupby("column").size().max() < 2:
        return None
    return cols


def _trends(page: Page, r: _Report) -> None:
    page.h2("Trends across flops regimes")
    page.note("Each point is a best-region median (the bootstrap above, per regime), so it "
              "carries the seed noise of the best models: "
              + "; ".join(f"{lab}: {r.floor_text(lab)}" for lab in r.labels)
              + ". A trend whose CIs overlap across regimes is not a finding.")
    drawn = 0
    for label, df in r.pops.items():
        cols = _trend_columns(df, r)
        if cols is None:
            continue
        drawn += 1
        page.figure(plots.trend_figure(df, cols, regimes=r.regimes, label=label, **r.boot),
                    f"trend_{r.slugs[label]}.png",
                    f"{label}: best-region median and 95% CI per flops regime ({r.regimes} "
                    "log-spaced regimes); dotted lines and grey text: the paper's findings")
    if not drawn:
        page.note("No population spans at least two flops regimes (a factor of 2 in flops with "
                  "enough models per regime); no trend plot.")


#: The report's sections, in page order.
SECTIONS: tuple[Callable[[Page, _Report], None], ...] = (
    _summary, _edf, _dominance, _efficiency, _best_regions, _efit, _trends)


def build_report(pops: Mapping[str, pd.DataFrame], out: str | Path, *, normalize: str = "flops",
                 bins: int = 10, seed: int = 0, repeats: int = 10_000, frac: float = 0.25,
                 efit_max: int | None = 500, staircase_k: int = 4, regimes: int = 3,
                 title: str = "regnet-space population comparison",
                 sources: Sequence[str] | None = None, seed_sd: float | None = None) -> Path:
    """Write ``out/index.html``, the PNG figures and ``out/tables.md`` (the README's result
    tables, :func:`~regnet_space.analysis.tables.result_tables`); returns the index path.

    Sections: summary (counts by status; non-ok rows are excluded from every statistic), error
    EDFs with bootstrap bands (plain and, unless ``normalize="none"``, complexity-normalized),
    a dominance verdict per pair of populations (:func:`analysis.confidence.edf_dominance`),
    random-search efficiency (bootstrap and exact), samples needed to reach the top q%,
    bootstrap best regions (parameters shared by all populations, flops and total depth, then
    each population's own parameters), e_fit against error, the best models' width staircases,
    and the trend of the best region across flops regimes where a population spans several.
    Every single-model figure comes with the seed-noise floor of its population
    (:func:`~regnet_space.analysis.noise.noise_floor`; ``seed_sd`` overrides the measured one
    for tables trained with one seed per model).
    """
    pops = plots.as_populations(pops)
    if not pops:
        raise ConfigError("no populations to compare")
    normalize = plots._check_normalize(normalize)
    for label, df in pops.items():
        if len(an.ok_rows(df)) == 0:
            raise ConfigError(f"population {label!r} has no rows with status ok")
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise ConfigError(f"report folder {out} exists and is not a folder; name a folder")
    out.mkdir(parents=True, exist_ok=True)
    r = _Report(pops, normalize, bins, seed, repeats, frac, efit_max, staircase_k, regimes, sources,
                seed_sd)
    page = Page(out)
    for section in SECTIONS:
        section(page, r)
    # written last, first on the page: it lists the PNGs the sections wrote
    page.note(f"Populations: {', '.join(r.labels)}. normalize={normalize}, seed={seed}. Figures "
              f"are embedded; the same PNGs are in this folder: {', '.join(page.files)}.",
              first=True)
    # the README's tables, from the same populations, seed and resamples (analysis/tables.py)
    tables = result_tables(r.pops, r.weights if normalize != "none" else None,
                           normalize=normalize, seed=seed, repeats=EDF_REPEATS, seed_sd=seed_sd)
    atomic_write(check_target(out / "tables.md", force=True, root=out), tables)
    index = out / "index.html"
    atomic_write(check_target(index, force=True, root=out), page.html(title))
    return index
