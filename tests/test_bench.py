"""The search-algorithm benchmark: tabular oracle, metrics, mechanics, CLI (regnet_space.bench)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

import optuna

from regnet_space.bench import (KINDS, BenchResult, TabularOracle, evals_to_threshold,  # noqa: E402
                                mean_ci, mean_ranks, normalize_values, normalized_regret,
                                run_benchmark, synthetic_population, top_threshold)
from regnet_space.cli import main  # noqa: E402
from regnet_space.spaces import get_space  # noqa: E402
from regnet_space.analysis.table import write_population  # noqa: E402

SMALL = dict(resolution=32, in_channels=3, num_classes=10)


@pytest.fixture(scope="module")
def pycls_space():
    return get_space("regnetx_pycls", **SMALL)


@pytest.fixture(scope="module")
def pycls_pop(pycls_space):
    return synthetic_population(pycls_space, 300, seed=7, noise=0.0)


@pytest.fixture(scope="module")
def small_table(tmp_path_factory):
    space = get_space("anynetx_c", **SMALL)
    path = tmp_path_factory.mktemp("bench") / "pop.csv"
    write_population(synthetic_population(space, 120, seed=3), path)
    return path


def _row_values(space, df, i):
    return {p.name: p.cast(df[p.name].iloc[i]) for p in space.params}


# ------------------------------------------------------------------------------ oracle
def test_exact_lookup_returns_the_rows_error(pycls_space, pycls_pop):
    oracle = TabularOracle.from_table(pycls_pop)
    for i in (0, 17, 299):
        e, kind = oracle.query(_row_values(pycls_space, pycls_pop, i))
        assert kind == "exact"
        assert e == pytest.approx(pycls_pop["error"].iloc[i])


def test_exact_lookup_through_optuna_suggest(pycls_space, pycls_pop):
    """A trial enqueued with a row's values gets that row's error, counted as exact."""
    from regnet_space.search.optuna import encode_values, suggest_values

    oracle = TabularOracle.from_table(pycls_pop)
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    study.enqueue_trial(encode_values(pycls_space, _row_values(pycls_space, pycls_pop, 5)))
    e, kind = oracle.query(suggest_values(study.ask(), pycls_space))
    assert (e, kind) == (pytest.approx(pycls_pop["error"].iloc[5]), "exact")


def test_nearest_neighbour_in_log_normalized_space():
    """Rows differ only in w1 (16 vs 256); w1 = 88 is nearer 16 linearly but nearer 256 in log."""
    space = get_space("anynetx_c", **SMALL)
    base = {"d1": 1, "w1": 16, "d2": 2, "w2": 64, "d3": 2, "w3": 128, "d4": 1, "w4": 256,
            "b": 1, "g": 8}
    far = {"d1": 16, "w1": 1024, "d2": 16, "w2": 1024, "d3": 16, "w3": 1024, "d4": 16,
           "w4": 1024, "b": 4, "g": 1}
    rows = [base, {**base, "w1": 256}, far]
    values = {k: [r[k] for r in rows] for k in base}
    oracle = TabularOracle(space, values, [10.0, 20.0, 30.0], flops=(None, None))
    assert oracle.query({**base, "w1": 88}) == (20.0, "surrogate")
    assert oracle.query({**base, "w1": 48}) == (10.0, "surrogate")
    assert oracle.query({**far, "d1": 15}) == (30.0, "surrogate")
    assert oracle.query(base) == (10.0, "exact")
    # the normalization: each parameter over its allowed range, log for log parameters
    z = normalize_values(space, {k: [v] for k, v in {**base, "w1": 88}.items()})[0]
    assert z[space.names.index("w1")] == pytest.approx(math.log(88 / 8) / math.log(1024 / 8))
    assert z[space.names.index("b")] == pytest.approx(0.0)


def test_duplicates_are_averaged():
    space = get_space("anynetx_c", **SMALL)
    row = {"d1": 1, "w1": 16, "d2": 2, "w2": 64, "d3": 2, "w3": 128, "d4": 1, "w4": 256,
           "b": 1, "g": 8}
    values = {k: [v, v] for k, v in row.items()}
    oracle = TabularOracle(space, values, [10.0, 14.0], flops=(None, None))
    assert oracle.query(row) == (12.0, "exact")


def test_same_architecture_counts_separately(pycls_space, pycls_pop):
    """Another wa that quantizes to the same widths answers with the row's error."""
    oracle = TabularOracle.from_table(pycls_pop)
    found = False
    for i in range(40):
        v = _row_values(pycls_space, pycls_pop, i)
        cfg = pycls_space.decode(v)
        for step in (0.1, -0.1, 0.2, -0.2, 0.3, -0.3):
            wa = round(v["wa"] + step, 1)
            if not 8 <= wa <= 256:
                continue
            w = {**v, "wa": wa}
            if pycls_space.decode(w) == cfg:
                e, kind = oracle.query(w)
                assert (e, kind) == (pytest.approx(pycls_pop["error"].iloc[i]), "same_arch")
                found = True
                break
        if found:
            break
    assert found


