"""The first hour of a new user (issue 18): the public faces, the README's own-objective and
own-trial code, missing extras, impossible budgets, one vocabulary of flags, provenance, the
README's numbers against the committed report, and the figures' defects."""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import types
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import regnet_space
from regnet_space.cli import build_parser, main

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()
FACES = ("regnet_space.optuna_space", "regnet_space.nni_space", "regnet_space.evaluator")


def _blocked(code: str, *modules: str, args: list[str] | None = None, cwd: Path | None = None):
    """Run Python ``code`` (or the CLI with ``args``) with ``modules`` made unimportable, as on a
    machine without those extras (sys.modules[name] = None, set by a sitecustomize)."""
    site = Path(cwd or ROOT) / "_block_site"
    site.mkdir(exist_ok=True)
    (site / "sitecustomize.py").write_text(
        "import sys\nfor m in %r:\n    sys.modules[m] = None\n" % (modules,))
    env = {**os.environ, "PYTHONPATH": f"{site}{os.pathsep}{ROOT}"}
    cmd = [sys.executable, "-c", code] if args is None else [
        sys.executable, "-m", "regnet_space", *args]
    return subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=cwd or ROOT,
                          timeout=120)


# ---------------------------------------------------------------------------- 1. the faces
def test_faces_import_without_their_tools(tmp_path):
    code = ("import sys; import regnet_space, " + ", ".join(FACES) + "\n"
            "print(sorted(m for m in ('torch', 'optuna', 'nni') if sys.modules.get(m)))\n"
            "try:\n    regnet_space.optuna_space.suggest\n"
            "except ImportError as e:\n    print(type(e).__name__, e)\n")
    p = _blocked(code, "torch", "optuna", "nni", cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    first, second = p.stdout.splitlines()
    assert first == "[]"
    assert second == ("MissingDependencyError regnet_space.optuna_space.suggest needs optuna, "
                      "which is not installed: pip install 'regnet-space[optuna]'")


@pytest.mark.parametrize("face", FACES)
def test_faces_name_the_implementation_itself(face):
    import importlib

    mod = importlib.import_module(face)
    assert mod.__all__ and sorted(dir(mod)) == sorted(mod.__all__)
    for name in mod.__all__:
        obj = getattr(mod, name)
        target, _, attr = mod._NAMES[name].partition(":")
        assert obj is getattr(importlib.import_module(target), attr or name), name
    with pytest.raises(AttributeError):
        getattr(mod, "no_such_name")


def test_readme_python_examples_import_from_the_faces():
    blocks = re.findall(r"```python\n(.*?)```", README, re.S)
    used = "\n".join(blocks)
    for face in FACES:
        assert f"from {face} import" in used, face


# ---------------------------------------------------------------- 2. the README's own code
def _readme_block(n: int) -> str:
    section = README.split("## Use it from your own Optuna objective / NNI trial", 1)[1]
    section = section.split("\n## ", 1)[0]
    return re.findall(r"```python\n(.*?)```", section, re.S)[n]


class _FakeData:
    name, resolution, in_channels, num_classes = "fake", 28, 1, 10


def _fake_evaluate(calls):
    from regnet_space.training.evaluator import EvalResult
    from regnet_space.training.provenance import gather

    def evaluate(cfg, data, settings=None, *, on_epoch=None, progress=None, **kw):
        assert isinstance(data, _FakeData) and progress is False
        calls.append((cfg, kw))
        err = 0.2 + cfg.depth / 1000 + kw.get("lr", 0.0) / 100
        if on_epoch is not None:
            on_epoch(0, err, None)
        return EvalResult("ok", error=err, **gather(recipe="brief").as_dict())

    return evaluate


def test_readme_optuna_objective_runs(monkeypatch, tmp_path):
    import regnet_space.evaluator as ev
    from regnet_space import get_space

    calls = []
    monkeypatch.setattr(ev, "evaluate", _fake_evaluate(calls), raising=False)
    monkeypatch.setattr(ev, "load_data", lambda *a, **k: _FakeData(), raising=False)
    monkeypatch.chdir(tmp_path)
    code = _readme_block(0)
    assert "suggest(trial, space" in code and len(code.strip().splitlines()) <= 20
    ns: dict = {}
    exec(compile(code, "README-optuna", "exec"), ns)
    study = ns["study"]
    assert len(calls) == 20 and (tmp_path / "mine.db").exists()
    space = get_space("regnetx", resolution=28, in_channels=1, num_classes=10)
    for t in study.trials:  # inside the budget; the architecture visible attribute by attribute
        values = {p.name: t.user_attrs[f"arch_{p.name}"] for p in space.params}
        assert values == t.user_attrs["values"]
        assert 2e6 <= space.check(values, "2M:5M").flops <= 5e6
        assert t.user_attrs["stages"].startswith(f"d={list(space.decode(values).depths)}")
        assert set(t.params) == {"d", "wm", "b_index", "g_log2", "slope", "size", "lr"}


def test_readme_nni_trial_runs_and_its_search_space(monkeypatch):
    import regnet_space.evaluator as ev
    from regnet_space import get_space
    from regnet_space.nni_space import search_space
    from regnet_space.search.nni import search_space as impl_search_space

    space = get_space("regnetx", resolution=28, in_channels=1, num_classes=10)
    ss = search_space(space, "2M:5M")
    assert ss == impl_search_space(space, "2M:5M") and "size" in ss
    point = {k: (v["_value"][0] if v["_type"] == "choice" else
                 (v["_value"][0] + v["_value"][1]) / 2) for k, v in ss.items()}
    reported = {}
    fake_nni = types.SimpleNamespace(
        get_next_parameter=lambda: dict(point),
        report_intermediate_result=lambda x: reported.setdefault("intermediate", []).append(x),
        report_final_result=lambda x: reported.setdefault("final", x))
    monkeypatch.setitem(sys.modules, "nni", fake_nni)
    calls = []
    monkeypatch.setattr(ev, "evaluate", _fake_evaluate(calls), raising=False)
    monkeypatch.setattr(ev, "load_data", lambda *a, **k: _FakeData(), raising=False)
    code = _readme_block(1)
    assert len(code.strip().splitlines()) <= 16
    exec(compile(code, "README-nni", "exec"), {})
    final = reported["final"]
    assert len(calls) == 1 and reported["intermediate"] == [final["default"]]
    assert 2e6 <= space.check(final["parameters"], "2M:5M").flops <= 5e6
    assert final["config"] == space.decode(final["parameters"]).to_dict()


def test_python_api_doc_names_every_command():
    doc = (ROOT / "docs" / "python-api.md").read_text()
    commands = [a.choices for a in build_parser()._actions
                if isinstance(a, argparse._SubParsersAction)][0]
    missing = [c for c in commands if not re.search(rf"^\| `{c}[ `]", doc, re.M)
               and f"/ `{c}" not in doc]
    assert not missing, missing


# ------------------------------------------------------------------- 3. missing extras
@pytest.mark.parametrize("argv, extra", [
    (["train", "RegNetX-200MF", "--data", "synthetic"], "torch"),
    (["sweep", "--flops", "2M:5M", "--data", "synthetic"], "optuna,torch"),
    (["nni-config", "--flops", "2M:5M", "--out", "x"], "torch,nni"),
    (["export"], "optuna"),
    (["bench-search", "results/regnetx.csv"], "optuna"),
])
def test_missing_extra_is_one_line_naming_it(argv, extra, tmp_path):
    p = _blocked("", "torch", "optuna", "nni", "yaml", args=argv, cwd=tmp_path)
    assert p.returncode == 2, p.stderr
    assert p.stderr.count("\n") == 1 and "Traceback" not in p.stderr, p.stderr
    assert f"pip install 'regnet-space[{extra}]'" in p.stderr
    assert not list(tmp_path.glob("*.db")) and not (tmp_path / "x").exists()  # nothing touched


def test_an_import_deep_inside_a_command_still_names_the_extra(tmp_path):
    # without the up-front check: the ImportError raised where torch is first needed
    code = ("import sys, regnet_space.cli as c; c.NEEDS.clear(); "
            "sys.exit(c.main(['train', 'RegNetX-200MF', '--data', 'synthetic']))")
    p = _blocked(code, "torch", cwd=tmp_path)
    assert p.returncode == 2 and "Traceback" not in p.stderr, p.stderr
    assert p.stderr.strip() == ("regnet-space train: error: train needs torch, which is not "
                                "installed: pip install 'regnet-space[torch]'")


def test_license_is_mit():
    text = (ROOT / "LICENSE").read_text()
    assert text.startswith("MIT License") and "2026 regnet-space developers" in text
    assert 'license = "MIT"' in (ROOT / "pyproject.toml").read_text()


# ------------------------------------------------------------- 4. where complexity is counted
@pytest.mark.parametrize("argv, needle", [
    (["sample", "--flops", "2M:5M"], "below the smallest network"),
    (["sample", "--flops", "1T:"], "above the largest network"),
])
def test_impossible_budget_refused_before_sampling(monkeypatch, capsys, argv, needle):
    from regnet_space.spaces.base import DesignSpace

    def no_sampling(*a, **k):
        raise AssertionError("sampled an impossible budget")

    monkeypatch.setattr(DesignSpace, "sample_arrays", no_sampling)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert needle in err and "at 224 px" in err and err.count("\n") == 1
    if "2M:5M" in argv:  # reachable at the data's input: the message says where
        assert "--input fashion-mnist (28 px)" in err


def test_sample_and_sweep_count_the_same_budget_at_28px(capsys):
    assert main(["sample", "--flops", "2M:5M", "--input", "fashion-mnist", "--n", "3",
                 "--json"]) == 0
    got = json.loads(capsys.readouterr().out)
    assert all(2e6 <= s["flops"] <= 5e6 and s["config"]["resolution"] == 28 for s in got)


# ------------------------------------------------------------------ 5. one vocabulary
def _subparsers():
    return [a for a in build_parser()._actions
            if isinstance(a, argparse._SubParsersAction)][0].choices


def test_every_default_is_shown_in_help():
    for name, p in _subparsers().items():
        for a in p._actions:
            if a.help == argparse.SUPPRESS or not a.option_strings or a.dest == "help":
                continue
            if a.default not in (None, False, [], argparse.SUPPRESS):
                text = p.formatter_class("x")._get_help_string(a)
                assert "default" in text, f"{name} {a.option_strings}: {text!r}"
    text = " ".join(_subparsers()["train"].format_help().split())
    assert "(brief: 3;" in text and "(brief: 0.2;" in text and "brief: 10000" in text


@pytest.mark.parametrize("command, new, old, dest, value", [
    ("sweep", "--trials", "--n", "trials", "7"),
    ("nni-config", "--sampler", "--tuner", "tuner", "Random"),
    ("nni-config", "--sampler-seed", "--tuner-seed", "tuner_seed", "3"),
    ("bench-search", "--trials", "--budget", "budget", "9"),
    ("bench-search", "--sampler", "--algos", "algos", "tpe,random"),
    ("describe", "--count-at", "--resolution", "resolution", "32"),
    ("sample", "--count-at", "--resolution", "resolution", "32"),
    ("train", "--resize", "--resolution", "resolution", "32"),
    ("sweep", "--resize", "--resolution", "resolution", "32"),
])
def test_new_flags_and_hidden_old_spellings(command, new, old, dest, value):
    p = _subparsers()[command]
    base = {"describe": ["m"], "train": ["m"], "bench-search": ["t.csv"],
            "nni-config": ["--out", "x"]}.get(command, [])
    parsed = {f: vars(p.parse_args([*base, f, value]))[dest] for f in (new, old)}
    assert parsed[new] == parsed[old] and str(parsed[new]) == value
    usage = p.format_help()
    assert re.search(rf"{re.escape(new)}\b", usage)
    assert not re.search(rf"(?<![\w-]){re.escape(old)}(?![\w-])", usage), f"{old} shown"


def test_space_default_and_table_the_same_everywhere():
    sub = _subparsers()
    for name, args in (("sample", []), ("sweep", []), ("nni-config", ["--out", "x"])):
        assert sub[name].parse_args(args).space == "regnetx", name
    for name, extra in (("compare", []), ("analyze", []), ("bench-search", [])):
        a, b = sub[name].parse_args(["p.csv"]), sub[name].parse_args(["--table", "p.csv"])
        from regnet_space.cli.compare import tables_of
        assert tables_of(a) == tables_of(b) == ["p.csv"], name


def test_examples_help_has_texts_and_new_names():
    for script in ("examples/nni/python_experiment.py", "examples/optuna_tpe_budget.py"):
        p = subprocess.run([sys.executable, str(ROOT / script), "--help"], capture_output=True,
                           text=True, timeout=120, cwd=ROOT)
        assert p.returncode == 0, p.stderr
        opts = re.findall(r"^  (--[\w-]+)( [A-Z_]+)?\s*(\S.*)?$", p.stdout, re.M)
        assert "--trials" in p.stdout and all(text for _, _, text in opts[1:] if _ != ""), script
        assert "(default:" in p.stdout


def test_scripts_and_docs_use_the_new_names():
    texts = {str(f.relative_to(ROOT)): f.read_text() for f in [
        ROOT / "README.md", ROOT / "CONTRIBUTING.md", *sorted((ROOT / "docs").glob("*.md")),
        ROOT / "examples" / "nni" / "README.md", *sorted((ROOT / "scripts").glob("*.sh"))]}
    old = re.compile(r"(sweep|bench-search|nni-config)[^\n`]*?(--n |--algos|--budget \d|--tuner\b)")
    bad = {k: m.group(0) for k, t in texts.items() if (m := old.search(t))}
    assert not bad, bad


# --------------------------------------------------------------------- 8. provenance
def test_provenance_fields_and_git_commit(tmp_path):
    from regnet_space.training import provenance as pv

    assert pv.git_commit(str(tmp_path)) is None  # not a checkout: None, never an error
    p = pv.gather(recipe="brief", device="cpu")
    assert p.package_version == regnet_space.__version__ and p.recipe == "brief"
    assert tuple(p.as_dict()) == pv.FIELDS
    head = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True,
                          text=True)
    if head.returncode == 0:  # this checkout: the same commit git reports
        assert p.git_commit == head.stdout.strip()
    else:
        assert p.git_commit is None
    import importlib.metadata as md
    assert p.torch_version.split("+")[0] == md.version("torch")


