"""Estimators of regnet_space.analysis on synthetic populations with known answers, and the
population-table contract of regnet_space.table."""

from __future__ import annotations

import itertools

import re
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from regnet_space.analysis import confidence as ci
from regnet_space.analysis import stats as an
from regnet_space.errors import ConfigError
from regnet_space.spaces import get_space
from regnet_space.analysis.table import (POPULATION_COLUMNS, configs, from_samples, param_columns,
                                read_population, write_population)


# ------------------------------------------------------------------------------ EDF
def test_edf_known_values_strict_inequality():
    e = [1.0, 2.0, 2.0, 3.0]
    assert an.edf(e, [0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 3.5]).tolist() == [0, 0, .25, .25, .75, .75, 1]
    x, f = an.edf_steps(e)
    assert x.tolist() == [1, 2, 3] and f.tolist() == [.25, .75, 1.0]


def test_edf_weighted_equals_replicated():
    e = np.array([3.0, 1.0, 2.0])
    w = np.array([1, 3, 2])
    at = np.linspace(0, 4, 17)
    np.testing.assert_allclose(an.edf(e, at, weights=w), an.edf(np.repeat(e, w), at))


def test_edf_rejects_empty_and_nan():
    with pytest.raises(ValueError, match="no errors"):
        an.edf([], [1.0])
    with pytest.raises(ValueError, match="finite"):
        an.edf([1.0, np.nan], [1.0])


def test_complexity_normalized_weights_equal_mass_per_bin():
    rng = np.random.default_rng(0)
    # very unbalanced: 90 models near 200M, 9 near 1G, 1 near 4G
    flops = np.concatenate([rng.uniform(2.0e8, 2.2e8, 90), rng.uniform(1e9, 1.1e9, 9), [4e9]])
    edges = an.complexity_edges(flops, bins=10)
    np.testing.assert_allclose(np.diff(np.log(edges)), np.log(4e9 / flops.min()) / 10)
    w = an.complexity_weights(flops, edges=edges)
    b = an.complexity_bins(flops, edges)
    mass = np.bincount(b, weights=w, minlength=10)
    nonempty = mass[np.bincount(b, minlength=10) > 0]
    assert len(nonempty) == 3
    np.testing.assert_allclose(nonempty, 1 / 3)
    np.testing.assert_allclose(w.sum(), 1.0)
    # inside a bin the mass is split equally
    assert np.ptp(w[b == b[0]]) == 0


def test_shared_edges_across_populations():
    a, b = np.geomspace(1e8, 4e8, 50), np.geomspace(2e8, 8e8, 30)
    edges = an.complexity_edges([a, b], bins=4)
    assert edges[0] == 1e8 and edges[-1] == pytest.approx(8e8)
    for v in (a, b):
        w = an.complexity_weights(v, edges=edges)
        bins = an.complexity_bins(v, edges)
        m = np.bincount(bins, weights=w)
        np.testing.assert_allclose(m[m > 0], 1 / np.count_nonzero(m))


# ------------------------------------------------------------------------------ efficiency
def test_expected_min_uniform_grid_exact_and_continuous_limit():
    n = 1000
    e = np.arange(1, n + 1) / n
    ks = an.default_ks(n)
    got = an.expected_min(e, ks)
    # exact discrete value: E = sum_i P(min >= e_i) (e_i - e_{i-1}) = (1/N) sum_m (m/N)^k
    exact = np.array([np.mean((np.arange(1, n + 1) / n) ** k) for k in ks])
    np.testing.assert_allclose(got, exact, rtol=0, atol=1e-12)
    # right Riemann sum of an increasing function: 0 <= E - 1/(k+1) <= 1/N
    diff = got - 1 / (ks + 1)
    assert np.all(diff >= -1e-12) and np.all(diff <= 1 / n + 1e-12)
    # without replacement the min of a random k-subset of {1..N} has mean (N+1)/(k+1)
    np.testing.assert_allclose(an.expected_min(e, ks, replace=False), (n + 1) / (ks + 1) / n,
                               rtol=1e-10)


