"""Optuna mechanics: suggestions, the design-space sampler, budgets, objective, storage, export.

Nothing here trains a network: objectives get an injected ``evaluate``.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import optuna

from optuna.trial import TrialState  # noqa: E402

from regnet_space.budget import Budget  # noqa: E402
from regnet_space.errors import ConfigError, StorageError, StudyMismatchError  # noqa: E402
from regnet_space.search.optuna import (INFEASIBLE_ERROR, DesignSpaceSampler,  # noqa: E402
                                       decode_params, distributions,
                                       encode_values, export_population, make_sampler, objective,
                                       open_storage, open_study, recover_dead_trials, run_worker,
                                       study_meta, study_summary, suggest)
from regnet_space.spaces import BudgetError, get_space, space_names  # noqa: E402

optuna.logging.set_verbosity(optuna.logging.ERROR)
SPACE = get_space("regnetx", resolution=28, in_channels=1, num_classes=10)
BUDGET = "5M:20M"


def cheap(cfg, **kw):
    """A cheap 'error' from the config: deeper and wider is better (no training)."""
    return 1.0 / (1.0 + 0.01 * sum(s.d * s.w for s in cfg.stages) ** 0.5)


# ------------------------------------------------------------------------------ encoding
@pytest.mark.parametrize("name", space_names())
def test_encoding_round_trips_every_space(name):
    space = get_space(name)
    dists = distributions(space)
    for s in space.sample(25, seed=3):
        raw = encode_values(space, s.values)
        assert set(raw) == set(dists)
        for k, v in raw.items():
            assert dists[k]._contains(dists[k].to_internal_repr(v)), (k, v)
        assert decode_params(space, raw) == dict(s.values)


def test_suggest_is_define_by_run_and_records_effective_values():
    for encoding in ("raw", "feasible"):
        s = SPACE.sample(1, seed=0, flops=BUDGET)[0]
        trial = optuna.trial.FixedTrial(encode_values(SPACE, s.values, BUDGET, encoding))
        assert suggest(trial, SPACE, BUDGET, encoding) == s.config
        assert trial.user_attrs["values"] == dict(s.values)
    d = distributions(SPACE, encoding="raw")
    assert d["g_log2"].low == 0 and d["g_log2"].high == 5   # power2 -> integer exponent
    assert d["w0"].log and d["wm"].log                       # log_uniform -> log=True
    assert d["d"].step == 1 and not d["d"].log               # uniform -> step q
    f = distributions(SPACE, BUDGET)                          # feasible: shape + size
    assert set(f) == {"d", "wm", "b_index", "g_log2", "slope", "size"} and f["d"].low == 4


def test_log_uniform_suggestions_snap_to_the_grid():
    space = get_space("anynetx_a")
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    for _ in range(20):
        t = study.ask()
        cfg = suggest(t, space)
        v = t.user_attrs["values"]
        assert all(v[f"w{i}"] % 8 == 0 for i in range(1, 5))
        assert space.check_values(v) == v
        assert len(cfg.stages) == 4


# ------------------------------------------------------------------------------ design sampler
@pytest.mark.parametrize("name,budget", [("regnetx", BUDGET), ("anynetx_e", "2M:10M")])
def test_design_sampler_matches_space_sample_exactly(name, budget):
    space = get_space(name, resolution=28, in_channels=1, num_classes=10)
    study = optuna.create_study(sampler=DesignSpaceSampler(space, flops=budget, seed=7))
    study.optimize(objective(space, budget=budget, evaluate=cheap), n_trials=40)
    ref = space.sample(40, seed=7, flops=budget)
    assert [t.user_attrs["values"] for t in study.trials] == [dict(s.values) for s in ref]
    assert [t.user_attrs["config"] for t in study.trials] == [s.config.to_json() for s in ref]
    assert all(t.user_attrs["status"] == "ok" for t in study.trials)


def test_design_sampler_trial_k_takes_sample_k_in_any_order():
    sampler = DesignSpaceSampler(SPACE, flops=BUDGET, seed=1)
    ref = SPACE.sample(200, seed=1, flops=BUDGET)
    assert sampler.sample_values(150) == dict(ref[150].values)   # grows the cache
    assert sampler.sample_values(3) == dict(ref[3].values)


def test_design_sampler_validates_its_arguments():
    with pytest.raises(ValueError, match="seed"):
        DesignSpaceSampler(SPACE, flops=BUDGET, seed=-1)
    with pytest.raises(ValueError, match="seed"):
        DesignSpaceSampler(SPACE, seed="abc")
    with pytest.raises(ConfigError, match="DesignSpace"):
        DesignSpaceSampler(42)
    with pytest.raises(ValueError, match="unknown space"):
        DesignSpaceSampler("resnet")
    with pytest.raises(ValueError, match="empty"):
        DesignSpaceSampler(SPACE, flops="20M:5M")
    with pytest.raises(ValueError, match="max_draws"):
        DesignSpaceSampler(SPACE, max_draws=0)
    with pytest.raises(BudgetError, match="flops seen"):
        DesignSpaceSampler(SPACE, flops="1:2", max_draws=50_000)


def test_design_sampler_leaves_extra_parameters_to_a_random_sampler():
    sampler = DesignSpaceSampler(SPACE, flops=BUDGET, seed=0)
    study = optuna.create_study(sampler=sampler)

    def fn(trial):
        suggest(trial, SPACE)
        return trial.suggest_float("lr", 1e-3, 1.0, log=True)

    study.optimize(fn, n_trials=5)
    assert len({t.params["lr"] for t in study.trials}) == 5


# ------------------------------------------------------------------------------ budgets
@pytest.mark.parametrize("sampler,n", [("design", 30), ("random", 40), ("tpe", 40),
                                       ("cmaes", 30), ("nsga2", 40), ("qmc", 30), ("gp", 12)])
def test_every_feasible_trial_of_every_sampler_is_inside_the_budget(sampler, n):
    lo, hi = 5e6, 20e6
    calls = []

    def ev(cfg, **kw):
        calls.append(cfg)
        return cheap(cfg)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        study = optuna.create_study(sampler=make_sampler(sampler, SPACE, BUDGET, seed=0))
        study.optimize(objective(SPACE, budget=BUDGET, evaluate=ev), n_trials=n)
    done = study.get_trials(states=(TrialState.COMPLETE,))
    assert len(done) == n
    feasible = [t for t in done if t.user_attrs["status"] == "ok"]
    infeasible = [t for t in done if t.user_attrs["status"] == "infeasible"]
    assert len(feasible) + len(infeasible) == n
    assert len(calls) == len(feasible)                    # infeasible ones never train
    for t in feasible:
        assert lo <= t.user_attrs["flops"] <= hi and t.user_attrs["feasible"]
        assert all(v <= 0 for v in t.constraints.values())
        assert SPACE.violations(t.user_attrs["values"]) == []
    for t in infeasible:
        assert t.value == INFEASIBLE_ERROR and any(v > 0 for v in t.constraints.values())
    if sampler == "design":
        assert not infeasible
    if feasible:
        assert study.best_trial.user_attrs["status"] == "ok"


def _second_half_feasible(sampler_name: str, seed: int, n: int = 60) -> int:
    study = optuna.create_study(sampler=make_sampler(sampler_name, SPACE, BUDGET, seed=seed,
                                                     encoding="raw"))
    study.optimize(objective(SPACE, budget=BUDGET, evaluate=cheap, encoding="raw"), n_trials=n)
    return sum(t.user_attrs["status"] == "ok" for t in study.trials[n // 2:])


def test_tpe_with_constraints_finds_more_feasible_configs_than_random_in_the_raw_box():
    tpe = sum(_second_half_feasible("tpe", s) for s in range(3))
    rnd = sum(_second_half_feasible("random", s) for s in range(3))
    # measured (optuna 5.0): tpe 11 of 90 (1 + 2 + 8), random 1 of 90; deterministic per seed
    assert tpe >= 3 * max(rnd, 1) and tpe >= rnd + 5, (tpe, rnd)


def test_seeded_samplers_are_reproducible_and_differ_between_trial_numbers():
    def params(seed):
        study = optuna.create_study(sampler=make_sampler("random", SPACE, seed=seed))
        study.optimize(objective(SPACE, budget=BUDGET, evaluate=cheap), n_trials=8)
        return [t.params for t in study.trials]

    a, b = params(3), params(3)
    assert a == b and len({str(p) for p in a}) == 8
    assert params(4) != a


def test_make_sampler_rejects_unknown_names():
    with pytest.raises(ValueError, match="choose one of"):
        make_sampler("anneal", SPACE)


# ------------------------------------------------------------------------------ objective
def test_objective_records_attributes_and_reports_the_curve():
    def ev(cfg, data=None, settings=None, on_epoch=None):
        for epoch, e in enumerate([0.6, 0.4, 0.3]):
            on_epoch(epoch, e)
        return {"status": "ok", "error": 0.3, "train_time": 1.5, "eval_error": [0.6, 0.4, 0.3]}

    study = optuna.create_study(sampler=DesignSpaceSampler(SPACE, flops=BUDGET, seed=0))
    study.optimize(objective(SPACE, budget=BUDGET, evaluate=ev), n_trials=2)
    t = study.trials[0]
    assert t.value == pytest.approx(0.30)
    assert t.intermediate_values == {0: 0.6, 1: 0.4, 2: 0.3}
    ua = t.user_attrs
    assert ua["status"] == "ok" and ua["curve"] == [0.6, 0.4, 0.3] and ua["train_time_s"] == 1.5
    assert {"values", "config", "flops", "params", "acts", "time_s"} <= set(ua)


def test_objective_failures_are_recorded_not_fatal():
    def ev(cfg, **kw):
        raise RuntimeError("CUDA out of memory")

    study = optuna.create_study(sampler=DesignSpaceSampler(SPACE, flops=BUDGET, seed=0))
    study.optimize(objective(SPACE, budget=BUDGET, evaluate=ev), n_trials=3)
    assert [t.state for t in study.trials] == [TrialState.FAIL] * 3
    assert all(t.user_attrs["status"] == "failed" for t in study.trials)
    assert "out of memory" in study.trials[0].user_attrs["message"]
    # an evaluator that reports a non-ok status is a failure too
    study.optimize(objective(SPACE, budget=BUDGET,
                             evaluate=lambda c, **k: {"status": "diverged", "error": None,
                                                      "reason": "nan loss"}), n_trials=1)
    assert study.trials[-1].user_attrs["message"] == "nan loss"
    assert study_summary(study)["failed"] == 4


def test_objective_can_be_pruned_per_epoch():
    def ev(cfg, on_epoch=None, **kw):
        for epoch in range(5):
            on_epoch(epoch, 0.9)
        return 0.9

    class Always(optuna.pruners.BasePruner):
        def prune(self, study, trial):
            return True

    study = optuna.create_study(sampler=DesignSpaceSampler(SPACE, flops=BUDGET, seed=0),
                                pruner=Always())
    study.optimize(objective(SPACE, budget=BUDGET, evaluate=ev), n_trials=2)
    assert [t.state for t in study.trials] == [TrialState.PRUNED] * 2
    assert study.trials[0].user_attrs["status"] == "pruned"
    assert study_summary(study)["pruned"] == 2


def test_structural_violations_are_infeasible_without_training():
    calls = []
    space = get_space("regnetx")           # 224 px: most raw draws are not 4-stage RegNets
    study = optuna.create_study(sampler=make_sampler("random", space, seed=0, encoding="raw"))
    study.optimize(objective(space, evaluate=lambda c, **k: calls.append(c) or 0.5,
                             encoding="raw"), n_trials=30)
    bad = [t for t in study.trials if t.constraints.get("structure", 0) > 0]
    assert bad and all(t.user_attrs["status"] == "infeasible" for t in bad)
    assert len(calls) == 30 - len(bad)


# ------------------------------------------------------------------------------ storage
@pytest.mark.parametrize("url,match", [
    ("foo://bar", "unsupported storage scheme"),
    ("bogus", "cannot read storage"),
    ("sqlite:////no/such/folder/x.db", "does not exist"),
    ("journal:/no/such/folder/x.journal", "does not exist"),
    ("", "empty"),
    ("postgresql+nodriver://u:pw@localhost/db", "unknown database kind"),
])
def test_bad_storage_urls_give_clear_errors(url, match):
    with pytest.raises(StorageError, match=match):
        open_storage(url)


def _meta(budget=BUDGET, sampler="design"):
    return study_meta(SPACE, Budget.parse(budget), sampler, 0, data={"name": "x"},
                      settings={"epochs": 1})


def test_metadata_mismatch_is_an_error_that_leaves_the_study_intact(tmp_path):
    storage = open_storage(f"sqlite:///{tmp_path / 's.db'}")
    study = open_study(storage, "s", _meta(), DesignSpaceSampler(SPACE, flops=BUDGET, seed=0))
    study.optimize(objective(SPACE, budget=BUDGET, evaluate=cheap), n_trials=3)
    with pytest.raises(StudyMismatchError, match=r"budget.flops: stored \[5000000, 20000000\]"):
        open_study(storage, "s", _meta(budget="5M:30M"))
    with pytest.raises(StudyMismatchError, match="sampler"):
        open_study(storage, "s", _meta(sampler="tpe"))
    again = open_study(storage, "s", _meta())
    assert len(again.trials) == 3
    with pytest.raises(StorageError, match="studies: s"):
        open_study(storage, "nope", None, create=False)


def test_dead_worker_trial_is_retried_and_n_is_exact(tmp_path):
    storage = open_storage(f"journal:{tmp_path / 'j.journal'}")
    study = open_study(storage, "s", _meta(), DesignSpaceSampler(SPACE, flops=BUDGET, seed=0))
    fn = objective(SPACE, budget=BUDGET, evaluate=cheap)
    study.optimize(fn, n_trials=2)
    # a trial left RUNNING by a process of this host that no longer exists
    dead = study.ask()
    suggest(dead, SPACE)
    dead.set_user_attr("worker", "ghost:999999:1")
    dead.set_user_attr("status", "running")
    import socket
    dead.set_user_attr("worker", f"{socket.gethostname()}:999999:1")
    assert recover_dead_trials(study) == 1
    assert study.trials[dead.number].state == TrialState.FAIL
    s = run_worker(study, fn, 5, progress=False)
    assert s["finished"] == 5 and s["dead"] == 1
    done = study.get_trials(states=(TrialState.COMPLETE,))
    assert len(done) == 5
    assert len({t.user_attrs["config"] for t in done}) == 5
    retried = [t for t in done if t.user_attrs.get("retry_of") == dead.number]
    assert len(retried) == 1 and retried[0].params == study.trials[dead.number].params
    # the design sampler's promise survives the retry: the first 5 samples, each once
    ref = [s.config.to_json() for s in SPACE.sample(5, seed=0, flops=BUDGET)]
    assert sorted(t.user_attrs["config"] for t in done) == sorted(ref)
    # running again does nothing: n is the study total
    assert run_worker(study, fn, 5, progress=False)["finished"] == 5
    assert len(study.trials) == 6


def test_export_has_the_population_columns(tmp_path):
    from regnet_space.analysis import table
    study = optuna.create_study(sampler=make_sampler("tpe", SPACE, seed=0))
    study.set_user_attr("regnet_space", _meta(sampler="tpe"))
    study.optimize(objective(SPACE, budget=BUDGET, evaluate=cheap), n_trials=15)
    df = export_population(study)
    assert list(df.columns[:7]) == list(table.POPULATION_COLUMNS)
    assert set(SPACE.names) <= set(df.columns)
    assert set(df["status"]) <= {"ok", "infeasible"} and len(df) == 15
    ok = df[df.status == "ok"]
    assert (ok["error"] > 0).all() and (ok["error"] <= 1).all()     # a fraction
    assert df[df.status == "infeasible"]["error"].isna().all()
    assert (df["feasible"] == (df["status"] == "ok")).all()
    assert (df["sampler"] == "tpe").all()
    back = table.read_population(table.write_population(df, tmp_path / "pop.csv"))
    assert len(back) == 15 and math.isclose(back["flops"].iloc[0], df["flops"].iloc[0])
    assert table.param_columns(back) == list(SPACE.names)
    # effective values (g = 2**g_log2), not the Optuna encoding
    assert set(np.log2(df["g"].astype(float))) <= set(range(6))
