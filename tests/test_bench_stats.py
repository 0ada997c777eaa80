"""Rank statistics (ranks over time, Friedman, Nemenyi CD, CD diagram) and 2-d Pareto tools."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from regnet_space.bench.pareto import hypervolume_2d, hypervolume_trace, pareto_mask
from regnet_space.bench.ranks import (FriedmanResult, cd_diagram, friedman, nemenyi_q,
                                      ranks_over_time)
from regnet_space.errors import ConfigError



# ------------------------------------------------------------------------ ranks over time
def test_ranks_over_time_hand_example_with_ties():
    # 3 algorithms, 2 seeds, 2 evaluations.
    v = np.array([[[1.0, 5.0], [3.0, 1.0]],
                  [[2.0, 5.0], [1.0, 2.0]],
                  [[3.0, 5.0], [2.0, 3.0]]])
    # t=0: seed0 ranks 1,2,3; seed1 ranks 3,1,2 -> 2, 1.5, 2.5
    # t=1: seed0 all tie -> 2,2,2; seed1 ranks 1,2,3 -> 1.5, 2, 2.5
    assert ranks_over_time(v).tolist() == [[2.0, 1.5], [1.5, 2.0], [2.5, 2.5]]


def test_ranks_over_time_shape_and_column_sums():
    v = np.random.default_rng(0).random((5, 7, 11))
    r = ranks_over_time(v)
    assert r.shape == (5, 11)
    np.testing.assert_allclose(r.sum(axis=0), 5 * 6 / 2)
    assert r.min() >= 1 and r.max() <= 5


def test_ranks_over_time_lowest_is_rank_one_and_inf_ranks_last():
    v = np.array([[[0.1, np.inf]], [[0.2, 0.3]]])
    assert ranks_over_time(v).tolist() == [[1.0, 2.0], [2.0, 1.0]]


@pytest.mark.parametrize("bad", [np.zeros((2, 3)), np.zeros((2, 0, 3)),
                                 np.array([[[1.0, np.nan]], [[1.0, 2.0]]])])
def test_ranks_over_time_rejects_bad_input(bad):
    with pytest.raises(ConfigError):
        ranks_over_time(bad)


# ------------------------------------------------------------------------ Nemenyi / Friedman
# Demšar (2006, JMLR 7), Table 5a: q_0.05 of the two-tailed Nemenyi test.
DEMSAR_Q05 = {2: 1.960, 3: 2.343, 4: 2.569, 5: 2.728, 6: 2.850, 7: 2.949, 8: 3.031, 9: 3.102,
              10: 3.164}


@pytest.mark.parametrize("k", sorted(DEMSAR_Q05))
def test_nemenyi_q_matches_demsar_table(k):
    # The table is printed to 3 decimals (some entries truncated rather than rounded): +-0.001.
    assert nemenyi_q(k, 0.05) == pytest.approx(DEMSAR_Q05[k], abs=1e-3)


def test_nemenyi_q_grows_with_k_and_confidence():
    assert nemenyi_q(5, 0.10) < nemenyi_q(5, 0.05) < nemenyi_q(6, 0.05)


@pytest.mark.parametrize("k, alpha", [(1, 0.05), (3, 0.0), (3, 1.0), (2.5, 0.05)])
def test_nemenyi_q_rejects_bad_arguments(k, alpha):
    with pytest.raises(ConfigError):
        nemenyi_q(k, alpha)


# Per-seed ranks of 4 algorithms on 5 seeds (no ties); errors are built from them.
HAND_RANKS = np.array([[1, 1, 2, 1, 1],
                       [2, 3, 1, 2, 2],
                       [3, 2, 3, 4, 3],
                       [4, 4, 4, 3, 4]], dtype=float)
HAND_FINAL = 0.05 * HAND_RANKS + np.arange(5) * 0.3      # a seed offset does not change ranks


def test_friedman_statistic_matches_hand_computation():
    res = friedman(HAND_FINAL, ["a", "b", "c", "d"])
    # Rank sums 6, 10, 15, 19 -> mean ranks 1.2, 2.0, 3.0, 3.8.
    assert res.mean_ranks == pytest.approx((1.2, 2.0, 3.0, 3.8))
    # chi2_F = 12 S / (A (A+1)) * (sum R_j^2 - A (A+1)^2 / 4) = 12*5/20 * (28.88 - 25) = 11.64
    assert res.statistic == pytest.approx(11.64)
    from scipy.stats import chi2

    assert res.pvalue == pytest.approx(chi2.sf(11.64, 3))
    assert res.pvalue < 0.01
    assert res.n_seeds == 5 and res.alpha == 0.05 and res.names == ("a", "b", "c", "d")


def test_friedman_cd_formula():
    res = friedman(HAND_FINAL, list("abcd"))
    # CD = q_0.05(4) * sqrt(A (A+1) / (6 S)) = 2.569 * sqrt(20 / 30)
    assert res.cd == pytest.approx(2.569 * math.sqrt(20 / 30), abs=1e-3)
    res10 = friedman(HAND_FINAL, list("abcd"), alpha=0.10)
    assert res10.cd < res.cd


def test_friedman_groups_and_significance_on_hand_example():
    res = friedman(HAND_FINAL, list("abcd"))       # ranks 1.2, 2, 3, 3.8; CD ~ 2.098
    assert res.groups() == [("a", "b", "c"), ("b", "c", "d")]
    assert res.significant("a", "d") and res.significant("d", "a")
    assert not res.significant("a", "c")
    assert not res.significant("b", "d")


def test_friedman_two_algorithms_and_full_ties_are_graceful():
    two = friedman([[1.0, 2.0, 1.0], [2.0, 1.0, 3.0]], ["x", "y"])
    assert math.isnan(two.statistic) and two.pvalue == 1.0
    assert two.mean_ranks == pytest.approx((4 / 3, 5 / 3))
    assert two.cd == pytest.approx(1.960 * math.sqrt(6 / 18), abs=1e-3)
    tied = friedman(np.ones((4, 6)), list("abcd"))
    assert math.isnan(tied.statistic) and tied.pvalue == 1.0
    assert tied.mean_ranks == (2.5, 2.5, 2.5, 2.5)
    assert tied.groups() == [("a", "b", "c", "d")]
    one_seed = friedman([[1.0], [2.0], [3.0]], list("abc"))
    assert math.isnan(one_seed.statistic) and one_seed.pvalue == 1.0


def test_friedman_partial_ties_use_scipy_tie_correction():
    from scipy.stats import friedmanchisquare

    final = np.array([[1, 1, 2, 1], [1, 2, 1, 3], [3, 3, 3, 2]], dtype=float)
    res = friedman(final, list("abc"))
    assert res.statistic == pytest.approx(friedmanchisquare(*final).statistic)
    assert res.mean_ranks == pytest.approx((1.375, 1.875, 2.75))


@pytest.mark.parametrize("final, names, alpha", [
    ([[1.0, 2.0]], ["a"], 0.05),                          # one algorithm
    ([[1.0, 2.0], [2.0, 1.0]], ["a"], 0.05),              # names do not match the rows
    ([[1.0, 2.0], [2.0, 1.0]], ["a", "a"], 0.05),         # duplicate names
    ([[1.0, 2.0], [2.0, 1.0]], ["a", "b"], 1.5),          # alpha not a level
    ([[1.0, np.nan], [2.0, 1.0]], ["a", "b"], 0.05),      # NaN score
    ([1.0, 2.0], ["a", "b"], 0.05),                       # not 2-d
])
def test_friedman_rejects_bad_input(final, names, alpha):
    with pytest.raises(ConfigError):
        friedman(final, names, alpha)


# ------------------------------------------------------------------------ groups
def _result(ranks, cd, names=None):
    names = tuple(names or "abcdefghij"[:len(ranks)])
    return FriedmanResult(names, tuple(ranks), 1.0, 0.01, 10, 0.05, cd)


def test_groups_drops_runs_contained_in_earlier_ones_and_singletons():
    # Sorted: a 1.0, b 1.5, c 2.0, d 4.0, e 4.2. From a: a-c; from b: b-c (inside a-c, dropped);
    # c alone to d? 4.0 - 2.0 > 1.2 -> c's run is c only; d-e; e alone.
    assert _result([1.0, 1.5, 2.0, 4.0, 4.2], 1.2).groups() == [("a", "b", "c"), ("d", "e")]


def test_groups_sorted_by_rank_not_by_input_order():
    r = _result([3.0, 1.0, 2.0], 1.0, names=["worst", "best", "mid"])
    assert r.groups() == [("best", "mid"), ("mid", "worst")]


def test_groups_extremes():
    assert _result([1.0, 2.0, 3.0], 5.0).groups() == [("a", "b", "c")]
    assert _result([1.0, 2.0, 3.0], 0.5).groups() == []
    assert _result([1.0, 2.0, 3.0], 1.0).groups() == [("a", "b"), ("b", "c")]   # <= cd joins


@pytest.mark.parametrize("seed", range(5))
def test_groups_agree_with_significant(seed):
    rng = np.random.default_rng(seed)
    k = int(rng.integers(3, 9))
    res = friedman(rng.random((k, 6)) + np.linspace(0, 1, k)[:, None], [f"m{i}" for i in range(k)])
    groups = res.groups()
    for a, b in itertools.combinations(res.names, 2):
        together = any(a in g and b in g for g in groups)
        assert together == (not res.significant(a, b)), (a, b)
    # Maximal: no group is inside another.
    for g, h in itertools.permutations(groups, 2):
        assert not set(g) <= set(h)


def test_significant_unknown_name_and_bad_result():
    with pytest.raises(ConfigError, match="unknown algorithm"):
        _result([1.0, 2.0], 0.5).significant("a", "zz")
    with pytest.raises(ConfigError):
        FriedmanResult(("a", "b"), (1.0,), 1.0, 0.5, 3, 0.05, 1.0)


# ------------------------------------------------------------------------ CD diagram
def _overlaps(boxes):
    return [(i, j) for (i, a), (j, b) in itertools.combinations(enumerate(boxes), 2)
            if a.overlaps(b)]


def test_cd_diagram_content_and_no_overlapping_text(tmp_path):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    rng = np.random.default_rng(0)
    names = ["random", "design", "tpe", "cmaes", "regularized_evolution", "hyperband", "gp", "qmc"]
    final = np.array([0.5, 0.3, 0.1, 0.2, 0.15, 0.35, 0.05, 0.45])[:, None] \
        + rng.normal(0, 0.15, (8, 20))
    res = friedman(final, names)
    fig = cd_diagram(res, "demo")
    assert isinstance(fig, Figure) and isinstance(fig.canvas, FigureCanvasAgg)
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert texts[0] == f"demo (Friedman p = {res.pvalue:.3g}, 20 seeds)"
    assert f"CD = {res.cd:.2f}" in texts
    for n, r in zip(res.names, res.mean_ranks):
        assert f"{n} ({r:.2f})" in texts
    assert [str(i) for i in range(1, 9)] == [t for t in texts if t.isdigit()]
    thick = [ln for ln in fig.axes[0].lines if ln.get_linewidth() > 2]
    assert len(thick) == len(res.groups()) > 0
    # Every text lies inside the figure and no two texts overlap.
    renderer = fig.canvas.get_renderer()
    boxes = [t.get_window_extent(renderer) for t in fig.axes[0].texts]
    assert _overlaps(boxes) == []
    fig_box = fig.bbox
    for b in boxes:
        assert b.x0 >= fig_box.x0 and b.x1 <= fig_box.x1 and b.y0 >= fig_box.y0 \
            and b.y1 <= fig_box.y1
    fig.savefig(tmp_path / "cd.png")
    assert (tmp_path / "cd.png").stat().st_size > 1000


def test_cd_diagram_best_on_left_and_two_algorithms():
    res = friedman([[1.0, 1.0, 2.0], [2.0, 3.0, 1.0]], ["good", "bad"])
    fig = cd_diagram(res)
    texts = {t.get_text(): t for t in fig.axes[0].texts}
    assert texts["good (1.33)"].get_position()[0] < texts["bad (1.67)"].get_position()[0]
    assert any("Friedman p = n/a" in s for s in texts)
    # 2 seeds give a CD (2.77) longer than the 1..2 axis: the bar is cut, the label says so.
    assert f"CD = {res.cd:.2f} (longer than the axis)" in texts


def test_cd_diagram_needs_two_algorithms():
    with pytest.raises(ConfigError):
        cd_diagram(_result([1.0], 0.5))


# ------------------------------------------------------------------------ Pareto
def _brute_mask(p):
    p = np.asarray(p, dtype=float)
    return np.array([not any(np.all(q <= x) and np.any(q < x) for q in p) for x in p], dtype=bool)


def test_pareto_mask_hand_example_with_duplicates():
    pts = [[1, 5], [2, 3], [2, 3], [3, 3], [2, 4], [4, 1], [5, 1], [0, 9]]
    assert pareto_mask(pts).tolist() == [True, True, True, False, False, True, False, True]


def test_pareto_mask_edge_cases():
    assert pareto_mask(np.zeros((0, 2))).tolist() == []
    assert pareto_mask([[1, 1], [1, 1], [1, 1]]).tolist() == [True] * 3
    assert pareto_mask([[1, 1], [1, 2], [2, 1]]).tolist() == [True, False, False]
    assert pareto_mask([[0, np.inf], [1, 0]]).tolist() == [True, True]


@pytest.mark.parametrize("seed", range(10))
def test_pareto_mask_matches_brute_force(seed):
    rng = np.random.default_rng(seed)
    # A small integer grid makes ties and duplicates common.
    p = rng.integers(0, 6, size=(int(rng.integers(1, 40)), 2)).astype(float)
    if seed % 2:                                  # failed runs (+inf) tie among themselves too
        p[rng.random(p.shape) < 0.2] = np.inf
    np.testing.assert_array_equal(pareto_mask(p), _brute_mask(p))


@pytest.mark.parametrize("bad", [[1.0, 2.0, 3.0], np.zeros((3, 3)), [[1.0, np.nan]]])
def test_pareto_rejects_bad_points(bad):
    with pytest.raises(ConfigError):
        pareto_mask(bad)


def test_hypervolume_hand_examples():
    assert hypervolume_2d([[1, 1]], [3, 4]) == 6.0
    # Staircase: (1,3), (2,2), (3,1) in [0,4]^2 -> 3*1 + 2*1 + 1*1 ... columns: x 1-2 h 1, 2-3 h 2, 3-4 h 3
    assert hypervolume_2d([[1, 3], [2, 2], [3, 1]], [4, 4]) == 6.0
    # Dominated, duplicated and outside points change nothing.
    assert hypervolume_2d([[1, 3], [2, 2], [3, 1], [3, 3], [2, 2], [5, 0], [0, 4], [4, 0]],
                          [4, 4]) == 6.0
    assert hypervolume_2d([], [1, 1]) == 0.0
    assert hypervolume_2d([[2, 2]], [1, 1]) == 0.0
    assert hypervolume_2d([[0, np.inf], [np.inf, 0]], [1, 1]) == 0.0
    assert hypervolume_2d([[-1.0, -2.0]], [0.5, 0.0]) == pytest.approx(3.0)


@pytest.mark.parametrize("points, ref", [([[-np.inf, 0.0]], [1, 1]), ([[0, 0]], [1, np.inf]),
                                         ([[0, 0]], [1, 1, 1]), ([[0, 0]], [np.nan, 1])])
def test_hypervolume_rejects_bad_input(points, ref):
    with pytest.raises(ConfigError):
        hypervolume_2d(points, ref)
    with pytest.raises(ConfigError):
        hypervolume_trace(points, ref)


def _optuna_hv(points, ref):
    import optuna._hypervolume as hv  # the independent oracle: fail, not skip, if it moves
    p = np.asarray(points, dtype=float)
    p = p[(p[:, 0] < ref[0]) & (p[:, 1] < ref[1])]     # optuna requires every point <= ref
    return 0.0 if p.shape[0] == 0 else float(hv.compute_hypervolume(p, np.asarray(ref, float)))


@pytest.mark.parametrize("seed", range(8))
def test_hypervolume_matches_optuna(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 80))
    p = rng.normal(size=(n, 2)) if seed % 2 else rng.integers(0, 8, size=(n, 2)).astype(float)
    ref = np.quantile(p, 0.8, axis=0) + 0.1       # some points fall outside the box
    assert hypervolume_2d(p, ref) == pytest.approx(_optuna_hv(p, ref), rel=1e-12, abs=1e-12)


def test_hypervolume_trace_hand_example():
    trace = hypervolume_trace([[3, 3], [5, 0], [2, 2], [3, 3], [1, 3], [0, 0]], [4, 4])
    assert trace.tolist() == [1.0, 1.0, 4.0, 4.0, 5.0, 16.0]
    assert hypervolume_trace(np.zeros((0, 2)), [1, 1]).shape == (0,)


@pytest.mark.parametrize("seed", range(4))
def test_hypervolume_trace_matches_prefixes_and_optuna(seed):
    rng = np.random.default_rng(100 + seed)
    p = rng.random((60, 2)) if seed % 2 else rng.integers(0, 5, size=(60, 2)).astype(float)
    ref = np.array([0.9, 0.9]) if seed % 2 else np.array([4.0, 4.0])
    trace = hypervolume_trace(p, ref)
    assert trace.shape == (60,)
    assert np.all(np.diff(trace) >= 0)
    expect = [_optuna_hv(p[:t], ref) for t in range(1, 61)]
    np.testing.assert_allclose(trace, expect, rtol=1e-12, atol=1e-12)
    assert trace[-1] == pytest.approx(hypervolume_2d(p, ref))
