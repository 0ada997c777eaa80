"""Behaviour that matters, pinned by tests that fail when it breaks (issue 17's mutation list).

Each test names the behaviour it pins; the expected values come from an independent computation
(a closed form, a hand count, a formula written out here), never from the code under test.
"""

from __future__ import annotations

import math
import threading

import numpy as np
import optuna
import pytest

from regnet_space.budget import Budget
from regnet_space.complexity import complexity
from regnet_space.spaces import get_space
from regnet_space.spaces.encoding import get_encoding

optuna.logging.set_verbosity(optuna.logging.ERROR)
SMALL = dict(resolution=28, in_channels=1, num_classes=10)


# ------------------------------------------------------------------------------ budgets
def test_budget_bounds_are_inclusive_at_both_ends():
    b = Budget.parse(flops="100:200", params=":10", acts="5:")
    f = np.array([100, 200, 99, 201, 150, 150, 150])
    p = np.array([10, 10, 10, 10, 11, 10, 10])
    a = np.array([5, 5, 5, 5, 5, 4, 5])
    assert b.mask(f, p, a).tolist() == [True, True, False, False, False, False, True]
    space = get_space("regnetx")
    v = dict(d=13, w0=24, wa=36.4, wm=2.49, b=1, g=8)
    fl = complexity(space.decode(v)).flops                 # 199,040,872, counted independently
    for rng in (f"{fl}:{fl}", f":{fl}", f"{fl}:"):        # a value exactly at a bound is in
        assert space.check(v, rng).feasible, rng
    assert not space.check(v, f"{fl + 1}:").feasible and not space.check(v, f":{fl - 1}").feasible


def test_check_applies_the_constrained_spaces_caps():
    """regnetx_constrained (Sec. 4-5) caps params <= (3 + 5.5 F) M and acts <= 6.5 sqrt(F) M."""
    space = get_space("regnetx_constrained")
    rng = np.random.default_rng(0)
    draws = space.draw(rng, 400)
    broke = kept = 0
    for i in range(400):
        values = {p.name: p.cast(draws[p.name][i]) for p in space.params}
        verdict = space.check(values)
        if verdict.config is None:
            continue
        cx = complexity(verdict.config)
        gf = cx.flops / 1e9
        caps_ok = cx.params <= (3 + 5.5 * gf) * 1e6 and cx.acts <= 6.5 * math.sqrt(gf) * 1e6
        assert verdict.feasible == caps_ok, (values, cx)
        broke += not caps_ok
        kept += caps_ok
    assert broke >= 5 and kept >= 5   # both outcomes occur: the test cannot pass vacuously


# ------------------------------------------------------------------------------ feasible encoding
@pytest.fixture(scope="module")
def enc_small():
    """One feasible encoding (its 2,048-sample repair pool is built once for the module)."""
    return get_encoding(get_space("regnetx", **SMALL), "2M:5M")


def test_pool_repairs_are_flagged(enc_small):
    x = enc_small.random_coords(np.random.default_rng(0), 2000)
    _, repaired = enc_small.decode_arrays(x)
    counts = dict(enc_small.last_repairs)
    assert counts["pool"] > 0          # this batch needs the pool: the check below is not empty
    assert int(repaired.sum()) == counts["depth"] + counts["pool"]


def test_too_deep_proposals_are_rescaled_onto_the_feasible_depths(enc_small):
    """A proposal deeper than every feasible configuration (depth D) is first scaled onto it:
    depth d -> d_lo + (d - d_lo) * D / d_max; it then decodes like that shallower proposal."""
    space = enc_small.space
    pool = space.sample_arrays(2048, seed=0, budget="2M:5M")           # the pool, via the API
    deepest = float(pool.values["d"].max())
    d_lo, d_max = float(space.num_stages), float(space.param("d").high)
    rescaled = round(d_lo + (d_max - d_lo) * deepest / d_max)
    x = enc_small.random_coords(np.random.default_rng(1), 3000)
    deep = {**x, "d": np.full(3000, d_max)}
    same = {**x, "d": np.full(3000, float(rescaled))}
    v_deep, _ = enc_small.decode_arrays(deep)
    v_same, rep_same = enc_small.decode_arrays(same)
    rows = np.flatnonzero(~rep_same)          # the rescaled proposal is feasible as it stands
    assert len(rows) >= 10
    for name in space.names:
        assert np.array_equal(v_deep[name][rows], v_same[name][rows]), name