def test_evaluate_fills_provenance():
    from regnet_space.config import NetConfig
    from regnet_space.evaluator import evaluate, load_data

    cfg = NetConfig.from_lists([1], [8], gs=8, stem="small", stem_w=8, resolution=28,
                               in_channels=1, num_classes=10)
    r = evaluate(cfg, load_data("synthetic", train_size=64, test_size=32), "smoke", epochs=1,
                 threads=1, progress=False)
    import torch
    assert r.recipe == "smoke" and r.torch_version == torch.__version__
    assert r.cpu_capability == torch.backends.cpu.get_cpu_capability()
    assert r.package_version == regnet_space.__version__ and r.device_name
    assert r.to_dict()["git_commit"] == r.git_commit


def test_optuna_and_nni_exports_carry_provenance():
    import optuna
    from regnet_space import get_space
    from regnet_space.analysis.table import param_columns, validate
    from regnet_space.optuna_space import export_population, objective
    from regnet_space.search.nni.export import _row_from_final
    from regnet_space.training.provenance import FIELDS

    space = get_space("regnetx", resolution=28, in_channels=1, num_classes=10)
    from regnet_space.optuna_space import encode_values

    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    for s in space.sample(3, seed=0, flops="2M:5M"):  # three feasible, then random (infeasible)
        study.enqueue_trial(encode_values(space, s.values, encoding="raw"))
    fake = {"error": 0.3, "cpu_capability": "TEST", "device_name": "test-device"}
    study.optimize(objective(space, budget="2M:5M", evaluate=lambda cfg, **kw: dict(fake),
                             encoding="raw"), n_trials=6)
    df = export_population(study, space)
    assert set(df["status"]) >= {"ok", "infeasible"}  # raw encoding: both kinds of row
    ok = df[df["status"] == "ok"]
    assert (ok["cpu_capability"] == "TEST").all() and (ok["device_name"] == "test-device").all()
    assert df["package_version"].eq(regnet_space.__version__).all()
    assert set(FIELDS) <= set(df.columns) and not set(FIELDS) & set(param_columns(df))
    validate(df)
    row = _row_from_final({"status": "ok", "provenance": {"git_commit": "abc", "recipe": "brief"}},
                          space)
    assert row["git_commit"] == "abc" and row["recipe"] == "brief" and row["torch_version"] is None


