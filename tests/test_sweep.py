"""``regnet-space sweep`` / ``export``: resume after SIGKILL, several workers, clear errors.

The kill test trains real (tiny) networks on Fashion-MNIST (500 images, 1 epoch, 28x28); the
multi-worker tests use the synthetic data set to stay fast.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import optuna
import torch  # noqa: F401

from optuna.trial import TrialState  # noqa: E402

from regnet_space.cli import main  # noqa: E402
from regnet_space.search.optuna import open_storage  # noqa: E402

FMNIST = Path("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz")
TINY = ["--flops", "2M:6M", "--epochs", "1", "--threads", "1", "--no-progress"]
SYNTH = ["--data", "synthetic", "--train-size", "64", "--val-size", "32", "--test-size", "32"]


def cmd(*args) -> list[str]:
    return [sys.executable, "-m", "regnet_space", "sweep", *args]


def env():
    e = dict(os.environ)
    e["PYTHONPATH"] = str(Path(__file__).resolve().parents[1]) + os.pathsep + e.get("PYTHONPATH", "")
    e["OMP_NUM_THREADS"] = "1"
    return e


def load(url: str, name: str):
    return optuna.load_study(study_name=name, storage=open_storage(url, heartbeat=None))


def finished(study):
    return study.get_trials(deepcopy=False, states=(TrialState.COMPLETE, TrialState.PRUNED))


def check_exact(study, n):
    done = finished(study)
    assert len(done) == n
    assert len({t.number for t in done}) == n
    assert len({t.user_attrs["config"] for t in done}) == n          # each config counted once
    assert not study.get_trials(deepcopy=False, states=(TrialState.RUNNING, TrialState.WAITING))
    return done


def count(url, name):
    try:
        return len(load(url, name).trials)
    except KeyError:
        return 0


@pytest.mark.slow
def test_sigkilled_sweep_resumes_to_exactly_n_trials(tmp_path):
    url = f"sqlite:///{tmp_path / 'k.db'}"
    args = cmd("--storage", url, "--study", "k", "--n", "6", "--data", "fashion-mnist",
               "--train-size", "500", "--val-size", "200", "--test-size", "200", *TINY)
    proc = subprocess.Popen(args, cwd=tmp_path, env=env(), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    deadline = time.time() + 300  # generous: CI machines can be slow to start torch
    while time.time() < deadline:
        time.sleep(0.3)
        if proc.poll() is not None:
            pytest.fail(f"sweep ended before the kill: {proc.communicate()[1].decode()[-2000:]}")
        try:
            study = load(url, "k")
        except (KeyError, Exception):
            continue
        if len(finished(study)) >= 2 and study.get_trials(states=(TrialState.RUNNING,)):
            break
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    killed = load(url, "k")
    running = [t.number for t in killed.get_trials(states=(TrialState.RUNNING,))]
    before = len(finished(killed))
    assert 2 <= before < 6
    r = subprocess.run(args, cwd=tmp_path, env=env(), capture_output=True, timeout=240)
    assert r.returncode == 0, r.stderr.decode()[-2000:]
    study = load(url, "k")
    done = check_exact(study, 6)
    assert all(t.user_attrs["status"] == "ok" for t in done)
    for number in running:       # the killed trial was failed and retried with its parameters
        dead = study.trials[number]
        assert dead.state == TrialState.FAIL
        retries = [t for t in done if t.user_attrs.get("retry_of") == number]
        # the dead trial may have been killed before (or while) it drew its parameters
        assert len(retries) == 1 and dead.params.items() <= retries[0].params.items()
    # --sampler design (the default): still the first 6 samples of the sequence, each once
    from regnet_space.spaces import get_space
    space = get_space("regnetx", resolution=28, in_channels=1, num_classes=10)
    ref = [s.config.to_json() for s in space.sample(6, seed=0, flops="2M:6M")]
    assert sorted(t.user_attrs["config"] for t in done) == sorted(ref)
    out = tmp_path / "pop.csv"
    assert main(["export", "--storage", url, "--study", "k", "--out", str(out)]) == 0
    import pandas as pd
    df = pd.read_csv(out)
    assert len(df) == 6 and set(df["status"]) == {"ok"} and df["error"].between(0, 1).all()
    assert df["config"].nunique() == 6


@pytest.mark.slow
@pytest.mark.parametrize("storage", ["sqlite", "journal"])
def test_two_workers_share_one_study(tmp_path, storage):
    url = (f"sqlite:///{tmp_path / 'w.db'}" if storage == "sqlite"
           else str(tmp_path / "w.journal"))
    args = cmd("--storage", url, "--study", "w", "--n", "6", *SYNTH, *TINY)
    # both start at once on a storage that does not exist yet
    procs = [subprocess.Popen(args, cwd=tmp_path, env=env(), stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE) for _ in range(2)]
    for p in procs:
        _, err = p.communicate(timeout=240)
        assert p.returncode == 0, err.decode()[-2000:]
    study = load(url, "w")
    done = check_exact(study, 6)
    workers = [t.user_attrs["worker"] for t in done]
    # every finished trial names one of the two processes, and the same worker id never runs
    # two trials at once (a worker is one process: its trials' start times are ordered)
    pids = {str(p.pid) for p in procs}
    assert len(workers) == 6 and {w.rsplit(":", 2)[1] for w in workers} <= pids
    for w in set(workers):
        mine = sorted((t for t in done if t.user_attrs["worker"] == w),
                      key=lambda t: t.datetime_start)
        assert all(a.datetime_complete <= b.datetime_start for a, b in zip(mine, mine[1:])), w
    assert len(study.trials) == 6 + len([t for t in study.trials if t.state == TrialState.FAIL])
    other = [t for t in study.trials if t.state == TrialState.FAIL]
    assert all(t.user_attrs.get("status") == "surplus" for t in other)


def run_cli(capsys, *args):
    rc = main(["sweep", *args])
    err = capsys.readouterr().err.strip().splitlines()
    return rc, err


def test_cli_errors_are_one_line_and_leave_the_study_intact(tmp_path, capsys):
    url = f"sqlite:///{tmp_path / 'e.db'}"
    base = ["--storage", url, "--study", "e", *SYNTH, *TINY]
    assert main(["sweep", *base, "--n", "2", "--sampler", "random"]) == 0
    capsys.readouterr()
    n0 = count(url, "e")
    assert n0 == 2
    cases = [
        (["--storage", "foo://x", "--study", "e", "--n", "3"], "unsupported storage scheme"),
        (["--storage", "nowhere/x.db", "--study", "e", "--n", "3"], "does not exist"),
        ([*base, "--space", "resnet", "--n", "3"], "unknown space"),
        ([*base, "--n", "3", "--flops", "1:2"], "only 0 of 1 samples"),
        ([*base, "--n", "3", "--flops", "2M:7M", "--sampler", "random"], "budget.flops"),
        ([*base, "--n", "3", "--sampler", "tpe"], "sampler: stored 'random'"),
        ([*base, "--n", "3", "--sampler", "random", "--lr", "0.3"], "settings.lr"),
        ([*base, "--n", "0"], "--trials must be >= 1"),
    ]
    for args, match in cases:
        rc, err = run_cli(capsys, *args)
        assert rc == 2, (args, err)
        assert len(err) == 1 and match in err[0], (args, err)
        assert count(url, "e") == n0
    rc = main(["export", "--storage", url, "--study", "nope", "--out", str(tmp_path / "x.csv")])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and len(err) == 1 and "studies: e" in err[0]
    # a PostgreSQL server that is not there: what went wrong, no password, no URL lecture
    import socket
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    rc, err = run_cli(capsys, "--storage", f"postgres://alice:Sw33p-s3cret@127.0.0.1:{port}/db",
                      "--study", "e", "--n", "3", *SYNTH, *TINY)
    assert rc == 2 and len(err) == 1, err
    assert "connection refused by 127.0.0.1" in err[0] and "Sw33p-s3cret" not in err[0]
    assert "alice:***@" in err[0] and "use sqlite:///" not in err[0]


def test_tpe_sweep_under_a_tight_budget_trains_its_trials(tmp_path, capsys):
    # the feasible encoding: TPE's proposals decode inside 2-5 MF, so almost nothing is wasted
    url = f"sqlite:///{tmp_path / 'tpe.db'}"
    rc = main(["sweep", "--space", "regnetx", "--flops", "2M:5M", "--n", "20", "--sampler", "tpe",
               "--storage", url, "--study", "t", *SYNTH, "--epochs", "1", "--threads", "1",
               "--no-progress"])
    assert rc == 0, capsys.readouterr().err
    study = load(url, "t")
    statuses = [t.user_attrs["status"] for t in study.trials]
    assert len(statuses) == 20 and statuses.count("ok") >= 18, statuses
    assert all(2e6 <= t.user_attrs["flops"] <= 5e6 for t in study.trials
               if t.user_attrs["status"] == "ok")
