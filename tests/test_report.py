"""The compare report and its CLI: mechanics on small synthetic populations built from real
sampled configs (RegNetX and AnyNetX_A), synthetic errors."""

from __future__ import annotations

import re

import numpy as np
import pytest
from matplotlib.figure import Figure

from regnet_space.analysis import plots
from regnet_space.cli import main
from regnet_space.spaces import get_space
from regnet_space.analysis.table import from_samples, write_population


@pytest.fixture(scope="module")
def pops(tmp_path_factory):
    d = tmp_path_factory.mktemp("pops")
    rng = np.random.default_rng(0)
    sx = get_space("regnetx").sample(24, seed=0, flops="200M:1600M")
    x = from_samples("regnetx", sx, error=0.30 + rng.normal(0, 0.02, 24))
    x.loc[x.index[:2], ["status", "error"]] = ["failed", np.nan]
    x.loc[x.index[2], ["status", "error"]] = ["infeasible", np.nan]
    sa = get_space("anynetx_a").sample(16, seed=1, flops="360M:400M")
    a = from_samples("anynetx_a", sa, error=0.33 + rng.normal(0, 0.02, 16))
    px, pa = write_population(x, d / "regnetx.csv"), write_population(a, d / "anynetx_a.csv")
    return {"dir": d, "x": x, "a": a, "px": px, "pa": pa}


def test_compare_writes_self_contained_report(pops, tmp_path, capsys):
    out = tmp_path / "report"
    rc = main(["compare", str(pops["px"]), str(pops["pa"]), "--out", str(out), "--labels",
               "RegNetX,AnyNetX_A", "--normalize", "flops", "--seed", "0", "--repeats", "500",
               "--efit-max", "8"])
    assert rc == 0
    assert "wrote" in capsys.readouterr().out
    html = (out / "index.html").read_text()
    pngs = sorted(p.name for p in out.glob("*.png"))
    assert {"edf.png", "edf_flops.png", "efficiency.png", "efit.png", "bootstrap_RegNetX.png",
            "bootstrap_AnyNetX_A.png", "staircase_RegNetX.png", "staircase_AnyNetX_A.png"} <= set(pngs)
    assert html.count("data:image/png;base64,") == len(pngs)
    for p in out.glob("*.png"):
        assert p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # no external resources: everything is embedded
    assert not re.search(r'src="(?!data:)', html)
    # exclusions are reported, summary per population
    assert "3 row(s) were excluded" in html
    assert "RegNetX" in html and "AnyNetX_A" in html
    assert "share no sampled parameter" in html
    # errors are fractions everywhere in the text, and the pair gets one dominance sentence
    text = re.sub(r"base64,[A-Za-z0-9+/=]+", "", html)
    assert "Errors are fractions in [0, 1]" in text
    assert not re.search(r"error\s*[=:]?\s*\d+(\.\d+)?\s*%", text)
    (verdict,) = re.findall(r"<li>([^<]*)</li>", text)
    assert verdict.startswith("RegNetX vs AnyNetX_A: RegNetX dominates AnyNetX_A"), verdict
    assert re.search(r"of errors 0\.\d{3}-0\.\d{3}; mean error difference [+-]0\.\d{4} "
                     r"\[[+-]0\.\d{4}, [+-]0\.\d{4}\]", verdict), verdict


def test_analyze_single_population_no_normalization(pops, tmp_path):
    out = tmp_path / "one"
    small = write_population(pops["x"].iloc[:12], tmp_path / "small.csv")  # 9 ok: no trend plot
    assert main(["analyze", str(small), "--out", str(out), "--normalize", "none",
                 "--repeats", "200", "--efit-max", "4"]) == 0
    html = (out / "index.html").read_text()
    assert html.count("data:image/png;base64,") == len(list(out.glob("*.png")))
    assert not (out / "edf_flops.png").exists() and not (out / "trend_small.png").exists()
    assert "3 row(s) were excluded" in html


def _one_line_exit_2(argv, capsys, pattern):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert re.search(pattern, err), err