def test_infeasible_gets_the_worst_error(pycls_space, pycls_pop):
    oracle = TabularOracle.from_table(pycls_pop)
    worst = float(pycls_pop["error"].max())
    # a RegNet with a single width level (wa small, wm large, few blocks) is not 4 stages
    bad = {"d": 12, "w0": 256, "wa": 8.0, "wm": 3.0, "b": 1, "g": 8}
    assert pycls_space.violations(bad)
    assert oracle.query(bad) == (worst, "infeasible")
    # a structurally valid row outside the feasible flops range is infeasible too
    v = _row_values(pycls_space, pycls_pop, 0)
    f = float(pycls_pop["flops"].iloc[0])
    narrow = TabularOracle.from_table(pycls_pop, flops=(f + 1, None))
    assert narrow.query(v) == (worst, "infeasible")
    assert TabularOracle.from_table(pycls_pop, flops=(f, f)).query(v)[1] == "exact"


def test_only_ok_rows_are_used(pycls_pop):
    df = pycls_pop.copy()
    df.loc[:9, "status"] = "failed"
    df.loc[:9, "error"] = np.nan
    oracle = TabularOracle.from_table(df)
    assert oracle.n == len(df) - 10
    df["status"] = "infeasible"
    df["error"] = np.nan
    with pytest.raises(ValueError, match="no row with status ok"):
        TabularOracle.from_table(df)


def test_wrong_space_is_refused(pycls_pop):
    with pytest.raises(ValueError, match="no column"):
        TabularOracle.from_table(pycls_pop, "anynetx_a")
    with pytest.raises(ValueError, match="flops do not match"):
        TabularOracle.from_table(pycls_pop.assign(flops=pycls_pop["flops"] * 3))


# ------------------------------------------------------------------------------ metrics
def test_metrics_on_a_hand_made_trace():
    trace = [50.0, 40.0, 45.0, 31.0, 35.0, 30.0]
    assert evals_to_threshold(trace, 31.0) == 4
    assert evals_to_threshold(trace, 30.0) == 6
    assert evals_to_threshold(trace, 29.9) == math.inf
    assert evals_to_threshold(trace, 100.0) == 1
    assert normalized_regret(30.0, 20.0, 40.0) == 0.5
    assert normalized_regret(20.0, 20.0, 40.0) == 0.0
    np.testing.assert_allclose(normalized_regret([20.0, 40.0, 50.0], 20.0, 40.0), [0, 1, 1.5])
    pop = np.arange(1.0, 101.0)            # 100 models, errors 1..100
    assert top_threshold(pop, 0.05) == 5.0  # the 5th best
    assert top_threshold(pop[:30], 0.05) == 2.0  # ceil(1.5) = 2nd best
    np.testing.assert_allclose(mean_ranks([[1.0, 2.0, 3.0], [2.0, 1.0, 3.0], [3.0, 3.0, 3.0]]),
                               [5 / 3, 5 / 3, 8 / 3])  # rows: algorithms, columns: seeds
    m, lo, hi = mean_ci([1.0, 2.0, 3.0])
    assert float(m) == 2.0 and 1.0 <= float(lo) < 2.0 < float(hi) <= 3.0
    # a bootstrap interval of errors never leaves the data's range, so never [0, 1]
    m, lo, hi = mean_ci(np.array([[0.0, 1.0], [0.0, 1.0], [0.02, 0.98], [0.0, 1.0]]), axis=0)
    assert (lo >= 0).all() and (hi <= 1).all()


