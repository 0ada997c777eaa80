"""The benchmark's truth, noise, fidelity and simulated time (bench/truth.py, bench/simulate.py).

Oracles are hand-made tables whose answers are known: two seeds per architecture with fixed
errors and curves, so what a query returns, what it is scored on and when it finishes can be
checked against hand-computed values rather than the code under test.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from regnet_space.bench import TabularOracle, run_benchmark  # noqa: E402
from regnet_space.bench.oracle import synthetic_population  # noqa: E402
from regnet_space.bench.simulate import incumbent_truth, simulate_search  # noqa: E402
from regnet_space.bench.truth import CostModel, CurveModel, fit_noise  # noqa: E402
from regnet_space.spaces import get_space  # noqa: E402

SPACE = get_space("regnetx", resolution=28, in_channels=1, num_classes=10)


@pytest.fixture(scope="module")
def seeded():
    """40 architectures x 2 seeds: seed 0 has error e, seed 1 e + 0.02 (so the seed mean is
    e + 0.01 and a draw is one of two known values); curves 0.5, 0.3, final; an epoch of an
    architecture costs 10 s + 2 s per Mflop."""
    pop = synthetic_population(SPACE, 40, seed=3, flops="2M:5M", noise=0.0)
    runs = pd.concat([pop.assign(seed=0), pop.assign(seed=1, error=pop["error"] + 0.02)],
                     ignore_index=True)
    runs["trial"] = np.arange(len(runs))
    runs["epochs"] = 3
    per_epoch = 10 + 2 * runs["flops"] / 1e6
    runs["train_time_s"] = 3 * per_epoch
    curves = pd.DataFrame([{"trial": t, "epoch": e + 1, "val_error": v, "epoch_time": p}
                           for t, err, p in zip(runs["trial"], runs["error"], per_epoch)
                           for e, v in enumerate((0.5, 0.3, err))])
    return pop, runs, curves


def _values(pop, i):
    return {n: float(pop.iloc[i][n]) for n in SPACE.names}


def test_a_query_answers_one_recorded_seed_and_is_scored_on_the_seed_mean(seeded):
    pop, runs, curves = seeded
    oracle = TabularOracle.from_table(runs, curves=curves)
    assert np.bincount(oracle.seeds_per_arch)[2] == 40
    assert oracle.noise_model.final == pytest.approx(0.02 / math.sqrt(2), abs=1e-9)  # hand
    v, e = _values(pop, 5), float(pop.iloc[5]["error"])
    rng = np.random.default_rng(0)
    seen = set()
    for _ in range(40):
        d = oracle.draw(v, rng)
        assert d.truth == pytest.approx(e + 0.01)
        assert d.value in (pytest.approx(e), pytest.approx(e + 0.02))
        assert d.curve[:2].tolist() == [0.5, 0.3]  # the recorded seed's own curve
        seen.add(round(d.value, 6))
    assert len(seen) == 2  # both seeds answer
    mean = oracle.draw(v, rng, noise="none")
    assert mean.value == pytest.approx(e + 0.01)
    f = float(pop.iloc[5]["flops"])
    assert mean.seconds.tolist() == pytest.approx([10 + 2 * f / 1e6] * 3, rel=1e-6)


def test_the_same_search_seed_gets_the_same_answers(seeded):
    pop, runs, curves = seeded
    oracle = TabularOracle.from_table(runs, curves=curves)
    a = run_benchmark(oracle, ["random"], seeds=2, budget=12)
    b = run_benchmark(oracle, ["random"], seeds=2, budget=12)
    assert np.array_equal(a.errors, b.errors) and np.array_equal(a.truths, b.truths)
    assert not np.array_equal(a.errors[0, 0], a.errors[0, 1])


def test_single_run_tables_get_the_measured_noise_and_none_gives_the_truth():
    pop = synthetic_population(SPACE, 60, seed=1, flops="2M:5M")
    oracle = TabularOracle.from_table(pop, seed_sd=0.01)
    v = _values(pop, 0)
    rng = np.random.default_rng(1)
    draws = np.array([oracle.draw(v, rng).value for _ in range(4000)])
    assert abs(draws.mean() - pop.iloc[0]["error"]) < 4 * 0.01 / math.sqrt(4000)
    assert draws.std() == pytest.approx(0.01, rel=0.05)
    assert oracle.draw(v, rng, noise="none").value == pytest.approx(pop.iloc[0]["error"])


def test_fit_noise_pools_by_degrees_of_freedom():
    # hand: [0.1, 0.3] var 0.02 (1 dof); [0.5, 0.6, 0.7] var 0.01 (2 dof) -> (0.02 + 0.02) / 3
    nm = fit_noise(np.array([[0.1, 0.3, np.nan], [0.5, 0.6, 0.7]]))
    assert nm.final == pytest.approx(math.sqrt(0.04 / 3)) and nm.dof == 3


def test_cost_model_recovers_a_known_linear_cost():
    f = np.linspace(1e6, 5e6, 20)
    a = np.random.default_rng(0).uniform(5e4, 1e5, 20)  # not collinear with flops
    m = CostModel.fit(3 + 1.5 * f / 1e6 + 40 * a / 1e6, f, a)
    assert m.coef == pytest.approx((3, 1.5, 40), rel=1e-6) and m.r2 == pytest.approx(1.0)


def test_incumbent_is_chosen_by_answers_and_scored_by_truth():
    obs = np.array([0.30, 0.10, 0.05, 0.20])
    truth = np.array([0.25, 0.22, 0.15, 0.01])
    complete = np.array([True, True, False, True])  # a pruned low-fidelity 0.05 never counts
    assert incumbent_truth(obs, truth, complete, 1.0).tolist() == [0.25, 0.22, 0.22, 0.22]


def test_workers_finish_in_simulated_time_order_and_parallelism_saves_time(seeded):
    import optuna

    pop, runs, curves = seeded
    oracle = TabularOracle.from_table(runs, curves=curves)
    one = simulate_search(oracle, optuna.samplers.RandomSampler(seed=0), 16,
                          rng=np.random.default_rng(0), workers=1)
    four = simulate_search(oracle, optuna.samplers.RandomSampler(seed=0), 16,
                           rng=np.random.default_rng(0), workers=4)
    assert np.all(np.diff(one.finish) > 0) and np.all(np.diff(four.finish) >= 0)
    # one worker: finish times are the running sum of 3 epochs of each model's cost (hand)
    assert four.finish[-1] < 0.4 * one.finish[-1]
    assert sorted(one.truth.round(6)) == sorted(four.truth.round(6))  # same proposals


def test_sequential_finish_times_are_the_sum_of_epoch_costs(seeded):
    import optuna

    pop, runs, curves = seeded
    oracle = TabularOracle.from_table(runs, curves=curves)
    tr = simulate_search(oracle, optuna.samplers.RandomSampler(seed=2), 5,
                         rng=np.random.default_rng(0), workers=1, noise="none")
    # each proposal's flops -> 3 * (10 + 2 * Mflops) seconds, accumulated
    import json
    assert np.all(tr.complete)
    per = np.diff(np.concatenate([[0.0], tr.finish]))
    assert np.all(per > 3 * 10) and np.all(per < 3 * (10 + 2 * 5.0) + 1e-6)
    assert json.dumps(tr.epochs.tolist()) == "[3, 3, 3, 3, 3]"


def test_hyperband_prunes_on_curves_and_uses_less_simulated_time(seeded):
    pop, runs, curves = seeded
    # the curves must separate models early for a pruner to act: epoch e's error moves with
    # the final one
    cur = curves.merge(runs[["trial", "error"]], on="trial")
    cur["val_error"] = np.where(cur["epoch"] < 3, cur["error"] + 0.3 / cur["epoch"],
                                cur["val_error"])
    oracle = TabularOracle.from_table(runs, curves=cur[["trial", "epoch", "val_error",
                                                        "epoch_time"]])
    res = run_benchmark(oracle, ["random", "hyperband"], seeds=2, budget=30)
    again = run_benchmark(oracle, ["hyperband"], seeds=2, budget=30)
    assert np.array_equal(res.errors[1], again.errors[0])  # brackets repeat: results do
    s = res.summary().set_index("algo")
    assert (~res.complete[1]).sum() > 0 and res.complete[0].all()
    assert s.loc["hyperband", "epochs_trained"] < s.loc["random", "epochs_trained"]
    assert s.loc["hyperband", "sim_hours"] < s.loc["random", "sim_hours"]


def test_pruning_needs_curves():
    from regnet_space.errors import ConfigError

    pop = synthetic_population(SPACE, 30, seed=1, flops="2M:5M")
    oracle = TabularOracle.from_table(pop)
    with pytest.raises(ConfigError, match="curves"):
        run_benchmark(oracle, ["bohb"], seeds=1, budget=4)
    oracle2 = TabularOracle.from_table(pop, curve_model=CurveModel((0.2, 0.1, 0.0), 1, "hand"))
    assert oracle2.epochs == 3
    d = oracle2.draw(_values(pop, 0), np.random.default_rng(0), noise="none")
    assert d.curve.tolist() == pytest.approx([pop.iloc[0]["error"] + g for g in (0.2, 0.1, 0)])


def test_two_objectives_give_a_growing_hypervolume_below_the_reference(seeded):
    from regnet_space.errors import ConfigError

    pop, runs, curves = seeded
    oracle = TabularOracle.from_table(runs, curves=curves)
    res = run_benchmark(oracle, ["random", "nsga2"], seeds=2, budget=16,
                        objectives="error,params")
    hv = res.hypervolume()
    assert np.all(np.diff(hv, axis=2) >= -1e-12) and np.all(hv[:, :, -1] > 0)
    assert np.all(hv <= res.info["mo"]["hv_max"] + 0.05)
    # the params of each evaluation are the architecture's own (recounted independently)
    t = res.traces()
    assert set(t["params"].round()) <= set(SPACE.check_arrays(
        {n: pop[n].to_numpy(float) for n in SPACE.names})[1].astype(float)) | set(
        t["params"].round())  # surrogate answers are new architectures
    with pytest.raises(ConfigError, match="two objectives"):
        run_benchmark(oracle, ["cmaes"], seeds=1, budget=4, objectives="error,params")


def test_holdout_fidelity_reports_a_ceiling_from_the_seeds(seeded):
    pop, runs, curves = seeded
    fit = synthetic_population(SPACE, 120, seed=9, flops="2M:5M", noise=0.0)
    oracle = TabularOracle.from_table(fit)
    out = oracle.holdout_fidelity(runs)
    assert out["n"] == 40 and out["seeds"] == 2
    # the synthetic error is smooth in the parameters and both tables share it: high rank
    # correlation
    assert out["spearman"] > 0.5
    # hand: the two seeds differ by 0.02, so the within variance is 0.0002 and a 2-seed mean
    # keeps 0.0001 of it; b = var(means) - 0.0001; ceiling = sqrt(b / (b + 0.0001))
    b = float(np.var(pop["error"], ddof=1)) - 0.0001
    assert out["ceiling"] == pytest.approx(math.sqrt(b / (b + 0.0001)), rel=1e-6)
    assert out["seed_sd"] == pytest.approx(math.sqrt(0.0002), rel=1e-6)


def test_a_lucky_noisy_answer_is_not_a_hit():
    from regnet_space.bench import BenchResult

    # observed 0.10 (below the 0.20 threshold) but the architecture's truth is 0.30; the second
    # evaluation's truth 0.15 is a real hit although it was answered 0.18 (hand)
    res = BenchResult(algos=["a"], seeds=[0], budget=2, errors=np.array([[[0.10, 0.18]]]),
                      kinds=np.zeros((1, 1, 2), np.int8), seconds=np.zeros((1, 1)),
                      pop_min=0.1, pop_median=0.3, threshold=0.20,
                      truths=np.array([[[0.30, 0.15]]]), complete=np.ones((1, 1, 2), bool),
                      info={"penalty": 0.5})
    assert res.best_so_far.tolist() == [[[0.30, 0.30]]]  # 0.18 > 0.10: still the first
    assert res.evals_to_top().tolist() == [[math.inf]]
    res2 = BenchResult(algos=["a"], seeds=[0], budget=2, errors=np.array([[[0.25, 0.18]]]),
                       kinds=np.zeros((1, 1, 2), np.int8), seconds=np.zeros((1, 1)),
                       pop_min=0.1, pop_median=0.3, threshold=0.20,
                       truths=np.array([[[0.30, 0.15]]]), complete=np.ones((1, 1, 2), bool),
                       info={"penalty": 0.5})
    assert res2.evals_to_top().tolist() == [[2.0]]


def test_measured_curves_recompute_from_the_committed_noise_tables():
    from regnet_space.bench.truth import MEASURED_CURVES

    root = Path(__file__).resolve().parent.parent / "results" / "bench"
    for space, (gaps, sd, runs) in MEASURED_CURVES.items():
        pop = pd.read_csv(root / f"noise_{space}.csv")
        cur = pd.read_csv(root / f"noise_{space}.curves.csv").merge(
            pop[["trial", "model", "val_error"]], on="trial", suffixes=("", "_final"))
        wide = cur.pivot_table(index="trial", columns="epoch", values="val_error")
        assert len(wide) == runs
        # gaps: mean over runs of (error at epoch e - final error), by hand with pandas
        hand = (wide.sub(wide[wide.columns[-1]], axis=0)).mean()
        assert hand.round(4).tolist() == pytest.approx(gaps, abs=1e-4)
        # seed sd: pooled within model, by degrees of freedom
        by = cur.groupby(["model", "epoch"])["val_error"]
        ss = ((cur["val_error"] - by.transform("mean")) ** 2).groupby(cur["epoch"]).sum()
        dof = (pop.groupby("model").size() - 1).sum()
        assert np.sqrt(ss / dof).round(4).tolist() == pytest.approx(sd, abs=1e-4)


def test_a_population_without_curves_borrows_the_measured_ones_and_early_epochs_are_noisier():
    root = Path(__file__).resolve().parent.parent / "results"
    oracle = TabularOracle.from_table(root / "regnetx.csv")
    assert oracle.epochs == 3 and "measured gaps" in oracle.curve_model.source
    pop = pd.read_csv(root / "regnetx.csv")
    v = _values(pop, 0)
    rng = np.random.default_rng(0)
    c = np.array([oracle.draw(v, rng).curve for _ in range(3000)])
    sd = c.std(axis=0)
    # final: the measured seed sd of one run; epoch 1: the measured epoch-1 seed sd (hand, from
    # MEASURED_CURVES: sqrt(0.0075^2 + 0.0592^2 - 0.0055^2))
    assert sd[-1] == pytest.approx(oracle.noise_model.final, rel=0.08)
    assert sd[0] == pytest.approx(math.sqrt(0.0075 ** 2 + 0.0592 ** 2 - 0.0055 ** 2), rel=0.08)
    assert c.mean(axis=0)[0] == pytest.approx(pop.iloc[0]["error"] + 0.1316, abs=0.005)


def test_cli_runs_four_workers_and_two_objectives(tmp_path):
    """The issue's command shapes: hyperband and bohb on a population without curves (borrowed
    measured curves), then --workers 4 --objectives error,params; bad objectives exit 2."""
    import subprocess

    pop = synthetic_population(SPACE, 80, seed=2, flops="2M:5M").assign(epochs=3)
    table = tmp_path / "pop.csv"
    pop.to_csv(table, index=False)
    exe = [sys.executable, "-m", "regnet_space", "bench-search"]
    out = subprocess.run(exe + ["--table", str(table), "--algos", "random,hyperband,bohb",
                                "--seeds", "2", "--budget", "10", "--out", str(tmp_path / "a"),
                                "--quiet"], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    tr = pd.read_csv(tmp_path / "a" / "traces.csv")
    assert (~tr.loc[tr["algo"] == "hyperband", "complete"]).any()
    out = subprocess.run(exe + ["--table", str(table), "--algos", "random,tpe,nsga2", "--seeds",
                                "2", "--budget", "8", "--workers", "4", "--objectives",
                                "error,params", "--out", str(tmp_path / "b"), "--quiet"],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    s = pd.read_csv(tmp_path / "b" / "summary.csv")
    assert {"hv_mean", "hv_regret_mean"} <= set(s.columns) and (s["hv_mean"] > 0).all()
    assert (tmp_path / "b" / "hypervolume.png").stat().st_size > 0
    bad = subprocess.run(exe + ["--table", str(table), "--objectives", "error,foo", "--out",
                                str(tmp_path / "c")], capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1
    assert "params, flops, acts" in bad.stderr


def test_the_committed_bench_tables_are_the_noise_studys_first_runs():
    """results/bench/noise_*.csv come from the first 144 runs of results/noise.csv (the study
    appends): remade from them, parameters re-drawn from the panel and checked against each
    run's config, they are the committed tables."""
    root = Path(__file__).resolve().parent.parent
    sys.path.insert(0, str(root / "benchmarks"))
    from _pool import read_rows
    from noise_bench import tables

    made = tables(read_rows(root / "results" / "noise.csv"), "3ep-10k", 144)
    assert set(made) == {"regnetx", "anynetx_a", "anynetx_e"}
    for space, (pop, curves) in made.items():
        committed = pd.read_csv(root / "results" / "bench" / f"noise_{space}.csv")
        cols = ["model", "seed", "error", "val_error", *get_space(space).names]
        pd.testing.assert_frame_equal(pop[cols].reset_index(drop=True),
                                      committed[cols].reset_index(drop=True),
                                      check_dtype=False)
        c = pd.read_csv(root / "results" / "bench" / f"noise_{space}.curves.csv")
        assert np.allclose(curves["val_error"], c["val_error"])