def test_depth_moves_go_the_right_way():
    """Too shallow (widest width below the budget) -> deeper; too deep -> shallower."""
    space = get_space("regnetx", **SMALL)
    enc = get_encoding(space, "200M:250M")
    x = enc.random_coords(np.random.default_rng(0), 200)
    v, rep = enc.decode_arrays({**x, "d": np.full(200, 4.0)})
    assert enc.last_repairs == {"depth": 200, "pool": 0} and bool(np.all(v["d"] > 4))
    enc = get_encoding(space, "2M:5M")
    v, rep = enc.decode_arrays({**x, "d": np.full(200, 63.0)})
    assert enc.last_repairs["pool"] <= 10 and bool(np.all(v["d"] < 63))


# ------------------------------------------------------------------------------ divergence
def test_divergence_limit_is_factor_times_ln_classes_and_checks_held_out_loss():
    """A finite held-out loss above the limit ends the run (labels of the test split shifted
    by one class: a model that learned the training split is confidently wrong there), and the
    limit is diverge_factor x ln(classes), written out independently here."""
    from regnet_space.training import evaluate
    from regnet_space.training.data import from_tensors, load_data

    d = load_data("synthetic", train_size=2048, test_size=64)
    shifted = from_tensors(d.train.x, d.train.y, d.test.x, (d.test.y + 1) % 10, num_classes=10)
    cfg = get_space("anynetx_a", **SMALL).sample(1, seed=0, flops="2M:5M")[0].config
    # held-out losses seen: about 50 (AVX-512) and 70 (AVX2): factor 4.5 puts them well inside
    # (limit, 10 x limit) = (10.4, 104) on either instruction set
    r = evaluate(cfg, shifted, lr=0.4, epochs=2, diverge_factor=4.5, threads=1, batch_size=32,
                 progress=False)
    limit = 4.5 * math.log(10)
    assert r.status == "diverged" and "held-out loss" in r.reason, r.reason
    assert f"= {limit:.3g})" in r.reason, r.reason
    loss = float(r.reason.split("held-out loss ")[1].split()[0])
    assert limit < loss < 10 * limit      # finite, above the limit, below a limit raised 10x
    assert r.train_loss == [] or max(r.train_loss) < limit


# ------------------------------------------------------------------------------ retries and surplus
def _dead_trial(study):
    """A RUNNING trial failed as a dead worker's: what the heartbeat check hands the callback."""
    t = study.ask({"x": optuna.distributions.FloatDistribution(0, 1)})
    study.tell(t, state=optuna.trial.TrialState.FAIL)
    return study.trials[t.number]


def test_a_dead_trial_is_retried_exactly_max_retry_times_and_only_once_each():
    from regnet_space.search.optuna.storage import _retry_callback

    study = optuna.create_study()
    retry = _retry_callback(2)
    first = _dead_trial(study)
    retry(study, first)
    retry(study, first)                 # a second worker notices the same death: no copy
    waiting = [t for t in study.trials if t.state == optuna.trial.TrialState.WAITING]
    assert len(waiting) == 1 and waiting[0].params == first.params
    for expected_waiting in (1, 0):    # the retry dies, and its retry dies: 2 retries in all
        t = study.ask()                 # pops the WAITING retry
        study.tell(t, state=optuna.trial.TrialState.FAIL)
        retry(study, study.trials[t.number])
        now = [t for t in study.trials if t.state == optuna.trial.TrialState.WAITING]
        assert len(now) == expected_waiting
    chains = [t.system_attrs.get("retry_history") for t in study.trials]
    assert chains == [None, [0], [0, 1]]


def test_an_enqueued_trial_does_not_use_up_a_design_sample():
    from regnet_space.search.optuna import DesignSpaceSampler, encode_values

    space = get_space("anynetx_a", **SMALL)
    expected = space.sample(3, seed=5, flops="2M:5M")        # the stream, via the space itself
    sampler = DesignSpaceSampler(space, flops="2M:5M", seed=5, encoding="raw")
    study = optuna.create_study(sampler=sampler)
    mine = get_space("anynetx_a", **SMALL).sample(1, seed=99, flops="2M:5M")[0].values
    study.enqueue_trial(encode_values(space, mine, encoding="raw"))
    from regnet_space.search.optuna import decode_params, suggest_values

    study.optimize(lambda t: (suggest_values(t, space, encoding="raw"), 0.5)[1], n_trials=3)

    got = [decode_params(space, t.params, encoding="raw") for t in study.trials]
    assert got[0] == dict(mine)
    assert got[1:] == [dict(s.values) for s in expected[:2]]