def test_expected_min_matches_enumeration_with_ties():
    e = np.array([3.0, 1.0, 2.0, 2.0, 5.0])
    for k in (1, 2, 3):
        with_rep = np.mean([min(c) for c in itertools.product(e, repeat=k)])
        no_rep = np.mean([min(c) for c in itertools.combinations(e, k)])
        assert an.expected_min(e, [k])[0] == pytest.approx(with_rep, abs=1e-12)
        assert an.expected_min(e, [k], replace=False)[0] == pytest.approx(no_rep, abs=1e-12)
    # integer weights == replicating rows
    w = np.array([1, 2, 1, 3, 1])
    assert an.expected_min(e, [3], weights=w)[0] == pytest.approx(an.expected_min(np.repeat(e, w), [3])[0])


def test_bootstrap_efficiency_agrees_with_closed_form():
    rng = np.random.default_rng(1)
    e = rng.gamma(4.0, 2.0, 300) + 25
    tab = an.efficiency_table(e, seed=0, rounds=20)
    assert tab["k"].tolist() == [1, 2, 4, 8, 16, 32, 64, 128, 256]
    # the bootstrap mean estimates the with-replacement expectation: within 4 standard errors
    z = (tab["mean"] - tab["exact"]).abs() / tab["sem"]
    assert (z < 4).all(), tab
    # weighted (complexity-normalized) variant too
    w = rng.uniform(0.1, 1, e.size)
    tw = an.efficiency_table(e, ks=[1, 4, 16], seed=3, weights=w, rounds=50)
    assert ((tw["mean"] - tw["exact"]).abs() < 4 * tw["sem"]).all(), tw
    # seeded
    pd.testing.assert_frame_equal(an.efficiency_bootstrap(e, seed=5), an.efficiency_bootstrap(e, seed=5))


def test_efficiency_paper_groups():
    e = np.arange(100.0)
    tab = an.efficiency_bootstrap(e, ks=[1, 3, 64])
    assert tab["groups"].tolist() == [100, 33, 1]


def test_samples_to_top():
    e = np.arange(100.0)
    assert an.samples_to_top(e, q=0.05, p=0.95) == 59     # ceil(log .05 / log .95)
    assert 1 - 0.95 ** 59 >= 0.95 > 1 - 0.95 ** 58
    assert an.samples_to_top(e, q=1.0, p=0.9) == 1
    # ties at the threshold count as top: 5 best are [0, 1, 1, 1, ...] -> all ten 1's included
    tied = np.concatenate([[0.0], np.ones(10), np.arange(2.0, 91.0)])
    hit = 11 / 100
    k = an.samples_to_top(tied, q=0.05, p=0.95)
    assert 1 - (1 - hit) ** k >= 0.95 > 1 - (1 - hit) ** (k - 1)