# --------------------------------------------------- 6. the README's numbers, the report's
def _tables_of(md: str) -> list[str]:
    return [line for line in md.splitlines() if line.startswith("| ")]


def test_readme_shows_the_committed_report_tables():
    committed = (ROOT / "results" / "report" / "tables.md").read_text()
    rows = _tables_of(committed)
    assert len(rows) == 3 * (1 + 3)  # three tables: a header and three rows each
    missing = [r for r in rows if r not in README]
    assert not missing, missing


def test_committed_tables_recompute_from_the_committed_populations():
    from regnet_space.analysis import load_populations, plots
    from regnet_space.analysis.report import EDF_REPEATS
    from regnet_space.analysis.tables import result_tables

    labels = ["RegNetX", "AnyNetX_A", "AnyNetX_E"]
    pops = load_populations([ROOT / "results" / f"{s}.csv" for s in
                             ("regnetx", "anynetx_a", "anynetx_e")], labels)
    weights = plots.population_weights(plots.as_populations(pops), "flops", 10)
    again = result_tables(pops, weights, normalize="flops", seed=0, repeats=EDF_REPEATS)
    assert again == (ROOT / "results" / "report" / "tables.md").read_text()
    html = (ROOT / "results" / "report" / "index.html").read_text()
    assert f"resampled {EDF_REPEATS} times" in html and "98%" in html


