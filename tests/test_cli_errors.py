"""Every bad input of every subcommand is one line on stderr and exit code 2, never a traceback.

One table of cases, run in-process through ``regnet_space.cli.main`` (fast); a few run through
the installed ``regnet-space`` entry point in a subprocess, to show that the real program prints
no traceback either. Every case of the table fails before any training (where a command needs
data, it gets a tiny synthetic set); the last tests check that what nni-config and sweep write and
print stays data, whatever the user's paths and names hold.
"""

from __future__ import annotations

import gzip
import json
import os
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from regnet_space.cli import main

IDX = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
       "t10k-labels-idx1-ubyte")
TINY = ["--data", "synthetic", "--train-size", "20", "--val-size", "10", "--test-size", "10",
        "--epochs", "1"]


def _idx_folder(folder: Path, content: bytes, gz: bool = True) -> None:
    folder.mkdir()
    for stem in IDX:
        (folder / (stem + (".gz" if gz else ""))).write_bytes(content)


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> Path:
    """A folder of bad inputs, named by what is wrong with them."""
    d = tmp_path_factory.mktemp("bad")
    _idx_folder(d / "garbage-gz", b"this is not gzip data")
    good = gzip.compress(bytes([0, 0, 8, 3]) + struct.pack(">3I", 10, 28, 28) + bytes(7840))
    _idx_folder(d / "truncated-gz", good[:-12])
    _idx_folder(d / "short-header", bytes([0, 0, 8, 3, 0, 0, 0]), gz=False)
    cifar = d / "cifar-10-batches-py"
    cifar.mkdir()
    for name in ("data_batch_1", "test_batch"):
        (cifar / name).write_bytes(b"not a pickle at all")
    (d / "empty").mkdir()
    (d / "a-file").write_text("not a folder\n")
    (d / "stage-unknown-key.json").write_text(json.dumps(
        {"stages": [{"d": 1, "w": 8, "colour": 2}]}))
    (d / "stage-missing-key.json").write_text(json.dumps({"stages": [{"w": 8}]}))
    (d / "stage-not-object.json").write_text(json.dumps({"stages": [7]}))
    (d / "bad-block.json").write_text(json.dumps({"stages": [{"d": 1, "w": 8}], "block": "Z"}))
    (d / "two.json").write_text(json.dumps([{"stages": [{"d": 1, "w": 8}]}] * 2))
    (d / "empty-list.json").write_text("[]")
    (d / "not-json.json").write_text("{nope")
    (d / "binary.json").write_bytes(b"\xff\xfe\x00garbage")
    (d / "not-sqlite.db").write_bytes(b"this is not a database" * 100)
    (d / "garbage.csv").write_text("a,b\n1,2\n")
    from regnet_space.search.optuna import open_storage

    open_storage(f"sqlite:///{d}/export-empty.db", heartbeat=None)  # exists, holds no study
    (d / "nni-dir").mkdir()
    (d / "nni-existing").mkdir()
    (d / "nni-existing" / "config.yml").write_text("experimentName: mine\n")
    from regnet_space.analysis.table import write_population
    from regnet_space.bench.oracle import synthetic_population
    from regnet_space.spaces import get_space

    space = get_space("anynetx_c", resolution=32, in_channels=3, num_classes=10)
    write_population(synthetic_population(space, 60, seed=3), d / "pop.csv")
    return d