def test_surplus_trial_is_refused_when_earlier_trials_already_number_n(monkeypatch):
    """n = 2: trial 0 finished and another worker's trial 1 is running, but this worker read the
    counts just before trial 1 appeared (the race between workers, replayed by one stale
    summary). Its trial 2 is then the third and must not train (status surplus)."""
    from regnet_space.search.optuna import workers

    study = optuna.create_study()
    study.tell(study.ask(), 0.5)
    other = study.ask()                        # another worker's trial, finished a bit later
    threading.Timer(0.5, lambda: study.tell(other, 0.4)).start()
    real, reads = workers.study_summary, []

    def summary(st):
        reads.append(1)
        s = real(st)
        return {**s, "finished": 1, "running": 0} if len(reads) == 1 else s

    monkeypatch.setattr(workers, "study_summary", summary)
    calls = []
    s = workers.run_worker(study, lambda t: calls.append(t.number) or 0.3, 2, progress=False,
                           poll=0.1)
    states = [t.state.name for t in study.trials]
    assert calls == [] and states == ["COMPLETE", "COMPLETE", "FAIL"], (calls, states)
    assert study.trials[2].user_attrs["status"] == "surplus" and s["surplus"] == 1


# ------------------------------------------------------------------------------ analysis
def _exact_best_of_k(e: np.ndarray, k: int) -> tuple[float, float]:
    """Mean and std of the minimum of k draws with replacement from e (closed form)."""
    e = np.sort(e)
    n = e.size
    i = np.arange(n)
    p = ((n - i) / n) ** k - ((n - i - 1) / n) ** k     # P(min = e[i])
    mean = float(p @ e)
    return mean, float(math.sqrt(p @ e ** 2 - mean ** 2))


def test_efficiency_band_is_mean_plus_two_std_of_the_best_of_k():
    from regnet_space.analysis.stats import efficiency_bootstrap

    e = np.linspace(0.0, 1.0, 101)
    tab = efficiency_bootstrap(e, ks=[2, 4], seed=0, rounds=400)
    for k, row in zip((2, 4), tab.itertuples()):
        mean, std = _exact_best_of_k(e, k)
        assert row.mean == pytest.approx(mean, abs=0.01)
        assert row.std == pytest.approx(std, rel=0.05)
        assert row.high - row.mean == pytest.approx(2 * std, rel=0.06)   # unclipped here


def test_bootstrap_best_draws_a_quarter_of_the_population():
    """x = the error's rank: the best of m draws from 0..N-1 has P(min >= j) = ((N - j) / N)^m;
    its median is the first j with P(min <= j) >= 1/2. m = N / 4, not N."""
    from regnet_space.analysis.stats import bootstrap_best

    n = 400
    x = np.arange(n, dtype=float)
    rng = np.random.default_rng(0)
    perm = rng.permutation(n)
    r = bootstrap_best(x[perm], x[perm] / n, repeats=20_000, seed=0)
    m = n // 4
    j = np.arange(n)
    median = int(np.argmax(1 - ((n - j - 1) / n) ** m >= 0.5))
    assert abs(r.median - median) <= 1, (r.median, median)
    hi = int(np.argmax(1 - ((n - j - 1) / n) ** m >= 0.975))
    assert abs(r.high - hi) <= 2, (r.high, hi)


@pytest.mark.parametrize("shift_a, spread_a, verdict", [
    (-0.05, 0.02, "a_dominates"),    # every A model 5 points better: F_A lies above F_B
    (+0.05, 0.02, "b_dominates"),
    (0.0, 0.02, "no_difference"),    # the same population
    (0.0, 0.08, "crossing"),         # same centre, 4x the spread: above below it, under above
])
def test_dominance_verdicts(shift_a, spread_a, verdict):
    from regnet_space.analysis.confidence import edf_dominance

    q = (np.arange(300) + 0.5) / 300                     # evenly spaced quantiles: no noise
    from statistics import NormalDist

    z = np.array([NormalDist().inv_cdf(v) for v in q])
    b = 0.4 + 0.02 * z
    a = 0.4 + shift_a + spread_a * z
    d = edf_dominance(a, b, repeats=500, seed=0)
    assert d.verdict == verdict, d.describe()
    assert d.dominates == (verdict == "a_dominates")


# ------------------------------------------------------------------------------ NNI export
def test_nni_early_stopped_trial_is_not_exported_as_ok(tmp_path):
    import sqlite3

    from test_nni_space import fake_final, make_db

    from regnet_space.search.nni import export_population

    space = get_space("regnetx", **SMALL)
    p = [dict(s.values) for s in space.sample(2, seed=0, flops=":20M")]
    rows = [(0, "a", p[0], fake_final(space, p[0], 0.30)),
            (1, "b", p[1], fake_final(space, p[1], 0.31))]
    db = make_db(tmp_path / "db" / "nni.sqlite", rows, concurrency_bug=False)
    con = sqlite3.connect(db)   # trial a reported its final result, then an assessor stopped it
    con.execute("UPDATE TrialJobEvent SET event = 'EARLY_STOPPED' WHERE trialJobId = 'a' AND "
                "event = 'SUCCEEDED'")
    con.commit()
    con.close()
    df = export_population("exp1", db_path=db)
    assert df["status"].tolist() == ["pruned", "ok"]
    assert np.isnan(df["error"].iloc[0]) and df["error"].iloc[1] == 0.31