def test_compare_bad_input_exits_2_with_one_line(pops, tmp_path, capsys):
    out = str(tmp_path / "r")
    _one_line_exit_2(["compare", str(tmp_path / "missing.csv"), "--out", out], capsys, "not found")
    noerr = tmp_path / "noerr.csv"
    pops["x"].drop(columns="error").to_csv(noerr, index=False)
    _one_line_exit_2(["compare", str(pops["px"]), str(noerr), "--out", out], capsys,
                     r"missing required column\(s\) \['error'\]")
    nook = pops["a"].copy()
    nook["status"], nook["error"] = "failed", np.nan
    p = write_population(nook, tmp_path / "nook.csv")
    _one_line_exit_2(["compare", str(pops["px"]), str(p), "--out", out], capsys, "no rows with status ok")
    _one_line_exit_2(["compare", str(pops["px"]), str(pops["pa"]), "--labels", "only_one", "--out", out],
                     capsys, "--labels needs 2")
    assert not (tmp_path / "r" / "index.html").exists()


def test_figure_functions_return_figures(pops):
    x, a = pops["x"], pops["a"]
    figs = [plots.edf_figure({"X": x, "A": a}, normalize="params"),
            plots.efficiency_figure([x, a]),
            plots.bootstrap_figure(x, "wm", repeats=200),
            plots.efit_figure(a, max_models=3),
            plots.staircase_figure(x, k=2),
            plots.trend_figure(x, ["d", "wm"], regimes=2, repeats=200, min_models=4)]
    assert all(isinstance(f, Figure) for f in figs)
    with pytest.raises(ValueError, match="normalize must be"):
        plots.edf_figure(x, normalize="acts")


# ------------------------------------------------------------------------------ errors are fractions
@pytest.mark.parametrize("command", ["compare", "analyze"])
def test_percent_or_negative_errors_exit_2_with_one_line(pops, tmp_path, capsys, command):
    out = str(tmp_path / "r")
    pct = pops["a"].copy()
    pct["error"] = pct["error"] * 100
    p = tmp_path / "percent.csv"
    pct.to_csv(p, index=False)                      # written as a careless producer would
    first = f"0 = {pct['error'].iloc[0]:g}"
    _one_line_exit_2([command, str(p), "--out", out], capsys,
                     rf"^regnet-space {command}: error: .*percent\.csv: column 'error' must hold "
                     rf"fractions in \[0, 1\]; 16 row\(s\) outside: data rows {re.escape(first)}, "
                     r".*they look like percents: divide by 100$")
    neg = pops["a"].copy()
    neg.loc[neg.index[3], "error"] = -3.0
    p = tmp_path / "negative.csv"
    neg.to_csv(p, index=False)
    _one_line_exit_2([command, str(p), "--out", out], capsys,
                     r"column 'error' must hold fractions in \[0, 1\]; 1 row\(s\) outside: "
                     r"data rows 3 = -3$")
    assert not (tmp_path / "r" / "index.html").exists()


def test_bench_search_refuses_percent_errors(pops, tmp_path, capsys):
    pct = pops["x"].copy()
    pct["error"] = pct["error"] * 100
    p = tmp_path / "percent.csv"
    pct.to_csv(p, index=False)
    _one_line_exit_2(["bench-search", "--table", str(p), "--out", str(tmp_path / "b"),
                      "--seeds", "1", "--algos", "random"], capsys,
                     r"^regnet-space bench-search: error: .*must hold fractions in \[0, 1\].*"
                     r"they look like percents: divide by 100$")


def test_figures_show_errors_as_fractions(pops):
    x, a = pops["x"], pops["a"]
    fig = plots.edf_figure({"X": x, "A": a})
    texts = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    for t in texts:
        for v in re.findall(r"(?:min|mean)=([0-9.]+)", t):
            assert re.fullmatch(r"0\.\d{3}", v), t
    st = plots.staircase_figure(x, k=2)
    for ax in st.axes:
        if ax.get_visible():
            assert re.search(r"error 0\.\d{3},", ax.get_title()), ax.get_title()
    eff = plots.efficiency_figure(x)
    assert 0 < min(eff.axes[0].get_ylim()) and max(eff.axes[0].get_ylim()) < 1


