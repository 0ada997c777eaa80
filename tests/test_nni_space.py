"""NNI layer, fast part: search-space JSON, decoding, the design-space tuner, config writing,
sqlite export (on a hand-made database with NNI's schema) and nni-config's input checks."""

from __future__ import annotations

import json
import sqlite3
import sys
from pathlib import Path

import numpy as np
import pytest

import nni

from regnet_space.budget import Budget  # noqa: E402
from regnet_space.config import NetConfig  # noqa: E402
from regnet_space.search import INFEASIBLE_ERROR  # noqa: E402
from regnet_space.search.nni import (  # noqa: E402
    ExperimentSpec, decode_parameters, experiment_config, export_population,
    read_experiment, search_space, write_experiment)
from regnet_space.spaces import get_space, space_names  # noqa: E402


def nni_draws(ss: dict, n: int, seed: int = 0) -> list[dict]:
    """n suggestions of NNI's own Random tuner (its formatting/deformatting code) on ``ss``."""
    from nni.algorithms.hpo.random_tuner import RandomTuner

    t = RandomTuner(seed=seed)
    t.update_search_space(ss)
    return [t.generate_parameters(i) for i in range(n)]


@pytest.mark.parametrize("name", space_names())
@pytest.mark.parametrize("encoding", ["raw", "feasible"])
def test_search_space_is_generated_from_the_encoding(name, encoding):
    from regnet_space.spaces.encoding import get_encoding

    space = get_space(name, resolution=28, in_channels=1, num_classes=10)
    enc = get_encoding(space, "2M:20M", encoding)
    ss = search_space(space, "2M:20M", encoding)
    assert list(ss) == list(enc.names)
    json.dumps(ss)  # plain JSON
    for c in enc.coords:
        spec = ss[c.name]
        if c.type == "categorical":
            assert spec == {"_type": "choice", "_value": list(c.choices)}
        else:
            assert spec["_type"] in ("quniform", "qloguniform", "uniform", "loguniform")
            assert spec["_value"][:2] == [c.low, c.high]
            assert spec["_type"].endswith("loguniform") == c.log
    if encoding == "raw":
        assert [c.name.split("_")[0] for c in enc.coords] == list(space.names)


@pytest.mark.parametrize("name", ["regnetx", "regnetx_constrained", "anynetx_a", "anynetx_e"])
def test_nni_suggestions_decode_onto_the_grid_and_inside_the_budget(name):
    # NNI's q(log)uniform: clip(round(x / q) * q) -> on the grid up to float noise.
    space = get_space(name, resolution=28, in_channels=1, num_classes=10)
    raw_ok = 0
    for params in nni_draws(search_space(space, "2M:5M", "raw"), 200):
        got = decode_parameters(space, params, "2M:5M", "raw")
        assert got.moved == () and space.check_values(got.values) == got.values
        raw_ok += space.check(got.values, "2M:5M").feasible
    feasible_ok = 0
    for params in nni_draws(search_space(space, "2M:5M"), 200):
        got = decode_parameters(space, params, "2M:5M")
        assert space.check_values(got.values) == got.values
        feasible_ok += space.check(got.values, "2M:5M").feasible
    assert feasible_ok >= 198 and feasible_ok > raw_ok


def test_decode_parameters_snaps_and_rejects():
    space = get_space("regnetx")
    # a whole configuration (what the design-space tuner sends) is snapped onto the grid
    got = decode_parameters(space, dict(d=13.4, w0=25, wa=36.44, wm=2.49, b=1, g=np.int64(8)))
    assert got.values == dict(d=13, w0=24, wa=36.4, wm=2.49, b=1, g=8)
    assert sorted(got.moved) == ["d", "w0", "wa"]
    assert all(type(v) in (int, float) for v in got.values.values())
    # coordinates of the raw encoding
    got = decode_parameters(space, dict(d=13.0, w0=24.0, wa=36.400000000000006, wm=2.49,
                                        b_index=0, g_log2=3.0), encoding="raw")
    assert got.values == dict(d=13, w0=24, wa=36.4, wm=2.49, b=1, g=8) and got.moved == ()
    with pytest.raises(ValueError, match="missing"):
        decode_parameters(space, dict(d=13))
    with pytest.raises(ValueError, match="not a number"):
        decode_parameters(space, dict(d="x", w0=24, wa=36.4, wm=2.49, b=1, g=8))


