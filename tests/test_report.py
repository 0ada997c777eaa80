"""The compare report and its CLI: mechanics on small synthetic populations built from real
sampled configs (RegNetX and AnyNetX_A), synthetic errors."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
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
