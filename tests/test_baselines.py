"""The NAS baselines in the searcher registry: regularized evolution (re), local search (ls),
Hyperband (random + Optuna's HyperbandPruner) and BOHB (TPE + HyperbandPruner).

Oracles: the algorithms' definitions checked trial by trial against the study's own history
(one coordinate changed, the parent drawn from the last P finished trials, a neighbour of the
walk's incumbent), hand-known optima of small integer problems, and Optuna's own pruner class.
"""

import math

import optuna
import pytest

from regnet_space.errors import ConfigError
from regnet_space.search.optuna import make_sampler
from regnet_space.search.optuna.neighbours import (WALK_START, LocalSearchSampler,
                                                    RegularizedEvolutionSampler, neighbours)
from regnet_space.search.registry import get_searcher, make_pruner
from regnet_space.spaces import get_space

optuna.logging.set_verbosity(optuna.logging.WARNING)


def bowl(t):
    """Integer bowl with its unique minimum 0 at (13, 4, 'b')."""
    x, y = t.suggest_int("x", 0, 20), t.suggest_int("y", 0, 20)
    c = t.suggest_categorical("c", ["a", "b", "c"])
    return (x - 13) ** 2 + (y - 4) ** 2 + (0 if c == "b" else 5)


def changed(a: dict, b: dict) -> list:
    return [k for k in a if a[k] != b[k]]