def test_summary_of_hand_made_results():
    # 2 algorithms x 2 seeds x 4 evaluations; population min 10, median 20, top threshold 12
    errors = np.array([[[30, 20, 15, 11], [25, 12, 18, 17]],
                       [[30, 30, 30, 30], [14, 13, 30, 30]]], dtype=float)
    kinds = np.zeros(errors.shape, dtype=np.int8)
    kinds[1, 0, :] = KINDS.index("infeasible")
    kinds[0, 1, 0] = KINDS.index("surrogate")
    res = BenchResult(algos=["a", "b"], seeds=[0, 1], budget=4, errors=errors, kinds=kinds,
                      seconds=np.full((2, 2), 0.5), pop_min=10.0, pop_median=20.0, threshold=12.0)
    s = res.summary().set_index("algo")
    assert s.loc["a", "best_mean"] == pytest.approx((11 + 12) / 2)
    assert s.loc["b", "best_mean"] == pytest.approx((30 + 13) / 2)
    assert s.loc["a", "regret_mean"] == pytest.approx((0.1 + 0.2) / 2)
    assert s.loc["b", "regret_mean"] == pytest.approx((2.0 + 0.3) / 2)
    assert s.loc["a", "top5_hit_rate"] == 1.0 and s.loc["b", "top5_hit_rate"] == 0.0
    assert s.loc["a", "evals_to_top5_median"] == pytest.approx((4 + 2) / 2)
    assert s.loc["b", "evals_to_top5_median"] == math.inf
    assert s.loc["a", "mean_rank"] == 1.0 and s.loc["b", "mean_rank"] == 2.0
    assert s.loc["b", "infeasible_frac"] == 0.5 and s.loc["a", "surrogate_frac"] == 1 / 8
    assert s.loc["a", "searches_per_min"] == pytest.approx(120.0)
    np.testing.assert_array_equal(res.best_so_far[0, 0], [30, 20, 15, 11])
    assert len(res.traces()) == 16 and len(res.curves()) == 8
    assert "a" in res.format_summary() and ">4" in res.format_summary()


# ------------------------------------------------------------------------------ mechanics
class WorstSampler(optuna.samplers.BaseSampler):
    """Proposes the table's worst row every time: a deliberately bad baseline."""

    def __init__(self, oracle: TabularOracle, values: dict):
        from regnet_space.search.optuna import distributions, encode_values
        self._dists = distributions(oracle.space)
        self._params = encode_values(oracle.space, values)

    def infer_relative_search_space(self, study, trial):
        return dict(self._dists)

    def sample_relative(self, study, trial, search_space):
        return {k: v for k, v in self._params.items() if k in search_space}

    def sample_independent(self, study, trial, name, dist):  # pragma: no cover - not reached
        raise AssertionError(name)


def test_tpe_beats_random_and_worst_ranks_last(pycls_space, pycls_pop):
    worst_row = _row_values(pycls_space, pycls_pop, int(pycls_pop["error"].argmax()))
    oracle = TabularOracle.from_table(pycls_pop)
    res = run_benchmark(oracle, ["random", "tpe", "worst"], seeds=6, budget=40, noise="none",
                        factories={"worst": lambda o, seed, budget: WorstSampler(o, worst_row)})
    s = res.summary().set_index("algo")
    assert s.loc["tpe", "best_mean"] < s.loc["random", "best_mean"] - 0.002  # 0.0105 with optuna 5.0
    assert s.loc["tpe", "mean_rank"] < s.loc["random", "mean_rank"]
    assert s.loc["worst", "mean_rank"] == 3.0
    assert s.loc["worst", "best_mean"] == pytest.approx(pycls_pop["error"].max())
    assert s.loc["worst", "exact_frac"] == 1.0
    for algo in ("random", "tpe"):
        assert s.loc[algo, [f"{k}_frac" for k in KINDS]].sum() == pytest.approx(1.0)


def test_design_stays_feasible_and_jobs_do_not_change_results(pycls_pop):
    oracle = TabularOracle.from_table(pycls_pop)
    one = run_benchmark(oracle, "design,random,qmc,nsga2", seeds=2, budget=8)
    two = run_benchmark(oracle, "design,random,qmc,nsga2", seeds=2, budget=8, jobs=2)
    np.testing.assert_array_equal(one.errors, two.errors)
    np.testing.assert_array_equal(one.kinds, two.kinds)
    assert not (one.kinds[0] == KINDS.index("infeasible")).any()  # design: paper distribution
    assert not np.array_equal(one.errors[:, 0], one.errors[:, 1])  # seeds differ


def test_scores_are_measured_against_what_the_answers_can_reach(pycls_pop):
    """The default reference is the oracle's landscape (answers to the paper's distribution in
    budget), not the table rows: surrogate answers average neighbours and seldom reach the
    rows' extremes, so a row-based top 5% would be out of reach of almost every search."""
    oracle = TabularOracle.from_table(pycls_pop)
    land = oracle.landscape()
    assert land.shape == (2000,) and np.array_equal(land, oracle.landscape())  # seeded, cached
    assert oracle.errors.min() <= land.min() and land.max() <= oracle.errors.max()
    res = run_benchmark(oracle, "random", seeds=2, budget=8)
    assert res.reference == "landscape"
    assert res.threshold == top_threshold(land, 0.05)
    assert (res.pop_min, res.pop_median) == (land.min(), np.median(land))
    rows = run_benchmark(oracle, "random", seeds=2, budget=8, reference="table")
    assert rows.threshold == oracle.top_threshold(0.05) and rows.pop_min == oracle.pop_min
    np.testing.assert_array_equal(res.errors, rows.errors)  # only the scoring changes
    with pytest.raises(Exception, match="reference must be"):
        run_benchmark(oracle, "random", seeds=1, budget=4, reference="rows")


