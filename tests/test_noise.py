"""Seed noise: K seeds per model (--seeds), the validation split as default, the noise floor
every single-model figure carries, the instruction-set provenance, and the committed noise
study (results/noise.csv) recomputed from its rows.

The oracles are independent of the code under test: K separate ``evaluate`` calls for the
K-seed mean, hand-computed pooled variances, numpy's sd, the committed CSV read with the csv
module.
"""

import csv
import json
import math
from pathlib import Path

import numpy as np
import optuna
import pandas as pd
import pytest

from regnet_space.analysis.noise import (FALLBACK_SD, MEASURED, MEASURED_FROM, NoiseFloor, inside,
                                         noise_floor, tied_with_best)
from regnet_space.cli import main
from regnet_space.config import NetConfig
from regnet_space.training import EvalResult, TrainSettings, evaluate, preset_data
from regnet_space.training.data import load_data
from regnet_space.training.provenance import onednn_isa
from regnet_space.training.seeds import averaged_R, combine

ROOT = Path(__file__).resolve().parent.parent
FAST = dict(threads=1, progress=False)


def tiny():
    return NetConfig.from_lists([1, 1], [16, 32], gs=8, stem="small", stem_w=16, resolution=28,
                                in_channels=1, num_classes=10)


@pytest.fixture(scope="module")
def synth_val():
    return load_data("synthetic", train_size=256, val_size=64, test_size=128, seed=0)


def test_k_seeds_are_the_mean_and_sd_of_k_separate_runs(synth_val):
    runs = [evaluate(tiny(), synth_val, epochs=1, seed=s, **FAST) for s in (3, 4, 5)]
    got = evaluate(tiny(), synth_val, epochs=1, seed=3, seeds=3, **FAST)
    errs = [r.error for r in runs]
    tests = [r.test_error for r in runs]
    assert got.status == "ok" and got.seeds == 3 and got.eval_split == "val"
    assert got.seed_errors == errs and got.seed_test_errors == tests
    assert got.error == pytest.approx(np.mean(errs))
    assert got.error_sd == pytest.approx(np.std(errs, ddof=1))
    assert got.test_error == pytest.approx(np.mean(tests))
    assert got.test_error_sd == pytest.approx(np.std(tests, ddof=1))
    assert got.train_time == pytest.approx(sum(r.train_time for r in runs), rel=0.5)
    assert got.settings["seeds"] == 3 and got.settings["seed"] == 3
    assert "+-" in got.summary() and "3 seeds" in got.summary()


def test_k_seeds_hand_the_first_seeds_epochs_to_on_epoch(synth_val):
    seen = []
    evaluate(tiny(), synth_val, epochs=2, seeds=2, on_epoch=lambda e, err, r: seen.append(e),
             **FAST)
    assert seen == [0, 1]  # the first seed's two epochs only: what a pruner acts on


def test_a_seed_that_diverges_ends_the_model_with_that_status(synth_val):
    ok = EvalResult("ok", error=0.2, seed=0)
    bad = EvalResult("diverged", seed=1, reason="training loss nan")
    r = combine([ok, bad])
    assert (r.status, r.error, r.seeds) == ("diverged", None, 2)
    assert r.reason == "seed 1: training loss nan"


def test_seeds_setting_is_validated_and_described():
    with pytest.raises(Exception, match="seeds must be an integer"):
        TrainSettings(seeds=0)
    with pytest.raises(Exception, match="seeds must be an integer in"):
        TrainSettings(seeds=65)
    assert "mean of 3 seeds" in TrainSettings(seeds=3).describe()
    assert "seeds" not in TrainSettings().describe()
    assert averaged_R(0.32, 3) == pytest.approx(3 * 0.32 / (1 + 2 * 0.32))


def test_brief_and_reference_rank_on_a_validation_split_and_test_once():
    for preset in ("brief", "reference"):
        d = preset_data(preset)
        assert d["val_size"] == 5000 and d["test_size"] is None
    assert preset_data("paper")["val_size"] is None