# ------------------------------------------------------------------------------ bootstrap
def _valley(n=500, opt=4.0, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.uniform(0, 10, n)
    return x, (x - opt) ** 2 + rng.normal(0, 1.0, n)


def test_bootstrap_best_finds_known_optimum():
    x, e = _valley()
    r = an.bootstrap_best(x, e, column="x", seed=0)
    assert isinstance(r, an.BestRegion) and r.n == 500 and r.repeats == 10_000
    assert r.low <= 4.0 <= r.high
    assert abs(r.median - 4.0) < 0.5
    assert r.high - r.low < 3
    with pytest.raises(Exception):
        r.median = 0  # frozen


def test_bootstrap_best_seeded():
    x, e = _valley()
    assert an.bootstrap_best(x, e, seed=1) == an.bootstrap_best(x, e, seed=1)
    others = {(r.low, r.median, r.high) for r in
              (an.bootstrap_best(x, e, seed=s, repeats=200) for s in range(5))}
    assert len(others) > 1     # different seeds draw different resamples
    full = an.bootstrap_best(x, e, repeats=10_000, seed=2)   # the paper's default size
    assert full.repeats == 10_000 and full.low <= full.median <= full.high


def test_bootstrap_best_drops_missing_and_rejects_empty():
    r = an.bootstrap_best([1.0, np.nan, 3.0], [1.0, 0.0, 2.0], repeats=100)
    assert r.n == 2
    with pytest.raises(ValueError, match="no rows"):
        an.bootstrap_best([np.nan], [1.0])


def _regnet_population(n=60, seed=0, flops="200M:1600M"):
    s = get_space("regnetx").sample(n, seed=seed, flops=flops)
    d = np.array([x.values["d"] for x in s], float)
    rng = np.random.default_rng(seed)
    err = 0.30 + 0.005 * np.abs(d - 20) + rng.normal(0, 0.003, n)   # fractions, as the contract
    return from_samples("regnetx", s, error=err)


def test_regime_trend_and_best_region_table():
    df = _regnet_population(90)
    tab = an.regime_trend(df, "d", regimes=3, seed=0, repeats=2000, min_models=8)
    assert len(tab) >= 2
    assert ((tab["low"] <= 20) & (20 <= tab["high"])).all(), tab
    assert np.all(np.diff(tab["flops_mid"]) > 0)
    bt = an.best_region_table({"X": df}, ["d", "flops", "depth"], repeats=500)
    assert bt["column"].tolist() == ["d", "flops", "depth"]
    # for RegNet the total depth is the sampled d
    np.testing.assert_array_equal(an.column_values(df, "depth"), df["d"].to_numpy(float))


# ------------------------------------------------------------------------------ table contract
def test_population_table_round_trip_and_contract(tmp_path):
    df = _regnet_population(12)
    df.loc[df.index[0], ["status", "error"]] = ["failed", np.nan]
    df.loc[df.index[1], ["status", "error"]] = ["infeasible", np.nan]
    assert list(df.columns[:7]) == list(POPULATION_COLUMNS)
    p = write_population(df, tmp_path / "sub" / "pop.csv")
    back = read_population(p)
    assert back.shape == df.shape and list(back.columns) == list(df.columns)
    assert param_columns(back) == ["d", "w0", "wa", "wm", "b", "g"]
    assert [c.block_widths for c in configs(back)] == [c.block_widths for c in configs(df)]
    s = an.summarize(back, "X")
    assert (s["n_total"], s["n_ok"], s["n_failed"], s["n_infeasible"], s["n_excluded"]) == (12, 10, 1, 1, 2)
    assert s["error_min"] == pytest.approx(df["error"].min())


def test_read_population_errors(tmp_path):
    with pytest.raises(FileNotFoundError):
        read_population(tmp_path / "nope.csv")
    pd.DataFrame({"config": ["{}"], "flops": [1]}).to_csv(tmp_path / "bad.csv", index=False)
    with pytest.raises(ValueError, match=r"missing required column\(s\) \['space', 'params', 'acts', 'error', 'status'\]"):
        read_population(tmp_path / "bad.csv")
    with pytest.raises(ValueError, match="unknown format"):
        read_population(tmp_path / "pop.xlsx")
    df = _regnet_population(3)
    df["status"] = ["ok", "weird", "ok"]
    with pytest.raises(ValueError, match="unknown status"):
        read_population(df)
    df["status"] = "ok"
    df.loc[df.index[0], "error"] = np.nan
    with pytest.raises(ValueError, match="no finite error"):
        read_population(df)


def test_parquet_round_trip_and_without_pyarrow_says_use_csv(tmp_path, monkeypatch):
    pop = _regnet_population(3)
    write_population(pop, tmp_path / "p.parquet")
    back = read_population(tmp_path / "p.parquet")
    assert back["config"].tolist() == pop["config"].tolist()
    # as if pyarrow were not installed (before pandas loads, which otherwise uses it for strings)
    code = ("import sys; sys.modules['pyarrow'] = None\n"
            "import pandas as pd\nfrom regnet_space.analysis.table import write_population\n"
            f"df = pd.read_csv({str(tmp_path / 'p.csv')!r})\n"
            "try:\n    write_population(df, 'q.parquet')\nexcept ValueError as e:\n    print(e)\n")
    write_population(pop, tmp_path / "p.csv")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path)
    assert re.search("pyarrow.*csv", out.stdout), out.stdout + out.stderr


def test_mixed_spaces_param_columns_and_derived_depth():
    a = get_space("anynetx_a").sample(5, seed=0, flops="360M:400M")
    df = from_samples("anynetx_a", a, error=np.arange(5.0) / 10)
    cols = param_columns(df)
    assert cols[:4] == ["d1", "w1", "b1", "g1"] and len(cols) == 16
    depth = an.column_values(df, "d")       # AnyNetX has no d column: total depth is derived
    np.testing.assert_array_equal(depth, df[["d1", "d2", "d3", "d4"]].sum(axis=1).to_numpy(float))
    both = pd.concat([df, _regnet_population(4)], ignore_index=True)
    assert set(param_columns(both)) == set(cols) | {"d", "w0", "wa", "wm", "b", "g"}
    assert an.shared_params({"A": df, "X": _regnet_population(4)}) == []
    with pytest.raises(ValueError, match="unknown column"):
        an.column_values(df, "nonsense")