# ------------------------------------------------------------------------------ figures
def _boxes_overlap(fig):
    r = fig.canvas.get_renderer()
    sup = fig._suptitle.get_window_extent(r)
    return [ax.get_title() for ax in fig.axes
            if ax.get_visible() and ax.get_title() and ax.title.get_window_extent(r).overlaps(sup)]


def test_suptitle_does_not_overlap_panel_titles(pops):
    x, a = pops["x"], pops["a"]
    grid = plots.bootstrap_grid_figure(a, an_param_columns(a) + ["flops"], repeats=100, label="A")
    one = plots.bootstrap_figure(x, "wm", repeats=100, label="X")
    trend = plots.trend_figure(x, ["d", "wm"], regimes=2, repeats=100, min_models=4, label="X")
    for fig in (grid, one, trend):
        fig.canvas.draw()
        assert _boxes_overlap(fig) == []


def an_param_columns(df):
    from regnet_space.analysis.table import param_columns
    return param_columns(df)


def _visible_tick_labels(ax):
    lo, hi = sorted(ax.get_xlim())
    return [t.get_text() for t, v in zip(ax.get_xticklabels(), ax.get_xticks())
            if lo <= v <= hi and t.get_text()]


def test_flops_axis_has_few_compact_tick_labels(pops):
    wide = pops["x"].astype({"flops": float})        # flops over two decades
    wide.loc[wide.index[3:6], "flops"] = [2e6, 4e6, 8e6]
    for pop in (wide, pops["a"]):   # and a narrow 360M-400M range
        fig = plots.bootstrap_figure(pop, "flops", repeats=100)
        fig.canvas.draw()
        labels = _visible_tick_labels(fig.axes[0])
        assert 2 <= len(labels) <= 5, labels
        assert all(re.fullmatch(r"\d+(\.\d+)?[KMG]", t) for t in labels), labels
        assert re.fullmatch(r"flops: \S+[KMG] \[\S+[KMG], \S+[KMG]\]", fig.axes[0].get_title())


def test_constant_column_gets_a_note_not_a_broken_axis(pops):
    x = pops["x"].copy()
    x["b"] = 1
    fig = plots.bootstrap_grid_figure(x, ["b", "wm", "d", "w0", "g"], repeats=100)
    fig.canvas.draw()
    ax = fig.axes[0]
    assert ax.get_title() == "b: constant 1"
    assert "constant: 1" in [t.get_text() for t in ax.texts]
    lo, hi = ax.get_xlim()
    assert ax.get_xscale() == "linear" and lo < 1 < hi and hi - lo >= 1
    assert _visible_tick_labels(ax) == ["1"]
    trend = plots.trend_figure(x, ["b", "d"], regimes=2, repeats=100, min_models=4)
    trend.canvas.draw()
    assert "constant: 1" in [t.get_text() for t in trend.axes[0].texts]
    lo, hi = trend.axes[0].get_ylim()
    assert lo < 1 < hi


def test_edf_figure_draws_bootstrap_bands(pops):
    from matplotlib.collections import PolyCollection
    two = {"X": pops["x"], "A": pops["a"]}
    fig = plots.edf_figure(two, repeats=100)
    bands = [c for c in fig.axes[0].collections if isinstance(c, PolyCollection)]
    assert len(bands) == 2
    for b in bands:
        y = b.get_paths()[0].vertices[:, 1]
        assert y.min() >= 0 and y.max() <= 1
    assert "bootstrap band" in fig.axes[0].get_title()
    assert not plots.edf_figure(two, bands=False).axes[0].collections


def test_efficiency_figure_band_inside_unit_interval(tmp_path):
    from matplotlib.collections import PolyCollection
    s = get_space("anynetx_a").sample(12, seed=0, flops="360M:400M")
    pop = from_samples("anynetx_a", s, error=[0.0] * 5 + [1.0] * 5 + [0.02, 0.97])
    fig = plots.efficiency_figure(pop, rounds=3)
    (band,) = [c for c in fig.axes[0].collections if isinstance(c, PolyCollection)]
    y = band.get_paths()[0].vertices[:, 1]
    assert y.min() >= 0 and y.max() <= 1