def test_a_smooth_trend_picks_the_ridge_surrogate_and_its_answers_stay_in_range():
    """Errors that follow complexity plus noise (as brief-training errors of one regime do):
    the linear surrogate ranks held-out rows better than averaging neighbours, is chosen by
    leave-one-out, and never answers outside the errors it was fitted on."""
    from regnet_space.bench.surrogate import best_surrogate, fidelity

    space = get_space("anynetx_a", resolution=28, in_channels=1, num_classes=10)
    samples = space.sample(150, seed=4, flops="2M:5M")
    values = {n: np.array([s.values[n] for s in samples], float) for n in space.names}
    logf = np.log([s.flops for s in samples])
    rng = np.random.default_rng(0)
    err = 0.40 - 0.05 * (logf - logf.mean()) + 0.01 * rng.standard_normal(len(samples))
    cands = fidelity(space, values, err)
    best = best_surrogate(space, values, err)
    knn = max(c.loo_spearman for c in cands if c.kind != "ridge")
    assert best.kind == "ridge" and best.loo_spearman > knn + 0.1
    assert "ridge" in best.describe()
    far = space.sample(200, seed=9, flops="1M:8M")
    pred = best.predict({n: np.array([s.values[n] for s in far], float) for n in space.names})
    assert err.min() <= pred.min() and pred.max() <= err.max()


def test_cmaes_runs(pycls_pop):
    res = run_benchmark(TabularOracle.from_table(pycls_pop), ["cmaes"], seeds=1, budget=16)
    assert np.isfinite(res.final).all()


def test_unknown_algorithm_lists_the_allowed_ones(pycls_pop):
    oracle = TabularOracle.from_table(pycls_pop)
    with pytest.raises(ValueError, match="unknown search algorithm 'annealing'; choose one of "
                                         "design, random, tpe, cmaes, gp, nsga2, qmc, re, ls"):
        run_benchmark(oracle, "random,annealing", seeds=1, budget=4)
    with pytest.raises(ValueError, match="hyperband prunes on per-epoch curves"):
        run_benchmark(oracle, "random,hyperband", seeds=1, budget=4)
    with pytest.raises(ValueError, match="budget"):
        run_benchmark(oracle, "random", seeds=1, budget=1)


# ------------------------------------------------------------------------------ CLI
def test_cli_writes_plots_and_tables(small_table, tmp_path, capsys):
    out = tmp_path / "out"
    rc = main(["bench-search", "--table", str(small_table), "--algos", "random,design,qmc",
               "--seeds", "2", "--budget", "8", "--out", str(out), "--quiet"])
    assert rc == 0
    printed = capsys.readouterr().out
    assert "random" in printed and "design" in printed and "srch/min" in printed
    for name in ("summary.csv", "curves.csv", "traces.csv", "best_so_far.png", "regret.png"):
        assert (out / name).stat().st_size > 0
    assert (out / "best_so_far.png").read_bytes()[:4] == b"\x89PNG"
    summary = pd.read_csv(out / "summary.csv")
    assert summary["algo"].tolist() == ["random", "design", "qmc"]
    assert {"best_mean", "best_lo", "best_hi", "regret_mean", "top5_hit_rate", "evals_to_top5_median",
            "mean_rank", "surrogate_frac", "infeasible_frac", "searches_per_min"} <= set(summary)
    assert len(pd.read_csv(out / "traces.csv")) == 3 * 2 * 8


@pytest.mark.parametrize("args, message", [
    (["--algos", "random,bogus"], "unknown search algorithm 'bogus'; choose one of design, random"),
    (["--table", "/nonexistent/pop.csv"], "not found"),
    (["--space", "regnetx"], "no column"),
    (["--budget", "1"], "--budget must be >= 2"),
])
def test_cli_errors_are_one_line_exit_2(small_table, tmp_path, capsys, args, message):
    argv = ["bench-search", "--table", str(small_table), "--out", str(tmp_path), "--seeds", "1",
            "--budget", "4", "--quiet", *args]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err and err.startswith("regnet-space bench-search")


def test_cli_table_without_ok_rows_exit_2(small_table, tmp_path, capsys):
    df = pd.read_csv(small_table)
    df["status"], df["error"] = "failed", np.nan
    bad = tmp_path / "failed.csv"
    df.to_csv(bad, index=False)
    assert main(["bench-search", "--table", str(bad), "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no row with status ok" in err