def test_validation_split_is_disjoint_from_every_training_subset():
    # the same validation images whatever the training subset's size, none of them trained on
    a = load_data("fashion-mnist", train_size=2000, val_size=500, test_size=20, seed=0)
    b = load_data("fashion-mnist", train_size=6000, val_size=500, test_size=20, seed=0)
    key = lambda s: {bytes(x.numpy().tobytes()) for x in s.x}  # noqa: E731
    assert key(a.val) == key(b.val)
    assert not key(a.val) & key(a.train) and not key(b.val) & key(b.train)


def test_cli_train_json_names_the_instruction_sets_and_k_seeds(capsys):
    code = main(["train", "RegNetX-200MF", "--data", "synthetic", "--train-size", "128",
                 "--val-size", "32", "--test-size", "64", "--epochs", "1", "--seeds", "2",
                 "--threads", "1", "--json"])
    d = json.loads(capsys.readouterr().out)
    assert code == 0 and d["seeds"] == 2 and len(d["seed_errors"]) == 2
    assert d["error_sd"] == pytest.approx(np.std(d["seed_errors"], ddof=1))
    assert d["cpu_capability"] and d["onednn_isa"]
    assert d["eval_split"] == "val" and d["test_error"] is not None


@pytest.mark.parametrize("flags, cap, want", [
    ({"avx", "avx2"}, None, "avx2"), ({"avx", "avx2"}, "ALL", "avx2"),
    ({"avx", "avx2", "avx512f", "avx512bw", "avx512vl", "avx512dq", "avx512_vnni"}, None,
     "avx512_core_vnni"),
    ({"avx", "avx2", "avx512f", "avx512bw", "avx512vl", "avx512dq", "avx512_vnni"}, "avx2",
     "avx2"),
    ({"avx", "avx2"}, "AVX512_CORE", "avx2"),  # a cap above what the CPU has changes nothing
    (set(), None, None)])
def test_onednn_isa_is_the_cpus_best_capped_by_the_environment(flags, cap, want, monkeypatch):
    monkeypatch.delenv("ONEDNN_MAX_CPU_ISA", raising=False)
    monkeypatch.delenv("DNNL_MAX_CPU_ISA", raising=False)
    assert onednn_isa(frozenset(flags), cap) == want


def test_onednn_isa_reads_the_environment(monkeypatch):
    monkeypatch.setenv("ONEDNN_MAX_CPU_ISA", "AVX")
    assert onednn_isa(frozenset({"avx", "avx2"})) == "avx"


# ----------------------------------------------------------------------------- noise floor
def test_noise_floor_pools_the_tables_seed_sds_by_their_degrees_of_freedom():
    df = pd.DataFrame({"space": "regnetx", "status": ["ok", "ok", "ok", "failed"],
                       "error": [0.2, 0.21, 0.22, np.nan], "error_sd": [0.01, 0.02, 0.0, 0.5],
                       "seeds": [2, 3, 3, 3]})
    f = noise_floor(df)
    # hand: (1 x 0.01^2 + 2 x 0.02^2 + 2 x 0) / 5; the failed row is not counted
    assert f.seed_sd == pytest.approx(math.sqrt((0.0001 + 2 * 0.0004) / 5))
    assert f.seeds == 3 and f.sd == pytest.approx(f.seed_sd / math.sqrt(3))


def test_noise_floor_falls_back_to_the_given_then_the_measured_sd():
    df = pd.DataFrame({"space": "regnetx", "status": "ok", "error": [0.2, 0.3]})
    assert noise_floor(df, 0.01) == NoiseFloor(0.01, 1, "given (--seed-sd)")
    f = noise_floor(df)  # no val_error column: a table ranked on test (before the val split)
    assert f.seeds == 1 and f.seed_sd == MEASURED[("test", "regnetx")][0]
    assert "noise_cpu.csv" in f.source
    g = noise_floor(df.assign(val_error=[0.21, 0.31]))
    assert g.seed_sd == MEASURED.get(("val", "regnetx"), (FALLBACK_SD,))[0]
    assert noise_floor(df.assign(space="anynetx_b")).seed_sd == FALLBACK_SD
    with pytest.raises(ValueError, match="seed_sd"):
        noise_floor(df, 1.5)


