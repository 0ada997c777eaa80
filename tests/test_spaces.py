"""Design spaces: distributions, constraints, budget rejection, seeds, errors."""

import numpy as np
import pytest

from regnet_space.budget import Budget, parse_amount, parse_range
from regnet_space.regnet import generate_regnet
from regnet_space.spaces import BudgetError, Param, get_space, sample_monotone, space_names

REGIME = "360M:400M"


@pytest.mark.parametrize("name", space_names())
def test_samples_are_valid_in_budget_and_decodable(name):
    space = get_space(name)
    samples = space.sample(60, seed=3, flops=REGIME)
    assert len(samples) == 60
    for s in samples:
        assert 360e6 <= s.flops <= 400e6
        assert space.violations(s.values) == []
        assert space.decode(s.values) == s.config
        for p in space.params:
            assert p.contains(s.values[p.name]), (p, s.values[p.name])
        for st in s.config.stages:   # compatibility holds for every stage
            assert st.w_b % st.g == 0 and st.g <= st.w_b


def test_anynetx_d_e_monotone_and_shared():
    for s in get_space("anynetx_d").sample(200, seed=0, flops=REGIME):
        w = [s.values[f"w{i}"] for i in range(1, 5)]
        assert w == sorted(w) and list(s.config.widths) == sorted(s.config.widths)
        assert len(set(s.config.bs)) == 1
    for s in get_space("anynetx_e").sample(200, seed=1, flops=REGIME):
        d = [s.values[f"d{i}"] for i in range(1, 5)]
        assert d == sorted(d) and list(s.config.depths) == sorted(s.config.depths)
    # the A space has no such constraint: unsorted widths occur
    a = get_space("anynetx_a").sample(200, seed=0, flops=REGIME)
    assert any(list(s.config.widths) != sorted(s.config.widths) for s in a)


def test_regnet_keeps_only_four_stages_without_skipped_levels():
    space = get_space("regnetx")
    for s in space.sample(300, seed=5, flops=REGIME):
        r = generate_regnet(s.values["d"], s.values["w0"], s.values["wa"], s.values["wm"])
        assert r.num_stages == 4 == r.total_stages
        assert len(s.config.stages) == 4
    # raw draws do include other stage counts, which the space rejects
    v = space.draw(np.random.default_rng(0), 2000)
    *_, ok = space.stage_arrays(v)
    assert 0 < ok.mean() < 1


def test_five_stage_option_and_block_and_resolution():
    s5 = get_space("regnetx", num_stages=5)
    for s in s5.sample(20, seed=0):
        assert len(s.config.stages) == 5
    a5 = get_space("anynetx_a", num_stages=5)
    assert len(a5.params) == 20 and len(a5.sample(3, seed=0)[0].config.stages) == 5
    y = get_space("regnetx", block="Y", resolution=32, num_classes=10)
    cfg = y.sample(1, seed=0)[0].config
    assert (cfg.block, cfg.stem, cfg.resolution, cfg.num_classes) == ("Y", "small", 32, 10)


def test_constrained_caps_hold():
    space = get_space("regnetx_constrained")
    for s in space.sample(100, seed=0, flops="3.0G:3.4G"):
        f = s.flops / 1e9
        assert s.params <= (3 + 5.5 * f) * 1e6 and s.acts <= 6.5 * np.sqrt(f) * 1e6
        assert 12 <= s.values["d"] <= 28 and s.values["wm"] >= 2 and s.values["b"] == 1


def test_same_seed_same_configs_and_prefix_consistency():
    space = get_space("anynetx_a")
    a = space.sample(30, seed=11, flops=REGIME)
    b = space.sample(30, seed=11, flops=REGIME)
    c = space.sample(5, seed=11, flops=REGIME)
    d = space.sample(30, seed=12, flops=REGIME)
    assert [s.config for s in a] == [s.config for s in b]
    assert [s.config for s in c] == [s.config for s in a[:5]]
    assert [s.config for s in d] != [s.config for s in a]


def test_extra_budget_dimensions():
    space = get_space("regnety")
    for s in space.sample(50, seed=0, flops=REGIME, params=":4M", acts="3M:"):
        assert s.params <= 4e6 and s.acts >= 3e6


def test_impossible_regime_reports_acceptance_and_range():
    with pytest.raises(BudgetError) as e:
        get_space("anynetx_a").sample(5, seed=0, flops="1K:2K", max_draws=50_000)
    msg = str(e.value)
    assert "acceptance 0.00e+00" in msg and "flops seen in this space" in msg and "draws" in msg


@pytest.mark.parametrize("name, kind, lo, hi, q", [
    ("d", "log_uniform", 1, 16, 1), ("w", "log_uniform", 8, 1024, 8),
    ("g", "power2_or_log", 1, 128, 8), ("d", "uniform", 12, 28, 1), ("g", "power2", 1, 32, 1),
])
def test_param_sampler_matches_its_pmf(name, kind, lo, hi, q):
    p = Param(name, kind, lo, hi, q)
    vals, probs = p.pmf()
    assert np.isclose(probs.sum(), 1) and len(vals) == p.cardinality
    n = 400_000
    x = p.sample(np.random.default_rng(0), n)
    counts = np.array([np.sum(x == v) for v in vals])
    assert counts.sum() == n                                  # nothing outside the grid
    sd = np.sqrt(n * probs * (1 - probs))
    assert np.all(np.abs(counts - n * probs) <= 5 * sd + 1)   # 5-sigma per cell