def test_regularized_evolution_mutates_one_coordinate_of_a_recent_tournament_winner():
    P, S = 10, 4
    study = optuna.create_study(sampler=RegularizedEvolutionSampler(P, S, seed=0))
    study.optimize(bowl, n_trials=120)
    trials = study.trials
    children = [t for t in trials if "re:parent" in t.system_attrs]
    assert len(children) == 120 - P  # the first P are the random population
    for child in children:
        parent = trials[child.system_attrs["re:parent"]]
        assert len(changed(parent.params, child.params)) == 1
        finished_before = [t for t in trials[:child.number] if t.state.is_finished()]
        assert parent in finished_before[-P:]  # aging: only the last P finished are parents
    # selection pressure: the children are better than the random population they came from
    values = [t.value for t in trials]
    assert sorted(values[-30:])[15] < sorted(values[:P])[P // 2]
    assert study.best_value <= 2


def test_regularized_evolution_validates_its_settings():
    with pytest.raises(ConfigError, match="sample_size"):
        RegularizedEvolutionSampler(population_size=3, sample_size=5)
    with pytest.raises(ConfigError, match="population_size"):
        RegularizedEvolutionSampler(population_size=0)


def test_local_search_steps_to_an_untried_neighbour_of_the_walks_incumbent():
    study = optuna.create_study(sampler=LocalSearchSampler(seed=0))
    study.optimize(bowl, n_trials=80)
    trials = study.trials
    dists = trials[0].distributions
    walk_start = 0
    for t in trials[1:]:
        if t.system_attrs.get(WALK_START):
            walk_start = t.number
            continue
        walk = [u for u in trials[walk_start:t.number]]
        inc = min(walk, key=lambda u: (u.value, u.number))
        (k,) = changed(inc.params, t.params)
        assert t.params[k] in neighbours(dists[k], inc.params[k])
        if k in ("x", "y"):  # by hand: one grid step of an int coordinate
            assert abs(t.params[k] - inc.params[k]) == 1
        assert t.params not in [u.params for u in trials[:t.number]]  # never repeats a point
    assert study.best_value == 0
    assert study.best_params == {"x": 13, "y": 4, "c": "b"}


def test_local_search_restarts_only_at_a_local_optimum():
    # f has a local optimum at k = 2 (neighbours 1 and 3 are worse) and the global one at 9
    f = {0: 5, 1: 3, 2: 1, 3: 4, 4: 6, 5: 5, 6: 4, 7: 3, 8: 2, 9: 0, 10: 2}
    study = optuna.create_study(sampler=LocalSearchSampler(seed=3))
    study.enqueue_trial({"k": 1})  # the first walk starts at 1, so it gets stuck at 2
    study.optimize(lambda t: f[t.suggest_int("k", 0, 10)], n_trials=40)
    starts = [t.number for t in study.trials if t.system_attrs.get(WALK_START)]
    first_walk = {t.params["k"]: t.value for t in study.trials[:starts[0]]}
    # the walk from 1 climbs to 2 and restarts only once 2's neighbours 1 and 3 are tried
    assert min(first_walk, key=first_walk.get) == 2 and {1, 2, 3} <= set(first_walk) <= {0, 1, 2, 3}
    assert study.best_value == 0


def test_both_samplers_keep_their_state_in_the_study_so_a_resume_continues(tmp_path):
    storage = f"sqlite:///{tmp_path / 's.db'}"
    for cls in (LocalSearchSampler, lambda seed: RegularizedEvolutionSampler(8, 3, seed=seed)):
        name = f"s{id(cls)}"
        for part in range(3):  # three processes' worth of trials, each a new sampler
            study = optuna.create_study(storage=storage, study_name=name, load_if_exists=True,
                                        sampler=cls(seed=part))
            study.optimize(bowl, n_trials=40)
        assert len(study.trials) == 120 and study.best_value == 0


def test_registry_entries_make_the_samplers_and_pruners():
    space = get_space("regnetx", resolution=28, in_channels=1, num_classes=10)
    assert get_searcher("regularized-evolution").name == "re"
    assert get_searcher("local-search").name == "ls"
    for name, sampler in (("re", "RegularizedEvolutionSampler"), ("ls", "LocalSearchSampler"),
                          ("hyperband", "RandomSampler"), ("bohb", "TPESampler")):
        s = make_sampler(name, space, "2M:5M", seed=0, per_trial_seed=False)
        assert type(s).__name__ == sampler
    assert isinstance(make_pruner("hyperband"), optuna.pruners.HyperbandPruner)
    assert isinstance(make_pruner("bohb"), optuna.pruners.HyperbandPruner)
    assert isinstance(make_pruner("tpe"), optuna.pruners.NopPruner)


@pytest.mark.parametrize("name", ["re", "ls"])
def test_baselines_search_a_design_space_inside_the_budget(name):
    from regnet_space.search.optuna import objective

    space = get_space("anynetx_a", resolution=28, in_channels=1, num_classes=10)
    study = optuna.create_study(sampler=make_sampler(name, space, "2M:5M", seed=0, n_trials=24))
    # a cheap stand-in for training: error falls with depth and flops (mechanics only)
    fake = lambda cfg, **kw: 0.3 - 0.001 * sum(cfg.depths)  # noqa: E731
    study.optimize(objective(space, budget="2M:5M", evaluate=fake), n_trials=24)
    assert {t.user_attrs["status"] for t in study.trials} == {"ok"}
    for t in study.trials:
        assert 2e6 <= t.user_attrs["flops"] <= 5e6 and not math.isnan(t.value)
    if name == "re":  # after the random population, children of earlier trials
        children = [t for t in study.trials if "re:parent" in t.system_attrs]
        assert len(children) == 24 - 6
        for c in children:
            assert len(changed(study.trials[c.system_attrs["re:parent"]].params, c.params)) == 1


@pytest.mark.parametrize("sampler", ["bohb", "re"])
def test_sweep_runs_the_baselines_with_their_pruner(sampler, tmp_path, monkeypatch, capsys):
    """`sweep --sampler bohb` trains with Optuna's HyperbandPruner over the recipe's epochs and
    reports every epoch's validation error; `re` runs without a pruner."""
    import regnet_space.search.optuna as so
    from regnet_space.cli import main

    seen = {}
    real = so.open_study

    def spy(storage, name, meta, sampler_obj, *, pruner=None, **kw):
        seen["pruner"], seen["sampler"] = pruner, sampler_obj
        return real(storage, name, meta, sampler_obj, pruner=pruner, **kw)

    monkeypatch.setattr(so, "open_study", spy)
    url = f"sqlite:///{tmp_path / 's.db'}"
    rc = main(["sweep", "--space", "anynetx_a", "--flops", "2M:5M", "--trials", "6",
               "--sampler", sampler, "--storage", url, "--study", "b", "--data", "synthetic",
               "--train-size", "64", "--val-size", "32", "--test-size", "32", "--epochs", "3",
               "--threads", "1", "--no-progress"])
    assert rc == 0, capsys.readouterr().err
    if sampler == "bohb":
        assert isinstance(seen["pruner"], optuna.pruners.HyperbandPruner)
        assert seen["pruner"]._max_resource == 3  # the recipe's epochs
    else:
        assert isinstance(seen["pruner"], optuna.pruners.NopPruner)
    study = optuna.load_study(study_name="b", storage=url)
    done = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    assert done and all(len(t.intermediate_values) == 3 for t in done)
    assert all(t.value == t.user_attrs["eval"]["val_error"] for t in done)


def test_bench_search_runs_re_ls_and_hyperband_and_refuses_pruning_without_curves(tmp_path, capsys):
    from regnet_space.cli import main

    rc = main(["bench-search", "results/anynetx_a.csv", "--sampler", "re,ls", "--seeds", "2",
               "--trials", "20", "--out", str(tmp_path / "b")])
    err = capsys.readouterr().err
    assert rc == 0, err
    import pandas as pd
    summary = pd.read_csv(tmp_path / "b" / "summary.csv")
    assert set(summary["algo"]) == {"re", "ls"}
    # the population has no curves of its own: it borrows the default recipe's measured ones
    rc = main(["bench-search", "results/anynetx_a.csv", "--sampler", "hyperband", "--seeds", "1",
               "--trials", "12", "--out", str(tmp_path / "hb")])
    err = capsys.readouterr().err
    assert rc == 0, err
    traces = pd.read_csv(tmp_path / "hb" / "traces.csv")
    assert (~traces["complete"]).any()  # it pruned
    # a table whose recipe is unknown (no epochs column) has no curves to prune on
    pd.read_csv("results/anynetx_a.csv").drop(columns=["epochs"]).to_csv(tmp_path / "p.csv",
                                                                         index=False)
    for name in ("hyperband", "bohb"):
        rc = main(["bench-search", str(tmp_path / "p.csv"), "--sampler", name, "--out",
                   str(tmp_path / name)])
        err = capsys.readouterr().err
        assert rc == 2 and "per-epoch curves" in err and len(err.strip().splitlines()) == 1
        assert not (tmp_path / name).exists()