def test_efit_table_regnet_fits_well():
    df = _regnet_population(6)
    tab = an.efit_table(df)
    assert len(tab) == 6 and (tab["e_fit"] < 0.1).all()   # RegNets are quantized linear
    assert len(an.efit_table(df, max_models=2)) == 2


# ------------------------------------------------------------------------------ errors are fractions
def _table(errors, status="ok"):
    n = len(errors)
    return pd.DataFrame({"space": ["regnetx"] * n, "config": ["{}"] * n, "flops": [1] * n,
                         "params": [1] * n, "acts": [1] * n, "error": errors,
                         "status": [status] * n if isinstance(status, str) else status})


def test_errors_outside_unit_interval_are_refused_with_the_rows():
    with pytest.raises(ConfigError) as info:
        read_population(_table([0.3, -3.0, 0.4, 1.5]))
    msg = str(info.value)
    assert "column 'error' must hold fractions in [0, 1]" in msg
    assert "2 row(s) outside: data rows 1 = -3, 3 = 1.5" in msg
    assert "percent" not in msg and "\n" not in msg


def test_percent_errors_are_named_as_percents(tmp_path):
    errors = [31.5, 28.0, 40.2, 35.0, 33.3, 29.9, 30.1, 32.0]
    with pytest.raises(ConfigError, match=r"8 row\(s\) outside: data rows 0 = 31.5, 1 = 28, "
                       r"2 = 40.2, 3 = 35, 4 = 33.3, \.\.\. \(3 more\); they look like "
                       r"percents: divide by 100"):
        read_population(_table(errors))
    # a table of percents is refused on writing too, so no producer can store one
    with pytest.raises(ConfigError, match="look like percents"):
        write_population(_table(errors), tmp_path / "never_written.csv")
    assert not (tmp_path / "never_written.csv").exists()
    # one stray value among fractions is not called a unit slip
    with pytest.raises(ConfigError) as info:
        read_population(_table([0.3, 0.31, 45.0, 0.29]))
    assert "data rows 2 = 45" in str(info.value) and "percent" not in str(info.value)


def test_only_ok_rows_need_a_finite_error():
    df = _table([0.3, np.nan, np.nan, 1.0, 0.0], ["ok", "failed", "pruned", "infeasible", "ok"])
    back = read_population(df)
    assert back["error"].isna().sum() == 2
    with pytest.raises(ConfigError, match=r"1 row\(s\) with status 'ok' have no finite error "
                       r"\(data rows 1 = nan\); mark them 'failed'"):
        read_population(_table([0.3, np.nan]))
    with pytest.raises(ConfigError, match="data rows 1 = -0.2"):    # a non-ok row is checked too
        read_population(_table([0.3, -0.2], ["ok", "pruned"]))


def test_range_check_reads_files_too(tmp_path):
    _table([0.3, 130.0]).to_csv(tmp_path / "pop.csv", index=False)
    with pytest.raises(ConfigError, match=r"pop\.csv: column 'error' must hold fractions"):
        read_population(tmp_path / "pop.csv")


# ------------------------------------------------------------------------------ EDF bands
def test_edf_band_contains_the_edf_is_seeded_and_shrinks_with_n():
    rng = np.random.default_rng(0)
    small, large = rng.uniform(0.2, 0.4, 100), rng.uniform(0.2, 0.4, 1600)
    b = ci.edf_band(small, repeats=400, seed=3)
    x, f = an.edf_steps(small)
    np.testing.assert_array_equal(b.x, x)
    np.testing.assert_allclose(b.f, f)     # just after each error, as edf_steps
    assert np.all((b.low <= b.f + 1e-12) & (b.f <= b.high + 1e-12))
    assert np.all((b.low >= 0) & (b.high <= 1))
    again = ci.edf_band(small, repeats=400, seed=3)
    np.testing.assert_array_equal(b.low, again.low)
    at = np.linspace(0.22, 0.38, 9)
    w_small = ci.edf_band(small, at, repeats=400).high - ci.edf_band(small, at, repeats=400).low
    band_large = ci.edf_band(large, at, repeats=400)
    w_large = band_large.high - band_large.low
    assert np.all(w_large < w_small / 2)   # ~ 1/sqrt(n): a 16x larger sample, ~4x narrower
    # the true CDF (uniform) lies inside the 95% band at (almost) every point
    inside = (band_large.low <= (at - 0.2) / 0.2) & ((at - 0.2) / 0.2 <= band_large.high)
    assert inside.sum() >= 8
    # uniform weights are the plain EDF; describe is one line
    np.testing.assert_allclose(ci.edf_band(small, at, np.ones(100), repeats=50).low,
                               ci.edf_band(small, at, repeats=50).low)
    assert "\n" not in b.describe() and "400 resamples" in b.describe()
    with pytest.raises(ConfigError, match="level"):
        ci.edf_band(small, level=95)