def test_design_tuner_is_the_seeded_budget_stream():
    from regnet_space.search.nni.tuner import DesignSpaceTuner

    kw = dict(flops=[None, 20_000_000], resolution=28, in_channels=1, num_classes=10, seed=7)
    t = DesignSpaceTuner("regnetx", **kw)
    t.update_search_space(search_space("regnetx"))
    got = [t.generate_parameters(i) for i in range(70)]  # crosses the first refill (64)
    space = get_space("regnetx", resolution=28, in_channels=1, num_classes=10)
    ref = space.sample_arrays(70, seed=7, flops=":20M")
    for i, g in enumerate(got):
        assert g == {p.name: p.cast(ref.values[p.name][i]) for p in space.params}
        assert all(type(v) in (int, float) for v in g.values())
        assert space.violations(g) == []
        assert ref.flops[i] <= 20_000_000
    # order- and concurrency-independent: a fresh tuner asked for id 5 first gives the same.
    t2 = DesignSpaceTuner("regnetx", **kw)
    assert t2.generate_multiple_parameters([5, 2]) == [got[5], got[2]]
    t2.receive_trial_result(5, got[5], {"default": 12.0})
    assert t2.results == {5: {"default": 12.0}}


def test_design_tuner_impossible_budget_fails_at_construction():
    from regnet_space.search.nni.tuner import DesignSpaceTuner
    from regnet_space.spaces import BudgetError

    with pytest.raises(BudgetError):
        DesignSpaceTuner("regnetx", flops=[1, 10], max_draws=20_000)


def _spec(tmp_path, tuner="TPE", **kw):
    space = get_space("regnetx", resolution=28, in_channels=1, num_classes=10)
    return ExperimentSpec(space=space, budget=Budget.parse(flops=":20M"), tuner=tuner, trials=4,
                          concurrency=2, trial_args=["--data", "fashion-mnist", "--epochs", "1"],
                          experiment_dir=str(tmp_path / "exps"), **kw)


@pytest.mark.parametrize("tuner", ["TPE", "Random", "Evolution", "design"])
def test_config_is_accepted_by_nni(tmp_path, tuner):
    import yaml
    from nni.experiment.config import ExperimentConfig

    paths = write_experiment(_spec(tmp_path, tuner), tmp_path / "exp")
    raw = yaml.safe_load(paths["config"].read_text())
    assert json.loads(paths["search_space"].read_text()) == search_space("regnetx")
    cmd = raw["trialCommand"]
    assert cmd.startswith(sys.executable) and "-m regnet_space.search.nni.trial --space regnetx" in cmd
    assert "--flops :20000000" in cmd and "--space-input 28,1,10" in cmd and "--epochs 1" in cmd
    assert raw["trainingService"] == {"platform": "local", "useActiveGpu": False}
    assert raw["trialConcurrency"] == 2 and raw["maxTrialNumber"] == 4
    if tuner == "design":
        assert raw["tuner"]["className"] == "regnet_space.search.nni.tuner.DesignSpaceTuner"
        assert Path(raw["tuner"]["codeDirectory"], "regnet_space", "search", "nni",
                    "tuner.py").is_file()
        assert raw["tuner"]["classArgs"]["flops"] == [None, 20_000_000]
    else:   # NNI's built-in class, through the subclass that survives nni#5798
        assert raw["tuner"]["className"] == f"regnet_space.search.nni.tuner.Tolerant{ {'TPE': 'Tpe'}.get(tuner, tuner)}Tuner"
    if tuner in ("TPE", "Evolution"):
        assert raw["tuner"]["classArgs"]["optimize_mode"] == "minimize"
    if tuner == "Evolution":
        assert raw["tuner"]["classArgs"]["population_size"] >= 4
    # NNI's own schema: canonicalises the paths, loads the search space file, validates.
    cfg = ExperimentConfig(**raw)
    cfg.validate()
    assert cfg.experiment_working_directory == str((tmp_path / "exps").resolve())


