"""The search benchmark as a syne-tune blackbox (regnet_space.bench.synetune).

Oracles: a synthetic population of 30 regnetx architectures whose error curves and epoch times
are written down here (so the expected answer of every query is known), the definition of the
simulator (a result arrives at trial start + the cumulative time of its epoch; at most n_workers
trials run at once), ASHA's definition (stops trials at the rungs before the last epoch).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from syne_tune.config_space import choice, lograndint, loguniform, randint  # noqa: E402

from regnet_space.bench.synetune import (blackbox_from_arrays, nearest_architecture,  # noqa: E402
                                         simulate)
from regnet_space.errors import ConfigError  # noqa: E402
from regnet_space.spaces import get_space  # noqa: E402

N_ARCH, N_SEEDS, N_EPOCHS = 30, 2, 3
BUDGET = 600.0  # simulated seconds: ~ 15 full trainings of 40 s on 2 workers


@pytest.fixture(scope="module")
def pop():
    sp = get_space("regnetx", resolution=28, in_channels=1, num_classes=10)
    samples = sp.sample(N_ARCH, seed=0, flops="2M:5M")
    hp = pd.DataFrame([s.values for s in samples])
    flops = np.array([s.flops for s in samples], dtype=float)
    z = (hp - hp.mean()) / hp.std()
    final = 0.2 + 0.05 * np.tanh(z["d"] - z["wa"] + 0.5 * z["wm"]).to_numpy()
    rng = np.random.default_rng(0)
    epochs = np.arange(1, N_EPOCHS + 1)
    err = (final[:, None, None] + 0.3 / epochs[None, None, :]
           + 0.01 * rng.random((N_ARCH, N_SEEDS, N_EPOCHS)))
    secs = (flops / 1e5)[:, None, None] * (1 + 0.05 * rng.random((N_ARCH, N_SEEDS, N_EPOCHS)))
    domains = {"d": randint(int(hp.d.min()), int(hp.d.max())),
               "w0": lograndint(int(hp.w0.min()), int(hp.w0.max())),
               "wa": loguniform(hp.wa.min(), hp.wa.max()),
               "wm": loguniform(hp.wm.min(), hp.wm.max()),
               "b": choice(sorted(hp.b.unique().tolist())),
               "g": choice(sorted(hp.g.unique().tolist()))}
    bb = blackbox_from_arrays(hp, err, secs, domains=domains,
                              cost=pd.DataFrame({"flops": flops}))
    return dict(hp=hp, err=err, secs=secs, flops=flops, bb=bb)


@pytest.fixture(scope="module")
def runs(pop):
    out = {}
    for sch in ("asha", "random"):
        out[sch] = simulate(pop["bb"], sch, n_workers=2, max_wallclock_time=BUDGET, seed=0)
    return out


def _row_of(pop, config):
    hp = pop["hp"]
    hit = np.ones(len(hp), bool)
    for k, v in config.items():
        hit &= np.isclose(hp[k].to_numpy(float), float(v))
    return np.flatnonzero(hit)


def test_the_blackbox_answers_a_table_configuration_at_each_epoch(pop):
    bb, hp, err, secs = pop["bb"], pop["hp"], pop["err"], pop["secs"]
    assert bb.objectives_names == ["val_error", "elapsed_time", "flops"]
    assert bb.fidelity_name() == "epoch" and bb.fidelity_values.tolist() == [1, 2, 3]
    for i in (0, 7, 29):
        config = hp.iloc[i].to_dict()
        for seed in range(N_SEEDS):
            for e in range(1, N_EPOCHS + 1):
                r = bb.objective_function(config, fidelity=e, seed=seed)
                assert r["val_error"] == pytest.approx(err[i, seed, e - 1])
                # elapsed_time is the time from the start of training to the end of epoch e
                assert r["elapsed_time"] == pytest.approx(secs[i, seed, :e].sum())
                assert r["flops"] == pytest.approx(pop["flops"][i])
    with pytest.raises(ValueError, match="not present"):  # the table alone knows only its rows
        bb.objective_function(dict(hp.iloc[0].to_dict(), wa=hp.wa.iloc[0] + 0.123), fidelity=1)


def test_the_surrogate_answers_a_row_with_its_seed_mean_and_anything_else_with_a_neighbour(pop):
    sur = nearest_architecture(pop["bb"])
    err, secs, hp = pop["err"], pop["secs"], pop["hp"]
    mean_err, mean_time = err.mean(axis=1), np.cumsum(secs, axis=2).mean(axis=1)
    for i in (0, 7, 29):
        curve = sur.objective_function(hp.iloc[i].to_dict())  # (epochs, objectives)
        np.testing.assert_allclose(curve[:, 0], mean_err[i])
        np.testing.assert_allclose(curve[:, 1], mean_time[i])
    off = dict(hp.iloc[7].to_dict(), wa=hp.wa.iloc[7] * 1.01)  # not a row
    curve = sur.objective_function(off)
    j = int(np.argmin(np.abs(mean_err[:, -1] - curve[-1, 0])))
    np.testing.assert_allclose(curve[:, 0], mean_err[j])
    np.testing.assert_allclose(curve[:, 1], mean_time[j])


def _check_run(res, pop):
    """Every trial's curve is one architecture's seed-mean curve, reported at trial start + its
    cumulative time; at most 2 trials run at once; the clock is simulated."""
    mean_err = pop["err"].mean(axis=1)
    mean_time = np.cumsum(pop["secs"], axis=2).mean(axis=1)
    spans = []
    for _, t in res.sort_values("epoch").groupby("trial_id"):
        e = t["epoch"].to_numpy()
        assert (e == np.arange(1, len(e) + 1)).all()  # epochs 1, 2, ... in order
        rows = [i for i in range(N_ARCH)
                if np.allclose(mean_err[i, :len(e)], t["val_error"])
                and np.allclose(mean_time[i, :len(e)], t["elapsed_time"])]
        assert len(rows) == 1, "a trial's curve is not one architecture's curve"
        assert np.allclose(t["flops"], pop["flops"][rows[0]])
        start = t["st_tuner_time"] - t["elapsed_time"]
        assert start.max() - start.min() < 1e-6  # results at start + cumulative epoch time
        spans.append((start.iloc[0], t["st_tuner_time"].iloc[-1]))
    points = sorted(p for s, f in spans for p in ((s, 1), (f, -1)))
    assert max(np.cumsum([d for _, d in points])) <= 2  # n_workers
    assert res["st_tuner_time"].max() >= BUDGET  # the budget was spent in simulated time


def test_random_search_and_asha_run_on_two_simulated_workers(pop, runs):
    for sch in ("asha", "random"):
        res = runs[sch]
        assert {"trial_id", "epoch", "val_error", "elapsed_time", "st_tuner_time",
                "config_wa"} <= set(res.columns)
        _check_run(res, pop)
        best = res["val_error"].min()
        assert np.isclose(pop["err"].mean(axis=1), best).any()  # a (seed-mean) table value


def test_asha_stops_trials_early_and_tries_more_of_them_than_random_search(runs):
    asha = runs["asha"].groupby("trial_id")["epoch"].max()
    rand = runs["random"].groupby("trial_id")["epoch"].max()
    assert (asha < N_EPOCHS).sum() > 2  # stopped at a rung (not just cut by the budget's end)
    assert (rand < N_EPOCHS).sum() <= 2  # only the trials still running when the budget ends
    assert len(asha) > len(rand)  # the same simulated time buys more architectures
    assert asha.mean() < rand.mean()  # and fewer epochs per architecture
    assert set(runs["asha"]["st_decision"]) >= {"STOP"}


def test_runs_are_seeded_and_write_nowhere_but_the_folder(pop, tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    a = simulate(pop["bb"], "random", max_num_evaluations=12, seed=3, folder=tmp_path / "st")
    b = simulate(pop["bb"], "random", max_num_evaluations=12, seed=3)
    c = simulate(pop["bb"], "random", max_num_evaluations=12, seed=4)
    cols = ["trial_id", "epoch", "config_d", "config_wa", "val_error"]
    pd.testing.assert_frame_equal(a[cols].head(10), b[cols].head(10))
    assert not a[cols].head(10).equals(c[cols].head(10))
    assert list((tmp_path / "st").glob("regnet-space-random*/results.csv.zip"))
    assert not (tmp_path / "home").exists()  # not ~/syne-tune
    for sch in ("hyperband", "bohb"):
        res = simulate(pop["bb"], sch, max_num_evaluations=20, seed=0)
        assert len(res) >= 20 and res["val_error"].between(0, 1).all()


def test_without_the_surrogate_the_table_answers_with_one_seed_per_trial(pop):
    hp = pd.DataFrame({"arch": np.arange(N_ARCH)})
    bb = blackbox_from_arrays(hp, pop["err"], pop["secs"],
                              domains={"arch": choice(list(range(N_ARCH)))})
    res = simulate(bb, "asha", max_wallclock_time=BUDGET, seed=1, surrogate=False)
    for tid, t in res.sort_values("epoch").groupby("trial_id"):
        i, n = int(t["config_arch"].iloc[0]), len(t)
        assert any(np.allclose(pop["err"][i, s, :n], t["val_error"])
                   and np.allclose(np.cumsum(pop["secs"][i, s])[:n], t["elapsed_time"])
                   for s in range(N_SEEDS))


def test_bad_inputs_are_refused_with_a_message(pop):
    hp, err, secs, bb = pop["hp"], pop["err"], pop["secs"], pop["bb"]
    domains = bb.configuration_space
    with pytest.raises(ConfigError, match="shape"):
        blackbox_from_arrays(hp, err[:, :, :2], secs, domains=domains)
    with pytest.raises(ConfigError, match="n_arch"):
        blackbox_from_arrays(hp.head(5), err, secs, domains=domains)
    with pytest.raises(ConfigError, match="finite"):
        blackbox_from_arrays(hp, np.where(err > 0.5, np.nan, err), secs, domains=domains)
    with pytest.raises(ConfigError, match="domains"):
        blackbox_from_arrays(hp, err, secs, domains={"d": domains["d"]})
    with pytest.raises(ConfigError, match="duplicated"):
        blackbox_from_arrays(pd.concat([hp.head(29), hp.head(1)]), err, secs, domains=domains)
    with pytest.raises(ConfigError, match="budget"):
        simulate(bb, "asha")
    with pytest.raises(ConfigError, match="scheduler"):
        simulate(bb, "grid", max_num_evaluations=5)


def test_the_committed_noise_table_runs_in_syne_tunes_simulator():
    """The package's own table (real Fashion-MNIST runs, 3 seeds per model, real curves) as a
    syne-tune blackbox: every answer of the simulated ASHA run is a seed-mean curve point of
    one of its models."""
    import json

    from regnet_space.bench.synetune import blackbox

    path = Path(__file__).resolve().parent.parent / "results" / "bench" / "noise_regnetx.csv"
    bb = blackbox(str(path))
    runs = pd.read_csv(path)
    curves = pd.read_csv(str(path).replace(".csv", ".curves.csv"))
    assert len(bb.hyperparameters) == runs["model"].nunique()
    assert bb.fidelity_values.tolist() == [1, 2, 3]
    df = simulate(bb, "asha", n_workers=2, max_wallclock_time=600, seed=0)
    means = curves.groupby("epoch")["val_error"].agg(["min", "max"])
    for e, v in zip(df["epoch"], df["val_error"]):
        assert means.loc[e, "min"] - 1e-9 <= v <= means.loc[e, "max"] + 1e-9
    assert json.dumps(sorted(set(df["epoch"]))) == "[1, 2, 3]"