# (id, argv with {d} for the files folder, environment overrides, what stderr must say)
CASES = [
    # ---------------------------------------------------------------- describe
    ("describe-unknown-model", ["describe", "RegNetZ-1GF"], {}, "neither a config JSON file"),
    ("describe-missing-file", ["describe", "{d}/missing.json"], {}, "no such config file"),
    ("describe-bad-json", ["describe", "{d}/not-json.json"], {}, "is not valid JSON"),
    ("describe-binary-json", ["describe", "{d}/binary.json"], {}, "is not valid JSON"),
    ("describe-empty-list", ["describe", "{d}/empty-list.json"], {}, "empty list"),
    ("describe-stage-unknown-key", ["describe", "{d}/stage-unknown-key.json"], {},
     "stage 1: unknown key(s) ['colour']; a stage takes d, w (required), s, b, g"),
    ("describe-stage-missing-key", ["describe", "{d}/stage-missing-key.json"], {},
     "stage 1: missing key(s) ['d']"),
    ("describe-stage-not-object", ["describe", "{d}/stage-not-object.json"], {},
     "stage 1 must be an object"),
    ("describe-bad-block", ["describe", "{d}/bad-block.json"], {}, "block must be one of"),
    ("describe-resolution-0", ["describe", "resnet50", "--resolution", "0"], {},
     "--resolution must be >= 1"),
    ("describe-classes-negative", ["describe", "resnet50", "--num-classes", "-3"], {},
     "--num-classes must be >= 1"),
    ("describe-bad-stem", ["describe", "resnet50", "--stem", "tiny"], {}, "invalid choice"),
    # ---------------------------------------------------------------- sample
    ("sample-unknown-space", ["sample", "--space", "regnetq"], {}, "unknown space 'regnetq'"),
    ("sample-flops-overflow", ["sample", "--space", "regnetx", "--flops", "1e400"], {},
     "not a finite number"),
    ("sample-flops-syntax", ["sample", "--space", "regnetx", "--flops", "4OOM"], {},
     "cannot read '4OOM' as an amount"),
    ("sample-flops-reversed", ["sample", "--space", "regnetx", "--flops", "5M:1M"], {},
     "is empty: low 5,000,000 > high 1,000,000"),
    ("sample-flops-zero", ["sample", "--space", "regnetx", "--flops", "0:0"], {},
     "flops range '0:0' is empty"),
    ("sample-params-syntax", ["sample", "--space", "regnetx", "--params", "1:2:3"], {},
     "params range"),
    ("sample-unreachable", ["sample", "--space", "regnetx", "--flops", "1K:2K",
                            "--max-draws", "5000"], {}, "cannot be met by regnetx at 224 px"),
    ("sample-n-negative", ["sample", "--space", "regnetx", "--n", "-2"], {}, "--n must be >= 1"),
    ("sample-n-not-int", ["sample", "--space", "regnetx", "--n", "ten"], {}, "invalid int value"),
    ("sample-max-draws-0", ["sample", "--space", "regnetx", "--max-draws", "0"], {},
     "--max-draws must be >= 1"),
    ("sample-bad-block", ["sample", "--space", "regnetx", "--block", "Q"], {}, "block"),
    ("sample-num-stages-0", ["sample", "--space", "anynetx_a", "--num-stages", "0"], {},
     "stage"),
    # ---------------------------------------------------------------- spaces
    ("spaces-unknown-option", ["spaces", "--yaml"], {}, "unrecognized arguments: --yaml"),
    ("no-command", [], {}, "the following arguments are required: COMMAND"),
    ("unknown-command", ["fly"], {}, "invalid choice: 'fly'"),
    # ---------------------------------------------------------------- train
    ("train-unknown-model", ["train", "RegNetZ-1GF", *TINY], {}, "neither a config JSON file"),
    ("train-stage-unknown-key", ["train", "{d}/stage-unknown-key.json", *TINY], {},
     "unknown key(s) ['colour']"),
    ("train-stage-missing-key", ["train", "{d}/stage-missing-key.json", *TINY], {},
     "missing key(s) ['d']"),
    ("train-needs-index", ["train", "{d}/two.json", *TINY], {}, "pick one with --index"),
    ("train-index-out-of-range", ["train", "{d}/two.json", "--index", "5", *TINY], {},
     "--index 5 is out of range"),
    ("train-unknown-data", ["train", "resnet50", "--data", "imagenet-21k"], {},
     "unknown data set 'imagenet-21k'"),
    ("train-unknown-preset", ["train", "resnet50", "--preset", "turbo", *TINY], {},
     "turbo"),
    ("train-epochs-0", ["train", "resnet50", *TINY, "--epochs", "0"], {}, "epochs"),
    ("train-train-size-0", ["train", "resnet50", "--data", "synthetic", "--train-size", "0"], {},
     "must be >= 1 (or 'all')"),
    ("train-resolution-0", ["train", "resnet50", *TINY, "--resolution", "0"], {}, "resolution"),
    ("train-data-dir-missing", ["train", "resnet50", "--data-dir", "{d}/nowhere"], {},
     "nowhere (--data-dir) does not exist"),
    ("train-data-dir-a-file", ["train", "resnet50", "--data-dir", "{d}/a-file"], {},
     "is not a folder"),
    ("train-data-dir-empty", ["train", "resnet50", "--data-dir", "{d}/empty"], {},
     "fashion-mnist not found; looked in"),
    ("train-garbage-gz", ["train", "resnet50", "--data-dir", "{d}/garbage-gz"], {},
     "BadGzipFile"),
    ("train-truncated-gz", ["train", "resnet50", "--data-dir", "{d}/truncated-gz"], {},
     "damaged or truncated"),
    ("train-short-idx-header", ["train", "resnet50", "--data-dir", "{d}/short-header"], {},
     "IDX header cut short"),
    ("train-bad-cifar-pickle", ["train", "resnet50", "--data", "cifar10", "--data-dir",
                                "{d}/cifar-10-batches-py"], {}, "is not a CIFAR-10 python batch"),
    ("train-cifar-without-folder", ["train", "resnet50", "--data", "cifar10"],
     {"REGNET_SPACE_CIFAR10": None}, "cifar10 is read only from a folder you name"),
    ("train-env-folder-missing", ["train", "resnet50"],
     {"REGNET_SPACE_FASHION_MNIST": "{d}/typo"},
     "typo ($REGNET_SPACE_FASHION_MNIST) does not exist"),
    ("train-data-root-missing", ["train", "resnet50"],
     {"REGNET_SPACE_FASHION_MNIST": None, "REGNET_SPACE_DATA": "{d}/no-root"},
     "no-root ($REGNET_SPACE_DATA) does not exist"),
    ("train-data-folder-missing", ["train", "resnet50", "--data", "{d}/no-such-folder"], {},
     "no-such-folder does not exist"),
    ("train-no-adapt", ["train", "resnet50", *TINY, "--no-adapt"], {}, "--no-adapt"),
    # ---------------------------------------------------------------- sweep
    ("sweep-flops-overflow", ["sweep", "--flops", "1e400", *TINY], {}, "not a finite number"),
    ("sweep-flops-zero", ["sweep", "--flops", "0:0", *TINY], {}, "is empty"),
    ("sweep-max-retry-negative", ["sweep", "--max-retry", "-1", *TINY], {},
     "--max-retry must be >= 0, got -1"),
    ("sweep-max-failures-0", ["sweep", "--max-failures", "0", *TINY], {},
     "--max-failures must be >= 1, got 0"),
    ("sweep-n-0", ["sweep", "--n", "0", *TINY], {}, "--trials must be >= 1"),  # old spelling
    ("sweep-heartbeat-0", ["sweep", "--heartbeat", "0", *TINY], {}, "--heartbeat must be >= 1"),
    ("sweep-unknown-sampler", ["sweep", "--sampler", "annealing", *TINY], {}, "annealing"),
    ("sweep-unknown-pruner", ["sweep", "--pruner", "sometimes", "--storage",
                              "sqlite:///{d}/sweep-pruner.db", *TINY], {}, "unknown pruner"),
    ("sweep-unknown-space", ["sweep", "--space", "regnetq", *TINY], {}, "unknown space"),
    ("sweep-bad-storage-url", ["sweep", "--storage", "mongodb://host/db", *TINY], {},
     "storage"),
    ("sweep-unreachable-budget", ["sweep", "--flops", "1:2", "--storage",
                                  "sqlite:///{d}/sweep-unreachable.db", *TINY], {}, "acceptance"),
    # ---------------------------------------------------------------- export
    ("export-bad-storage-url", ["export", "--storage", "mongodb://host/db"], {}, "storage"),
    ("export-not-a-database", ["export", "--storage", "sqlite:///{d}/not-sqlite.db"], {},
     "storage"),
    ("export-unknown-study", ["export", "--storage", "sqlite:///{d}/export-empty.db", "--study",
                              "nope"], {}, "nope"),
    ("export-no-study", ["export", "--storage", "sqlite:///{d}/export-empty.db"], {},
     "give --study; studies in this storage: none"),
    # ---------------------------------------------------------------- nni-config
    ("nni-config-flops-overflow", ["nni-config", "--space", "regnetx", "--flops", "1e400",
                                   "--out", "{d}/nni1", *TINY], {}, "not a finite number"),
    ("nni-config-out-is-a-file", ["nni-config", "--space", "regnetx", "--out", "{d}/a-file",
                                  *TINY], {}, "exists and is not a folder"),
    ("nni-config-config-exists", ["nni-config", "--space", "regnetx", "--out",
                                  "{d}/nni-existing", *TINY], {}, "pass --force to overwrite it"),
    ("nni-config-out-under-a-file", ["nni-config", "--space", "regnetx", "--out",
                                     "{d}/a-file/sub", *TINY], {}, "is a file, not a folder"),
    ("nni-config-out-newline", ["nni-config", "--space", "regnetx", "--out",
                                "{d}/x\nmaxTrialNumber: 1", *TINY], {},
     "--out must not contain control characters"),
    ("nni-config-out-line-separator", ["nni-config", "--space", "regnetx", "--out",
                                       "{d}/x\u2028nniManagerIp: 1.2.3.4", *TINY], {},
     "--out must not contain control characters"),
    ("sample-flops-bare-amount", ["sample", "--space", "regnetx", "--flops", "400MF"], {},
     "is a bare amount, which is ambiguous; give a range LO:HI"),
    ("sample-seed-overflow", ["sample", "--space", "regnetx", "--seed", str(2**64)], {},
     "--seed must be in [0, 4294967295]"),
    ("sweep-heartbeat-huge", ["sweep", "--heartbeat", str(10**15), *TINY], {},
     "--heartbeat must be in [1, 86400]"),
    ("export-typo-db-is-not-created", ["export", "--storage", "sqlite:///{d}/typo.db"], {},
     "does not exist"),
    ("compare-bins-huge", ["compare", "{d}/pop.csv", "--bins", str(10**12), "--out",
                           "{d}/report"], {}, "--bins must be an integer in [1, 1000]"),
    ("nni-config-experiment-dir-newline", ["nni-config", "--space", "regnetx", "--out",
                                           "{d}/nni2", "--experiment-dir", "a\rb", *TINY], {},
     "--experiment-dir must not contain control characters"),
    ("nni-config-max-duration", ["nni-config", "--space", "regnetx", "--out", "{d}/nni3",
                                 "--max-duration", "abc", *TINY], {},
     "--max-duration must be a number > 0 with a unit"),
    ("nni-config-max-duration-0", ["nni-config", "--space", "regnetx", "--out", "{d}/nni3",
                                   "--max-duration", "0h", *TINY], {}, "--max-duration"),
    ("nni-config-gpus-negative", ["nni-config", "--space", "regnetx", "--out", "{d}/nni4",
                                  "--gpus", "-1", *TINY], {}, "--gpus must be >= 0, got -1"),
    ("nni-config-population-0", ["nni-config", "--space", "regnetx", "--out", "{d}/nni5",
                                 "--population-size", "0", *TINY], {},
     "--population-size must be >= 1, got 0"),
    ("nni-config-trials-0", ["nni-config", "--space", "regnetx", "--out", "{d}/nni6",
                             "--trials", "0", *TINY], {}, "--trials must be >= 1"),
    ("nni-config-unknown-tuner", ["nni-config", "--space", "regnetx", "--out", "{d}/nni7",
                                  "--tuner", "SMAC3", *TINY], {}, "unknown tuner 'SMAC3'"),
    ("nni-config-unknown-space", ["nni-config", "--space", "regnetq", "--out", "{d}/nni8",
                                  *TINY], {}, "unknown space"),
    ("nni-config-unreachable", ["nni-config", "--space", "regnetx", "--flops", "1:2", "--out",
                                "{d}/nni9", *TINY], {}, "the budget cannot be met"),
    ("nni-config-data-dir-missing", ["nni-config", "--space", "regnetx", "--out", "{d}/nni10",
                                     "--data-dir", "{d}/nowhere"], {}, "does not exist"),
    # ---------------------------------------------------------------- nni-export
    ("nni-export-unknown-experiment", ["nni-export", "abc123", "--out", "{d}/nni.csv",
                                       "--experiment-dir", "{d}/nni-dir"], {}, "abc123"),
    ("nni-export-dir-missing", ["nni-export", "abc123", "--out", "{d}/nni.csv",
                                "--experiment-dir", "{d}/nowhere"], {}, "nowhere"),
    # ---------------------------------------------------------------- compare / analyze
    ("compare-missing-table", ["compare", "{d}/missing.csv", "--out", "{d}/report"], {},
     "not found"),
    ("compare-bins-0", ["compare", "{d}/pop.csv", "--bins", "0", "--out", "{d}/report"], {},
     "must be >= 1"),
    ("analyze-garbage-table", ["analyze", "{d}/garbage.csv", "--out", "{d}/report"], {},
     "missing required column(s)"),
    # ---------------------------------------------------------------- bench-search
    ("bench-flops-overflow", ["bench-search", "--table", "{d}/pop.csv", "--flops", "1e400"], {},
     "not a finite number"),
    ("bench-flops-zero", ["bench-search", "--table", "{d}/pop.csv", "--flops", "0:0"], {},
     "flops range '0:0' is empty"),
    ("bench-flops-unreachable", ["bench-search", "--table", "{d}/pop.csv", "--flops", "1:2"], {},
     "--flops 1:2 is out of reach"),
    ("bench-seeds-0", ["bench-search", "--table", "{d}/pop.csv", "--seeds", "0"], {},
     "--seeds must be >= 1"),
    ("bench-top-2", ["bench-search", "--table", "{d}/pop.csv", "--top", "2"], {},
     "--top must be a fraction"),
    ("bench-unknown-algo", ["bench-search", "--table", "{d}/pop.csv", "--algos", "tpe,magic"],
     {}, "unknown search algorithm 'magic'"),
    ("bench-missing-table", ["bench-search", "--table", "{d}/missing.csv"], {}, "not found"),
    ("bench-wrong-space", ["bench-search", "--table", "{d}/pop.csv", "--space", "regnetx"], {},
     "no column"),
]


