"""NNI HPO end to end: `regnet-space nni-config` -> `nnictl create` -> trials on a tiny real
Fashion-MNIST subset -> `regnet-space nni-export`, with a built-in tuner and with the
design-space tuner; plus nni-config's refusals and the trial entry point on its own.

Every experiment runs with HOME and experimentWorkingDirectory in a temporary folder (NNI's
registry ``~/nni-experiments/.experiment`` included), on a free port, and is stopped by id in a
``finally`` block; a manager that survives ``nnictl stop`` is killed by the pid NNI recorded.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

import nni  # noqa: F401
import torch  # noqa: F401

from regnet_space.cli import main as cli  # noqa: E402
from regnet_space.config import NetConfig  # noqa: E402
from regnet_space.search.nni import decode_parameters, read_experiment  # noqa: E402
from regnet_space.spaces import get_space  # noqa: E402
from regnet_space.analysis.table import read_population  # noqa: E402

NNICTL = Path(sys.executable).parent / "nnictl"
TINY = ["--data", "fashion-mnist", "--epochs", "1", "--train-size", "300", "--val-size", "100",
        "--test-size", "200",
        "--batch-size", "64", "--threads", "1"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def status(port: int) -> dict:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/nni/check-status", timeout=5) as r:
        return json.loads(r.read())


class Experiment:
    """`nnictl create` in an isolated HOME; always stop it (and kill leftovers) on exit."""

    def __init__(self, tmp: Path, config: Path):
        self.home = tmp / "home"
        self.home.mkdir(parents=True, exist_ok=True)
        self.env = {**os.environ, "HOME": str(self.home)}
        self.config, self.port, self.id = config, free_port(), None

    def nnictl(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
        return subprocess.run([str(NNICTL), *args], env=self.env, capture_output=True, text=True,
                              timeout=timeout)

    def __enter__(self) -> "Experiment":
        # nnictl with the patient manager check (regnet_space.search.nni.launch): NNI's own 3 s
        # fail on a loaded machine
        out = subprocess.run([sys.executable, "-m", "regnet_space.search.nni.launch", "create",
                              "--config", str(self.config), "--port", str(self.port)],
                             env=self.env, capture_output=True, text=True, timeout=300)
        text = re.sub(r"\x1b\[[0-9;]*m", "", out.stdout + out.stderr)
        m = re.search(r"Experiment ID: (\w+)", text)
        if m:
            self.id = m.group(1)
        assert out.returncode == 0 and self.id, f"nnictl create failed:\n{text}"
        return self

    def wait(self, timeout: float = 150) -> None:
        end, st = time.time() + timeout, {}
        while time.time() < end:
            try:
                st = status(self.port)
            except OSError:
                st = {}
            if st.get("status") in ("DONE", "STOPPED", "ERROR"):
                break
            time.sleep(1)
        assert st.get("status") == "DONE", f"experiment {self.id} ended as {st}: {self.logs()}"

    def logs(self) -> str:
        out = []
        for p in sorted((self.config.parent / "exps").glob("*/log/*.log")) + sorted(
                (self.config.parent / "exps").glob("*/environments/*/trials/*/stderr")):
            out.append(f"--- {p}\n{p.read_text(errors='replace')[-2000:]}")
        return "\n".join(out)[-8000:]

    def __exit__(self, *exc) -> None:
        if self.id:
            try:
                self.nnictl("stop", self.id, timeout=60)
            except subprocess.TimeoutExpired:
                pass
        registry = self.home / "nni-experiments" / ".experiment"
        if registry.exists():  # kill a manager that survived, by the pid NNI recorded for it
            for exp in json.loads(registry.read_text() or "{}").values():
                pid = exp.get("pid")
                if pid:
                    try:
                        os.kill(int(pid), signal.SIGKILL)
                    except (ProcessLookupError, PermissionError):
                        pass


def configure(out: Path, *args: str, trials: int = 4) -> Path:
    rc = cli(["nni-config", *args, "--trials", str(trials), "--concurrency", "2", "--out",
              str(out), "--experiment-dir", str(out / "exps"), *TINY])
    assert rc == 0
    return out / "config.yml"


def check_experiment(exp: Experiment, out: Path, space, high: int, n: int = 4,
                     low: int = 0) -> "pd.DataFrame":
    assert cli(["nni-export", exp.id, "--experiment-dir", str(out / "exps"),
                "--out", str(out / "pop.csv")]) == 0
    df = read_population(out / "pop.csv")
    assert len(df) == n and set(df["source"]) == {"nni"} and set(df["study"]) == {exp.id}
    assert set(df["status"]) <= {"ok", "infeasible"}
    assert df["consistent"].all()
    _, records = read_experiment(out / "exps" / exp.id / "db" / "nni.sqlite")
    assert sorted(r.parameter_id for r in records) == sorted(df["parameter_id"]) == list(range(n))
    by_id = {r.parameter_id: r for r in records}
    for _, row in df.iterrows():
        rec = by_id[row["parameter_id"]]
        # the parameters NNI generated for this id decode to the configuration the trial echoed
        values = decode_parameters(space, rec.parameters, f"{low}:{high}").values
        cfg = NetConfig.from_json(row["config"])
        assert space.decode(values) == cfg == NetConfig.from_dict(rec.final["config"])
        assert {k: row[k] for k in space.names} == values
        assert isinstance(rec.final["default"], float)
        if row["feasible"]:
            assert row["status"] == "ok" and row["flops"] <= high and 0 <= row["error"] <= 1
            # the tuner saw the validation error; the table reports the test error, scored once
            assert rec.final["default"] == row["val_error"] == rec.final["error"]
            assert row["error"] == rec.final["test_error"] and rec.final["epochs"] == 1
            assert [type(v) for v in rec.intermediate] == [float]  # one per epoch
            assert row["train_time_s"] > 0
        else:
            assert row["status"] == "infeasible" and rec.final["default"] == 1.0
            assert row["flops"] > high or space.violations(values)
            assert rec.intermediate == [] and rec.final["epochs"] == 0  # never trained
    return df


@pytest.mark.slow
def test_nnictl_tpe_experiment_end_to_end(tmp_path):
    # RegNetX at 28 px in 2-5 MF with NNI's own TPE tuner on the feasible encoding: the raw box
    # would be almost all infeasible here (about 1 in 30 points has 4 stages in the budget).
    low, high = 2_000_000, 5_000_000
    config = configure(tmp_path, "--space", "regnetx", "--flops", f"{low}:{high}", "--tuner",
                       "TPE", trials=6)
    space = get_space("regnetx", resolution=28, in_channels=1, num_classes=10)
    with Experiment(tmp_path, config) as exp:
        exp.wait()
        df = check_experiment(exp, tmp_path, space, high, n=6, low=low)
    assert set(df["sampler"]) == {"TPE"}
    assert (df["status"] == "ok").sum() >= 5, df["status"].tolist()


@pytest.mark.slow
def test_nnictl_design_tuner_end_to_end(tmp_path):
    # The design-space tuner: every trial is an exact, in-budget draw; parameter id k is the k-th
    # sample of the seeded stream, whatever the concurrency.
    high = 10_000_000
    config = configure(tmp_path, "--space", "regnetx", "--flops", f":{high}", "--tuner", "design",
                       "--tuner-seed", "3")
    space = get_space("regnetx", resolution=28, in_channels=1, num_classes=10)
    with Experiment(tmp_path, config) as exp:
        exp.wait()
        df = check_experiment(exp, tmp_path, space, high)
    assert set(df["sampler"]) == {"design"} and (df["status"] == "ok").all()
    ref = space.sample_arrays(4, seed=3, flops=f":{high}")
    for _, row in df.iterrows():
        k = int(row["parameter_id"])
        assert {n: row[n] for n in space.names} == {p.name: p.cast(ref.values[p.name][k])
                                                    for p in space.params}


# ------------------------------------------------------------------------------- refusals
@pytest.mark.parametrize("args, message", [
    (["--space", "resnet9000", "--flops", ":20M"], "unknown space"),
    (["--space", "regnetx", "--flops", ":10K"], "budget cannot be met"),
    (["--space", "regnetx", "--flops", "20M:10M"], "empty"),
    (["--space", "regnetx", "--tuner", "Anneal"], "unknown tuner"),
    (["--space", "regnetx", "--trials", "0"], "--trials"),
])
def test_nni_config_refuses_bad_requests(tmp_path, capsys, args, message):
    out = tmp_path / "exp"
    rc = cli(["nni-config", *args, "--out", str(out), *TINY])
    err = capsys.readouterr().err
    assert rc == 2
    assert err.count("\n") == 1 and message in err and err.startswith("regnet-space nni-config: error")
    assert not out.exists()


def test_trial_reports_infeasible_sample_without_training(capsys):
    from regnet_space.search.nni import trial as nni_trial

    big = dict(d=20, w0=248, wa=200.0, wm=2.5, b=1, g=8)  # far over 10M flops at 28 px
    res = nni_trial.run(["--space", "regnetx", "--flops", ":10M", "--space-input", "28,1,10",
                         "--parameters", json.dumps(big), *TINY])
    assert res["status"] == "infeasible" and res["feasible"] is False
    assert res["default"] == 1.0 and isinstance(res["default"], float)
    assert res["epochs"] == 0 and res["flops"] > 10_000_000 and res["violations"]
    assert NetConfig.from_dict(res["config"]) == get_space("regnetx", resolution=28, in_channels=1,
                                                           num_classes=10).decode(big)
    json.dumps(res)  # plain JSON, as NNI needs


@pytest.mark.slow
def test_python_experiment_runs_and_trains_every_trial(tmp_path):
    # regnet_space.search.nni.experiment: the same experiment as nni-config, started from
    # Python with NNI's own Experiment.run; TPE on the feasible encoding trains every trial.
    from regnet_space.search.nni import experiment, export_population

    exps = tmp_path / "exps"
    exp = experiment("regnetx", "2M:5M", tuner="TPE", trials=3, concurrency=1,
                     options=dict(data="fashion-mnist", epochs=1, train_size=300, test_size=200,
                                  batch_size=64, threads=1),
                     code_dir=tmp_path, experiment_dir=exps)
    try:
        assert exp.run(free_port(), wait_completion=True, debug=False) is not False
    finally:
        exp.stop()
    df = export_population(exp.id, exps)
    assert len(df) == 3 and (df["status"] == "ok").all(), df[["status", "message"]]
    assert ((2e6 <= df["flops"]) & (df["flops"] <= 5e6)).all()
    assert df["error"].between(0, 1).all()