def test_config_rejects_bad_tuner_and_counts(tmp_path):
    with pytest.raises(ValueError, match="unknown tuner"):
        write_experiment(_spec(tmp_path, "Anneal"), tmp_path / "a")
    spec = _spec(tmp_path)
    spec.trials = 0
    with pytest.raises(ValueError, match="trials"):
        experiment_config(spec, tmp_path)
    assert not (tmp_path / "a").exists()


# ------------------------------------------------------------------------------- export
def make_db(path: Path, rows: list[tuple[int, str, dict, object]], *, concurrency_bug: bool = True,
            tuner=None, trial_command=None) -> Path:
    """A database with NNI 3.0's schema. rows: (parameter_id, job id, parameters, final or None).
    With ``concurrency_bug`` the TrialJobEvent rows pair jobs with the wrong parameters, as NNI
    does under concurrency (nni#5726); metrics carry the right parameter id."""
    path.parent.mkdir(parents=True, exist_ok=True)
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE TrialJobEvent (timestamp integer, trialJobId text, event text, "
                "data text, logPath text, sequenceId integer, message text, environmentId text)")
    con.execute("CREATE TABLE MetricData (timestamp integer, trialJobId text, parameterId text, "
                "type text, sequence integer, data text)")
    con.execute("CREATE TABLE ExperimentProfile (params text, id text, execDuration integer, "
                "startTime integer, endTime integer, logDir text, nextSequenceId integer, "
                "revision integer)")
    cmd = trial_command or (f"{sys.executable} -m regnet_space.search.nni.trial --space regnetx "
                            "--flops :20000000 --space-input 28,1,10 --data fashion-mnist")
    prof = {"experimentName": "t", "trialCommand": cmd, "tuner": tuner or {"name": "TPE"}}
    con.execute("INSERT INTO ExperimentProfile VALUES (?, 'exp1', 0, 0, NULL, '', 0, 1)",
                (json.dumps(prof),))
    jobs = [r[1] for r in rows]
    shifted = jobs[1:] + jobs[:1] if concurrency_bug else jobs
    t = 0
    for (pid, _job, params, _final), wrong_job in zip(rows, shifted):
        t += 1
        data = {"parameter_id": pid, "parameter_source": "algorithm", "parameters": params,
                "parameter_index": 0}
        con.execute("INSERT INTO TrialJobEvent VALUES (?, ?, 'RUNNING', ?, '', ?, NULL, 'l')",
                    (t, wrong_job, json.dumps(data), pid))
    for pid, job, params, final in rows:
        t += 1
        if final is not None:
            con.execute("INSERT INTO MetricData VALUES (?, ?, ?, 'FINAL', 0, ?)",
                        (t, job, str(pid), json.dumps(json.dumps(final))))
        con.execute("INSERT INTO TrialJobEvent VALUES (?, ?, ?, NULL, '', 0, NULL, 'l')",
                    (t, job, "SUCCEEDED" if final is not None else "FAILED"))
    con.commit()
    con.close()
    return path


def fake_final(space, params, error, feasible=True):
    values = decode_parameters(space, params).values
    cfg = space.decode(values)
    from regnet_space.complexity import complexity

    cx = complexity(cfg)
    return {"default": error if feasible else INFEASIBLE_ERROR, "error": error if feasible else None,
            "status": "ok" if feasible else "infeasible", "feasible": feasible, "space": space.name,
            "parameters": values, "config": cfg.to_dict(), "flops": cx.flops, "params": cx.params,
            "acts": cx.acts, "train_time": 1.5, "images_per_s": 200.0, "epochs": 1, "seed": 0,
            "dataset": "fashion-mnist"}


