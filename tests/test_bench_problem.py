"""The search benchmark as an optunahub problem (regnet_space.bench.problem).

Oracles: the committed population's own rows (a row's parameters are answered with the row's
error), the analytic complexity of the decoded network, optunahub's BaseProblem class.
"""

import optuna
import optunahub
import pandas as pd
import pytest

import regnet_space.bench as bench
from regnet_space.complexity import complexity
from regnet_space.errors import ConfigError
from regnet_space.search.optuna import encode_values

optuna.logging.set_verbosity(optuna.logging.WARNING)
TABLE = "results/regnetx.csv"


@pytest.fixture(scope="module")
def p():
    return bench.problem(TABLE)


def test_it_is_an_optunahub_problem_that_any_sampler_optimizes(p):
    assert isinstance(p, optunahub.benchmarks.BaseProblem)
    for sampler in (optuna.samplers.TPESampler(seed=0), optuna.samplers.RandomSampler(seed=0)):
        study = optuna.create_study(directions=p.directions, sampler=sampler)
        study.optimize(p, n_trials=20)
        assert len(study.trials) == 20
        assert all(0 < t.value < 1 for t in study.trials)


def test_a_rows_parameters_are_answered_with_the_rows_error(p):
    rows = pd.read_csv(TABLE)
    rows = rows[rows["status"] == "ok"].head(5)
    for _, row in rows.iterrows():
        values = {k: row[k] for k in ("d", "w0", "wa", "wm", "b", "g")}
        params = encode_values(p.oracle.encoding("feasible"), values)
        assert p.values(params) == pytest.approx(values)
        assert p.evaluate(params) == pytest.approx(row["error"])
    assert p.kinds["exact"] >= 5


def test_multi_objective_returns_error_and_the_decoded_networks_params():
    p = bench.problem(TABLE, objectives="error,params")
    assert len(p.directions) == 2
    study = optuna.create_study(directions=p.directions,
                                sampler=optuna.samplers.NSGAIISampler(seed=0))
    study.optimize(p, n_trials=10)
    for t in study.trials:
        cfg = p.oracle.space.decode(p.values(t.params))
        assert t.values[1] == complexity(cfg).params


def test_raw_encoding_is_the_constrained_variant():
    p = bench.problem(TABLE, encoding="raw")
    row = pd.read_csv(TABLE).iloc[0]
    values = {k: row[k] for k in ("d", "w0", "wa", "wm", "b", "g")}
    inside = encode_values(p.oracle.encoding("raw"), values)
    assert p.evaluate_constraints(inside) == {"infeasible": 0.0}
    outside = {**inside, "d": 60}  # a 60-block network is far above 5 MFLOPs
    assert p.evaluate_constraints(outside) == {"infeasible": 1.0}
    assert p.evaluate(outside) == pytest.approx(p.oracle.penalty)
    study = optuna.create_study(directions=p.directions)
    study.optimize(p, n_trials=3)  # the constraint is recorded on every trial
    assert all(set(t.constraints) == {"infeasible"} for t in study.trials)


@pytest.mark.parametrize("bad", ["params", "error,error", "error,latency", ""])
def test_bad_objectives_are_a_clear_error(bad):
    with pytest.raises(ConfigError, match="objectives must be error"):
        bench.problem(TABLE, objectives=bad)


def test_the_readme_block_runs_as_written(monkeypatch):
    import re
    from pathlib import Path

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    section = readme.split("## Benchmark search algorithms", 1)[1].split("\n## ", 1)[0]
    (block,) = re.findall(r"```python\n(.*?)```", section, re.S)
    monkeypatch.chdir(Path(__file__).resolve().parent.parent)
    scope: dict = {}
    exec(compile(block, "README.md", "exec"), scope)
    assert isinstance(scope["p"], optunahub.benchmarks.BaseProblem)


def test_a_noisy_problem_answers_around_the_truth_it_reports():
    """noise="seed": the answers scatter around problem.truth(params) with the measured seed sd
    of one run (the published 0.0075 for RegNetX single-run tables); noise="none" is the truth."""
    import numpy as np
    import optuna

    from regnet_space.bench import problem

    p = problem("results/regnetx.csv", noise="seed", seed=3)
    params = optuna.create_study(directions=p.directions).ask(p.search_space).params
    answers = np.array([p.evaluate(params) for _ in range(2000)])
    truth = p.truth(params)
    assert problem("results/regnetx.csv").evaluate(params) == truth
    assert abs(answers.mean() - truth) < 4 * 0.0075 / np.sqrt(2000)
    assert answers.std() == pytest.approx(0.0075, rel=0.08)
    again = problem("results/regnetx.csv", noise="seed", seed=3)
    assert again.evaluate(params) == answers[0]  # reproducible per seed