def test_monotone_sampler_is_the_conditioned_product():
    p = Param("d", "log_uniform", 1, 16, 1)
    rng = np.random.default_rng(2)
    raw = p.sample(rng, 1_200_000).reshape(-1, 3)
    kept = raw[np.all(np.diff(raw, axis=1) >= 0, axis=1)]
    ours = sample_monotone(p, 3, rng, len(kept))
    for i in range(3):
        h1 = np.bincount(kept[:, i].astype(int), minlength=17) / len(kept)
        h2 = np.bincount(ours[:, i].astype(int), minlength=17) / len(ours)
        assert np.abs(h1 - h2).max() < 0.01


def test_decode_and_params_validation_messages():
    space = get_space("regnetx")
    good = dict(d=13, w0=24, wa=36.4, wm=2.49, b=1, g=8)
    assert space.decode(good).widths == (24, 56, 152, 368)
    with pytest.raises(ValueError, match=r"parameter w0 = 25 is not allowed: must be a multiple of 8 in \[8, 248\]"):
        space.decode({**good, "w0": 25})
    with pytest.raises(ValueError, match=r"parameter b = 3 is not allowed: must be one of \[1, 2, 4\]"):
        space.decode({**good, "b": 3})
    with pytest.raises(ValueError, match=r"missing \['g'\], unknown \['x'\]"):
        space.decode({k: v for k, v in good.items() if k != "g"} | {"x": 1})
    assert "3 stages" in space.violations({**good, "wa": 8.0})[0]
    assert space.snap({**good, "w0": 27, "wm": 2.4901})["w0"] == 24
    with pytest.raises(ValueError, match="unknown space 'foo'; known spaces: anynetx_a"):
        get_space("foo")
    with pytest.raises(ValueError, match="block must be one of"):
        get_space("regnetx", block="Q")
    with pytest.raises(ValueError, match="n must be an integer >= 0"):
        space.sample(-1)


def test_space_sizes_count_what_they_say():
    assert f"{get_space('anynetx_a').size:.1e}" == "1.8e+18"   # (16*128*3*6)^4
    assert f"{get_space('anynetx_b').size:.1e}" == "6.8e+16"
    assert f"{get_space('anynetx_c').size:.1e}" == "3.2e+14"
    c, d, e = (get_space(f"anynetx_{x}") for x in "cde")
    # exact counts of non-decreasing sequences (multisets), not the paper's division by 4!
    assert d.size == 16 ** 4 * (128 * 129 * 130 * 131 / 24) * 3 * 6 and d.size_is_exact
    assert e.size < d.size < c.size
    assert d.paper_size() == c.paper_size() / 24 and e.paper_size() == d.paper_size() / 24
    # RegNet: only 4-stage, unskipped grid points count; estimated, and said to be
    r = get_space("regnetx")
    assert not r.size_is_exact and 0.05 < r.size / r.grid_size < 0.3


def test_pycls_space_draws_group_widths_as_pycls_does():
    # pycls's default GROUP_W = [8, 128] goes through power2_or_log_uniform(8, 128, 8): every
    # power of two drawn is >= 8, so it is replaced by a log-uniform multiple of 8; never g < 8.
    g = get_space("regnetx_pycls").param("g")
    values, probs = g.pmf()
    assert values.tolist() == list(range(8, 129, 8)) and probs.sum() == pytest.approx(1)
    lo = 8 - min(8, 8 / 2)   # pycls's log-uniform on (low - min(q, low / 2), high], then ceil
    expect = [(np.log(min(v, 128)) - np.log(max(v - 8, lo))) / (np.log(128) - np.log(lo))
              for v in values]
    np.testing.assert_allclose(probs, expect)
    draws = g.sample(np.random.default_rng(0), 200_000)
    assert draws.min() >= 8 and set(np.unique(draws)) <= set(values)
    freq = np.array([(draws == v).mean() for v in values])
    np.testing.assert_allclose(freq, probs, atol=0.004)


def test_acceptance_counts_only_the_draws_it_needed():
    # no budget, no constraint: every draw is accepted, whatever the batch overshoot
    assert get_space("anynetx_a").sample_arrays(100, seed=0).acceptance == 1.0
    for name in ("anynetx_a", "anynetx_d", "anynetx_e"):
        b = get_space(name).sample_arrays(300, seed=1, flops="360M:400M")
        # draws end at the 300th accepted sample: the acceptance is accepted / needed draws
        assert 0.01 < b.acceptance < 0.04 and len(b) == 300


def test_budget_parsing():
    assert parse_amount("3.2G") == 3_200_000_000 and parse_amount("400MF") == 400_000_000
    assert parse_range(":400M") == (None, 400_000_000) and parse_range("1M:") == (1_000_000, None)
    for bad, match in (("abc", "cannot read 'abc'"), ("5M:1M", "is empty"), ((1, 2, 3), "two bounds")):
        with pytest.raises(ValueError, match=match):
            parse_range(bad)
    b = Budget.parse(flops="100:200", params=":10")
    assert b.violations(250, 5, 0) == {"flops_low": (100 - 250) / 100, "flops_high": (250 - 200) / 200,
                                       "params_high": (5 - 10) / 10}
    assert b.mask(np.array([150, 250]), np.array([5, 5]), np.array([0, 0])).tolist() == [True, False]