# ------------------------------------------------------------------------------ dominance
def test_dominance_of_a_clearly_better_population():
    rng = np.random.default_rng(0)
    a, b = rng.normal(0.30, 0.02, 150), rng.normal(0.33, 0.02, 150)
    d = ci.edf_dominance(a, b, labels=("good", "bad"), repeats=500, seed=1)
    assert d.verdict == "a_dominates" and d.dominates
    assert d.frac_above > 0.9 and d.frac_below == 0
    assert d.mean_diff_low <= d.mean_diff <= d.mean_diff_high < 0   # CI excludes 0
    assert 0 < d.area_low <= d.area <= d.area_high
    assert abs(d.mean_diff - (a.mean() - b.mean())) < 1e-12
    assert 0 < d.lo < d.hi < 1
    line = d.describe()
    assert "\n" not in line and line.startswith("good vs bad: good dominates bad")
    assert ci.edf_dominance(a, b, repeats=500, seed=1) == ci.edf_dominance(a, b, repeats=500,
                                                                            seed=1)
    rev = ci.edf_dominance(b, a, repeats=500, seed=1)
    assert rev.verdict == "b_dominates" and not rev.dominates and rev.mean_diff_low > 0
    with pytest.raises(Exception):
        d.verdict = "no_difference"   # frozen


def test_dominance_of_identical_populations_is_none():
    rng = np.random.default_rng(2)
    a = rng.normal(0.30, 0.02, 150)
    d = ci.edf_dominance(a, a.copy(), repeats=500)
    assert d.verdict == "no_difference" and not d.dominates
    assert d.frac_above == d.frac_below == 0
    assert d.mean_diff_low < 0 < d.mean_diff_high and d.area_low < 0 < d.area_high
    assert "no significant difference" in d.describe()


def test_dominance_crossing_and_weighted_and_pairwise():
    rng = np.random.default_rng(3)
    narrow, wide = rng.normal(0.31, 0.004, 300), rng.normal(0.31, 0.03, 300)
    assert ci.edf_dominance(narrow, wide, repeats=500).verdict == "crossing"
    a, b = rng.normal(0.30, 0.02, 100), rng.normal(0.33, 0.02, 100)
    w = rng.uniform(0.5, 1.0, 100)
    assert ci.edf_dominance(a, b, weights_a=w, weights_b=w, repeats=300).dominates
    pops = {k: pd.DataFrame({"error": e, "status": "ok"}) for k, e in
            (("P", a), ("Q", b), ("R", a))}
    doms = ci.pairwise_dominance(pops, repeats=300)
    assert [(d.label_a, d.label_b, d.verdict) for d in doms] == [
        ("P", "Q", "a_dominates"), ("P", "R", "no_difference"), ("Q", "R", "b_dominates")]


# ------------------------------------------------------------------------------ efficiency bands
def test_efficiency_bands_stay_inside_the_observed_errors():
    e = np.array([0.0] * 5 + [1.0] * 5 + [0.02, 0.97])     # mean +- 2 std would leave [0, 1]
    tab = an.efficiency_bootstrap(e, seed=0, rounds=5)
    assert ((tab["mean"] - 2 * tab["std"]) < 0).any() and ((tab["mean"] + 2 * tab["std"]) > 1).any()
    assert (tab["low"] >= 0).all() and (tab["high"] <= 1).all()
    assert (tab["low"] <= tab["mean"]).all() and (tab["mean"] <= tab["high"]).all()
    one = an.efficiency_bootstrap(e, ks=[12])      # one group: no spread, the band is the mean
    assert one["low"].iloc[0] == one["mean"].iloc[0] == one["high"].iloc[0]