def test_nni_export_consistency_checks_the_echoed_values_too(tmp_path):
    from test_nni_space import fake_final, make_db

    from regnet_space.search.nni import export_population

    space = get_space("regnetx", **SMALL)
    p = [dict(s.values) for s in space.sample(2, seed=0, flops=":20M")]
    final = fake_final(space, p[0], 0.30)
    final["parameters"] = {**final["parameters"], "wa": final["parameters"]["wa"] + 0.1}
    rows = [(0, "a", p[0], final), (1, "b", p[1], fake_final(space, p[1], 0.31))]
    db = make_db(tmp_path / "db" / "nni.sqlite", rows, concurrency_bug=False)
    df = export_population("exp1", db_path=db)
    assert df["consistent"].tolist() == [False, True]   # same config echoed, other values


# ------------------------------------------------------------------------------ hot path
def test_suggest_builds_its_encoding_once_per_space_budget_and_encoding(monkeypatch):
    from regnet_space.search.optuna import suggest
    from regnet_space.spaces import encoding as enc_mod

    built = []
    real = enc_mod.get_encoding
    monkeypatch.setattr(enc_mod, "get_encoding", lambda *a, **k: built.append(a) or real(*a, **k))
    enc_mod._cached.cache_clear()
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    space = get_space("anynetx_a", **SMALL)
    for _ in range(5):
        suggest(study.ask(), space, "2M:5M")
        suggest(study.ask(), get_space("anynetx_a", **SMALL), "2M:5M")   # an equal space
    assert len(built) == 1
    suggest(study.ask(), space, "2M:6M")                                   # another budget
    suggest(study.ask(), space, "2M:5M", "raw")                            # another encoding
    assert len(built) == 3
    enc_mod._cached.cache_clear()


def test_complexity_arrays_in_chunks_equals_one_pass_and_the_per_config_count(monkeypatch):
    import importlib

    cx = importlib.import_module("regnet_space.complexity")
    space = get_space("anynetx_a")
    chunk = cx.CHUNK_ROWS
    n = 2 * chunk + 7
    ds, ws, ss, bs, gs, _ = space.stage_arrays(space.draw(np.random.default_rng(0), n))
    net = {k: v for k, v in space.net_kwargs.items() if k != "block"}
    chunked = cx.complexity_arrays(ds, ws, ss, bs, gs, block="X", **net)
    monkeypatch.setattr(cx, "CHUNK_ROWS", 1 << 40)
    whole = cx.complexity_arrays(ds, ws, ss, bs, gs, block="X", **net)
    assert all(np.array_equal(a, b) for a, b in zip(chunked, whole))
    v = space.draw(np.random.default_rng(0), n)
    for i in (0, chunk - 1, chunk, n - 1):   # the first, a chunk's last and the last row
        cfg = space.decode({k: x[i] for k, x in v.items()})
        assert int(chunked[0][i]) == complexity(cfg).flops


# ------------------------------------------------------------------------------ samplers
@pytest.mark.parametrize("kind, lo, hi, q, expected", [
    # pycls's log_uniform(1, 16) then ceil: f log-uniform on (0.5, 16], P(d = v) =
    # ln(v / (v - 1)) / ln(32) (v = 1: ln(1 / 0.5) / ln(32)), written out by hand:
    ("log_uniform", 1, 16, 1, {1: 0.2, 2: 0.2, 3: math.log(1.5) / math.log(32),
                               16: math.log(16 / 15) / math.log(32)}),
    ("uniform", 12, 28, 1, {12: 1 / 17, 20: 1 / 17, 28: 1 / 17}),
    ("power2", 1, 32, 1, {1: 1 / 6, 4: 1 / 6, 32: 1 / 6}),   # 1, 2, 4, 8, 16, 32 alike
])
def test_param_samplers_match_hand_computed_probabilities(kind, lo, hi, q, expected):
    """An oracle independent of Param.pmf (which the older test compares the sampler with)."""
    from regnet_space.spaces import Param

    p = Param("x", kind, lo, hi, q)
    vals, probs = p.pmf()
    table = dict(zip(vals.tolist(), probs.tolist()))
    n = 300_000
    x = p.sample(np.random.default_rng(0), n)
    for v, prob in expected.items():
        assert table[v] == pytest.approx(prob, rel=1e-9)
        sd = math.sqrt(n * prob * (1 - prob))
        assert abs(np.sum(x == v) - n * prob) <= 5 * sd