def test_tied_with_best_and_inside_against_hand_values():
    sd = 0.005  # 1.96 x sqrt(2) x 0.005 = 0.01386
    assert tied_with_best([0.200, 0.2138, 0.2140, 0.3, np.nan], sd) == 2
    assert inside(0.0138, sd) and not inside(-0.0139, sd)


@pytest.mark.parametrize("form", ["val", "test"])
def test_measured_noise_recomputes_from_the_committed_study(form):
    """MEASURED (what every report prints for a table with one seed per model) is the pooled
    within-model sd of the committed default-recipe runs' test errors, recomputed here with the
    csv module and numpy."""
    path, recipe, first = MEASURED_FROM[form]
    entries = {sp: v for (f, sp), v in MEASURED.items() if f == form}
    if not entries:
        pytest.fail(f"analysis.noise.MEASURED has no {form!r} entries: fill them from {path}")
    with open(ROOT / path, newline="") as f:
        rows = [r for r in list(csv.DictReader(f))[:first]
                if r["recipe"] == recipe and r["status"] == "ok"]
    for space, (sd, models, runs) in entries.items():
        by: dict[str, list[float]] = {}
        for r in rows:
            if r["space"] == space:
                by.setdefault(r["model"], []).append(float(r["test_error"] or r["error"]))
        groups = [np.array(v) for v in by.values() if len(v) >= 2]
        ss = sum(float(((g - g.mean()) ** 2).sum()) for g in groups)
        dof = sum(len(g) - 1 for g in groups)
        assert (len(groups), sum(map(len, groups))) == (models, runs), space
        assert sd == pytest.approx(math.sqrt(ss / dof), abs=5e-5), space


# ----------------------------------------------------------------------------- exports
def _study_with_val_and_seeds():
    study = optuna.create_study()
    for i, (val, test) in enumerate([(0.21, 0.205), (0.23, 0.226)]):
        t = study.ask()
        t.set_user_attr("status", "ok")
        t.set_user_attr("curve", [0.5, val])
        t.set_user_attr("eval", {"eval_split": "val", "test_error": test, "val_error": val,
                                 "seeds": 2, "test_error_sd": 0.004 + i / 1000,
                                 "val_error_sd": 0.006, "train_loss": [1.2, 0.6],
                                 "epoch_time": [10.0, 11.0]})
        study.tell(t, val)
    return study


def test_export_reports_test_error_keeps_the_validation_error_and_the_seed_sds():
    from regnet_space.search.optuna import export_population

    df = export_population(_study_with_val_and_seeds())
    assert df["error"].tolist() == [0.205, 0.226]  # reported: test
    assert df["val_error"].tolist() == [0.21, 0.23]  # ranked by: validation
    assert df["error_sd"].tolist() == [0.004, 0.005] and df["seeds"].tolist() == [2, 2]
    assert df["val_error_sd"].tolist() == [0.006, 0.006]


def test_export_writes_the_learning_curves_long_format(tmp_path, monkeypatch):
    from regnet_space.search.optuna import export_curves

    c = export_curves(_study_with_val_and_seeds())
    assert c[["trial", "epoch"]].values.tolist() == [[0, 1], [0, 2], [1, 1], [1, 2]]
    assert c["val_error"].tolist() == [0.5, 0.21, 0.5, 0.23]
    assert c["train_loss"].tolist() == [1.2, 0.6, 1.2, 0.6]
    assert c["epoch_time"].tolist() == [10.0, 11.0, 10.0, 11.0]
    # through the CLI: the companion file beside --out, readable by plain pandas
    db = tmp_path / "s.db"
    storage = optuna.storages.RDBStorage(f"sqlite:///{db}")
    s = optuna.create_study(storage=storage, study_name="s")
    for t in _study_with_val_and_seeds().trials:
        s.add_trial(t)
    assert main(["export", "--storage", f"sqlite:///{db}", "--out", str(tmp_path / "p.csv")]) == 0
    back = pd.read_csv(tmp_path / "p.curves.csv")
    assert len(back) == 4 and set(back["trial"]) == {0, 1}
    assert pd.read_csv(tmp_path / "p.csv")["val_error"].tolist() == [0.21, 0.23]