def test_export_joins_by_parameter_id_despite_nni_pairing(tmp_path):
    from regnet_space.analysis.table import read_population, write_population

    space = get_space("regnetx", resolution=28, in_channels=1, num_classes=10)
    samples = space.sample(3, seed=0, flops=":20M")
    p = [dict(s.values) for s in samples]
    rows = [(0, "jobA", p[0], fake_final(space, p[0], 0.30)),
            (1, "jobB", p[1], fake_final(space, p[1], 40.0, feasible=False)),
            (2, "jobC", p[2], None)]
    db = make_db(tmp_path / "exps" / "exp1" / "db" / "nni.sqlite", rows)
    profile, recs = read_experiment(db)
    assert [r.trial for r in recs[:2]] == ["jobA", "jobB"]  # the metric's job, not NNI's pairing
    df = export_population("exp1", tmp_path / "exps")
    assert df["parameter_id"].tolist() == [0, 1, 2]
    assert df["status"].tolist() == ["ok", "infeasible", "failed"]
    assert df["error"].iloc[0] == 0.30 and np.isnan(df["error"].iloc[1])
    assert df["consistent"].iloc[:2].tolist() == [True, True]
    for i in range(3):
        for name in space.names:
            assert df[name].iloc[i] == p[i][name]
        assert NetConfig.from_json(df["config"].iloc[i]) == samples[i].config
        assert df["flops"].iloc[i] == samples[i].flops
    assert set(df["sampler"]) == {"TPE"} and set(df["source"]) == {"nni"} and set(df["study"]) == {"exp1"}
    out = write_population(df, tmp_path / "pop.csv")
    back = read_population(out)
    assert len(back) == 3 and list(back.columns[:7]) == ["space", "config", "flops", "params",
                                                         "acts", "error", "status"]


def test_export_flags_an_echo_that_disagrees(tmp_path):
    space = get_space("regnetx", resolution=28, in_channels=1, num_classes=10)
    p = [dict(s.values) for s in space.sample(2, seed=1, flops=":20M")]
    rows = [(0, "a", p[0], fake_final(space, p[1], 0.30)), (1, "b", p[1], fake_final(space, p[1], 0.31))]
    db = make_db(tmp_path / "x" / "db" / "nni.sqlite", rows,
                 tuner={"className": "regnet_space.search.nni.tuner.DesignSpaceTuner", "codeDirectory": "."})
    df = export_population("whatever", db_path=db)
    assert df["consistent"].tolist() == [False, True]
    assert "differs" in df["message"].iloc[0]
    assert set(df["sampler"]) == {"design"}


def test_export_missing_db_says_where(tmp_path):
    with pytest.raises(FileNotFoundError, match="experiment-dir"):
        export_population("nope", tmp_path)


def test_export_refuses_foreign_experiment(tmp_path):
    db = make_db(tmp_path / "db" / "nni.sqlite", [], trial_command="python train.py")
    with pytest.raises(ValueError, match="not created by"):
        export_population("e", db_path=db)


def test_tolerant_tpe_survives_a_duplicate_final_result():
    """nni#5798: the dispatcher may deliver one parameter id's final result twice; NNI's own TPE
    raises KeyError (and the dispatcher dies), ours logs and ignores the duplicate."""
    from nni.algorithms.hpo.tpe_tuner import TpeTuner

    from regnet_space.search.nni import search_space
    from regnet_space.search.nni.tuner import TolerantTpeTuner

    ss = search_space(get_space("regnetx", resolution=28, in_channels=1, num_classes=10))
    for cls, raises in ((TpeTuner, True), (TolerantTpeTuner, False)):
        tuner = cls(optimize_mode="minimize", seed=0)
        tuner.update_search_space(ss)
        params = tuner.generate_parameters(0)
        tuner.receive_trial_result(0, params, 0.5)
        if raises:
            with pytest.raises(KeyError):
                tuner.receive_trial_result(0, params, 0.5)
        else:
            tuner.receive_trial_result(0, params, 0.5)
            assert isinstance(tuner.generate_parameters(1), dict)   # still working