# ----------------------------------------------------------------------- 7. the figures
def test_bench_curves_distinct_and_legend_outside():
    from regnet_space.bench import TabularOracle, plot_curves, run_benchmark, synthetic_population
    from regnet_space.bench.outputs import curve_style
    from regnet_space import get_space

    names = [f"{a}/{e}" for a in ("random", "tpe", "cmaes") for e in ("feasible", "raw")]
    st = curve_style(names)
    assert len({(s["color"], s["ls"], s["marker"]) for s in st.values()}) == len(names)
    space = get_space("regnetx", resolution=32, in_channels=3, num_classes=10)
    oracle = TabularOracle.from_table(synthetic_population(space, 100, seed=0, flops="2M:20M"))
    res = run_benchmark(oracle, ["random"], seeds=2, budget=6, encodings=["feasible", "raw"])
    fig = plot_curves(res, "regret")
    ax = fig.axes[0]
    assert ax.get_legend() is None and len(fig.legends) == 1
    fig.canvas.draw()
    box, axbox = fig.legends[0].get_window_extent(), ax.get_window_extent()
    assert box.y1 <= axbox.y0  # below the axes, covering no curve
    styles = {(l.get_linestyle(), l.get_marker()) for l in ax.get_lines() if l.get_label()[0] != "_"}
    assert len(styles) == 2


def test_trend_and_staircase_ticks_and_report_amounts():
    from regnet_space.analysis import plots, read_population
    from regnet_space.analysis.report import _fmt

    pop = read_population(ROOT / "results" / "regnetx.csv")
    fig = plots.trend_figure(pop, ["b", "d"], regimes=3)
    ax_b = fig.axes[0]
    ticks = [t for t in ax_b.get_yticks() if ax_b.get_ylim()[0] <= t <= ax_b.get_ylim()[1]]
    assert ticks and all(float(t).is_integer() for t in ticks), ticks
    assert ax_b.get_title() == "paper: best b = 1 (no bottleneck)" and not ax_b.texts
    fig = plots.staircase_figure(pop, k=2)
    for ax in fig.axes[:2]:
        assert all(float(t).is_integer() for t in ax.get_xticks())
    assert _fmt(2.951e6) == "2.95M" and _fmt(np.float64(0.21234)) == "0.2123"
    html = (ROOT / "results" / "report" / "index.html").read_text()
    assert not re.search(r"<td>\d\.\d+e\+0\d</td>", html)