def _fill(text: str, d: Path) -> str:
    return text.replace("{d}", str(d))


@pytest.mark.parametrize("argv, env, needle", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_is_one_line_and_exit_2(files, tmp_path, monkeypatch, capsys, argv, env,
                                          needle):
    monkeypatch.chdir(tmp_path)  # a default output (a study database, a report) lands here
    for key, value in env.items():
        if value is None:
            monkeypatch.delenv(key, raising=False)
        else:
            monkeypatch.setenv(key, _fill(value, files))
    try:
        code = main([_fill(a, files) for a in argv])
    except SystemExit as e:  # argparse's own errors exit from inside parse_args
        code = e.code
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.endswith("\n") and err.count("\n") == 1, err
    assert "Traceback" not in err and _fill(needle, files) in err, err


def test_nni_config_out_is_never_written_on_bad_input(files, capsys):
    out = files / "never"
    assert main(["nni-config", "--space", "regnetx", "--out", str(out), "--flops", "1:2",
                 *TINY]) == 2
    assert not out.exists()


@pytest.mark.parametrize("argv, needle", [
    (["sample", "--space", "regnetx", "--flops", "1e400"], "not a finite number"),
    (["describe", "{d}/stage-missing-key.json"], "missing key(s) ['d']"),
    (["train", "resnet50", "--data-dir", "{d}/garbage-gz"], "BadGzipFile"),
])
def test_the_installed_entry_point_prints_no_traceback(files, argv, needle):
    exe = Path(sys.executable).with_name("regnet-space")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "regnet_space"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("REGNET_SPACE_")}
    r = subprocess.run(cmd + [_fill(a, files) for a in argv], capture_output=True, text=True,
                       env=env, timeout=120)
    assert r.returncode == 2 and r.stderr.count("\n") == 1, r.stderr
    assert "Traceback" not in r.stderr and _fill(needle, files) in r.stderr, r.stderr


