"""Zoo facts and the numpy-only CLI commands (describe, sample, spaces)."""

import json
import subprocess
import sys

import pytest

from regnet_space.cli import main
from regnet_space.complexity import complexity
from regnet_space.zoo import REGNETS, get_config, model_names, regnet_params


def test_zoo_names_and_reference_facts():
    assert len(REGNETS) == 24 and len(model_names()) == 30
    assert get_config("RegNetX-12GF").widths[0] == 224          # 168 rounded up by g = 112
    assert get_config("RegNetX-8.0GF").gs[0] == 80              # w < g: a single group
    assert get_config("regnetx_002") == get_config("RegNetX-200MF")
    assert regnet_params("RegNetY-800MF").wa == 38.84
    for name in REGNETS:   # every zoo model lands near its nominal flops
        nominal = float(name.split("-")[1].replace("MF", "e6").replace("GF", "e9"))
        assert abs(complexity(get_config(name)).flops / nominal - 1) < 0.1, name
    small = get_config("RegNetX-200MF", resolution=28, in_channels=1, num_classes=10)
    assert (small.stem, small.in_channels, small.num_classes) == ("small", 1, 10)
    with pytest.raises(ValueError, match="unknown model"):
        get_config("RegNetZ-1GF")


def run_cli(capsys, *argv):
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_describe_text_and_json(capsys):
    code, out, _ = run_cli(capsys, "describe", "RegNetX-200MF")
    assert code == 0 and "total: flops 199,040,872" in out and "368" in out
    code, out, _ = run_cli(capsys, "describe", "RegNetY-800MF", "--json")
    data = json.loads(out)
    assert (data["flops"], data["params"], data["acts"]) == (797_183_328, 6_263_168, 5_249_888)
    assert data["sampled"]["wa"] == 38.84 and data["config"]["block"] == "Y"


def test_sample_json_round_trips_through_describe(capsys, tmp_path):
    code, out, _ = run_cli(capsys, "sample", "--space", "anynetx_e", "--n", "4", "--flops",
                           "360M:400M", "--seed", "0", "--json")
    rows = json.loads(out)
    assert code == 0 and len(rows) == 4
    assert all(360e6 <= r["flops"] <= 400e6 and set(r["sampled"]) >= {"d1", "w4", "b", "g"} for r in rows)
    path = tmp_path / "one.json"
    path.write_text(json.dumps(rows[2]))
    code, out, _ = run_cli(capsys, "describe", str(path), "--json")
    assert json.loads(out)["flops"] == rows[2]["flops"]


def test_sample_at_small_resolution(capsys):
    code, out, _ = run_cli(capsys, "sample", "--space", "regnetx", "--n", "3", "--flops", "5M:20M",
                           "--input", "fashion-mnist", "--json")
    rows = json.loads(out)
    assert code == 0
    for r in rows:
        assert r["config"]["stem"] == "small" and r["config"]["resolution"] == 28
        assert r["config"]["in_channels"] == 1 and 5e6 <= r["flops"] <= 20e6


def test_spaces_lists_all(capsys):
    code, out, _ = run_cli(capsys, "spaces", "--json")
    rows = json.loads(out)
    assert code == 0 and {r["name"] for r in rows} >= {"anynetx_a", "regnetx", "regnety_constrained"}


@pytest.mark.parametrize("argv, needle", [
    (["sample", "--space", "nope"], "unknown space 'nope'"),
    (["sample", "--space", "regnetx", "--flops", "1K:2K", "--max-draws", "5000"],
     "below the smallest network"),  # refused before sampling
    (["sample", "--space", "regnetx", "--flops", "400M:400.1M", "--max-draws", "5000"],
     "acceptance"),
    (["sample", "--space", "regnetx", "--flops", "x:y"], "cannot read 'x'"),
    (["sample", "--space", "regnetx", "--n", "0"], "--n must be >= 1"),
    (["describe", "nope"], "neither a config JSON file nor a known model"),
    (["describe", "missing.json"], "no such config file"),
    (["describe", "RegNetX-200MF", "--resolution", "0"], "--resolution must be >= 1"),
])
def test_bad_input_one_line_exit_2(capsys, argv, needle):
    code, out, err = run_cli(capsys, *argv)
    assert code == 2 and needle in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_entry_point_and_numpy_core_without_heavy_imports():
    code = ("import sys, regnet_space, regnet_space.analysis.table, regnet_space.analysis.stats; "
            "from regnet_space.cli import main; main(['sample','--space','regnetx','--n','1']); "
            "bad = [m for m in ('torch', 'optuna', 'nni', 'matplotlib') if m in sys.modules]; "
            "assert not bad, bad")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    r = subprocess.run([sys.executable, "-m", "regnet_space", "describe", "nope"], capture_output=True, text=True)
    assert r.returncode == 2 and "Traceback" not in r.stderr