def test_nni_config_yaml_and_printed_commands_are_quoted(tmp_path, capsys):
    """Values that mean something to YAML or to a shell stay plain data."""
    import shlex

    import yaml

    out = tmp_path / "it's here #1: x"
    name = "exp: {a: 1} # not a comment\\n'\"& $(id)"
    assert main(["nni-config", "--space", "regnetx", "--flops", "2M:20M", "--out", str(out),
                 "--experiment-name", name, "--experiment-dir", str(tmp_path / "a: b"),
                 *TINY]) == 0
    printed = capsys.readouterr().out.splitlines()
    start = next(line for line in printed if line.startswith("start: "))
    assert shlex.split(start[len("start: "):]) == [
        "nnictl", "create", "--config", str((out / "config.yml").resolve()), "--port", "8080"]
    text = (out / "config.yml").read_text()
    cfg = yaml.safe_load(text)
    assert cfg["experimentName"] == name and cfg["maxTrialNumber"] == 50
    assert cfg["experimentWorkingDirectory"] == str((tmp_path / "a: b").resolve())
    assert cfg["searchSpaceFile"] == str((out / "search_space.json").resolve())
    run = next(line for line in text.splitlines() if line.startswith("# Run: "))
    assert shlex.split(run[len("# Run: "):])[3] == str((out / "config.yml").resolve())
    assert "--data" in shlex.split(cfg["trialCommand"])
    # the library refuses a folder that would break the comment header, whoever calls it
    from regnet_space.budget import Budget
    from regnet_space.errors import ConfigError
    from regnet_space.search.nni.config import ExperimentSpec, write_experiment
    from regnet_space.spaces import get_space

    with pytest.raises(ConfigError, match="control characters"):
        write_experiment(ExperimentSpec(get_space("regnetx"), Budget()), tmp_path / "a\nb: 1")
    assert not (tmp_path / "a\nb: 1").exists()


def test_sweep_prints_a_quoted_export_command(tmp_path, capsys, monkeypatch):
    """The follow-up command a sweep prints can be pasted into a shell as is."""
    import shlex

    monkeypatch.chdir(tmp_path)
    db = tmp_path / "my studies; rm -rf x.db"
    assert main(["sweep", "--space", "regnetx", "--flops", "300K:2M", "--n", "1", "--storage",
                 f"sqlite:///{db}", "--study", "a b", *TINY, "--preset", "smoke",
                 "--no-progress"]) == 0
    err = capsys.readouterr().err
    line = next(x for x in err.splitlines() if x.startswith("export: "))
    assert shlex.split(line[len("export: "):]) == [
        "regnet-space", "export", "--storage", f"sqlite:///{db}", "--study", "a b", "--out",
        "pop.csv"]


def test_help_texts_read_like_user_documentation():
    """No source paths, reST markup or issue numbers in what ``--help`` prints."""
    import argparse

    from regnet_space.cli import COMMANDS, build_parser

    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    assert set(sub.choices) == set(COMMANDS)
    for name, p in [("regnet-space", parser), *sub.choices.items()]:
        text = p.format_help()
        for bad in ("``", ":class:", ":func:", "regnet_space/", "regnet_space.", ".py", "TODO",
                    "nni#", "%("):
            assert bad not in text, (name, bad)
        assert p.description or name == "regnet-space", name
