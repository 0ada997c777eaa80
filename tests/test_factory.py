"""``sweep --workers-per-device N``: N worker processes per device on one study (CPU here; the
CUDA version is in tests/test_gpu.py)."""

from __future__ import annotations

import json
import subprocess
import sys

import optuna
import pytest

from regnet_space.cli.sweep import workers_per_device

BASE = ["--space", "regnetx", "--flops", "2M:5M", "--data", "synthetic", "--train-size", "256",
        "--val-size", "64", "--test-size", "128", "--epochs", "1", "--threads", "1", "--study", "f"]


@pytest.mark.slow
def test_two_workers_per_device_share_one_study_and_end_it_exactly(tmp_path):
    db = f"sqlite:///{tmp_path / 'f.db'}"
    p = subprocess.run([sys.executable, "-m", "regnet_space", "sweep", *BASE, "--trials", "5",
                        "--storage", db, "--device", "cpu", "--workers-per-device", "2"],
                       capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stderr[-3000:]
    trials = optuna.load_study(study_name="f", storage=db).trials
    assert [t.state.name for t in trials] == ["COMPLETE"] * 5
    workers = {t.user_attrs["worker"] for t in trials}
    pids = {w.rsplit(":", 2)[1] for w in workers}
    assert len(pids) == 2, workers  # two child processes took trials, the parent none
    assert str(subprocess.os.getpid()) not in pids
    configs = [json.dumps(t.user_attrs["config"], sort_keys=True) for t in trials]
    assert len(set(configs)) == 5  # design sampling: five distinct samples, none twice
    assert "2 worker(s) on each of cpu" in p.stderr


@pytest.mark.parametrize("n", ["0", "-3", "1000"])
def test_bad_worker_count_is_one_line_exit_2_and_creates_nothing(tmp_path, n):
    db = tmp_path / "x.db"
    p = subprocess.run([sys.executable, "-m", "regnet_space", "sweep", *BASE, "--trials", "2",
                        "--storage", f"sqlite:///{db}", "--workers-per-device", n],
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 2
    err = p.stderr.strip().splitlines()
    assert len(err) == 1 and "--workers-per-device" in err[0], err
    assert not db.exists()


def test_default_workers_per_device():
    assert workers_per_device(None, "cpu") == 1
    assert workers_per_device(4, "cpu") == 4


def test_a_trial_finished_by_another_worker_is_dropped_not_fatal():
    """Two workers that ran one (retried) trial: the second tell is refused by Optuna; the worker
    goes on and the study keeps the one result."""
    from regnet_space.search.optuna.workers import _lost_trial

    study = optuna.create_study()
    t = study.ask()
    study.tell(t, 0.5)
    with pytest.raises(ValueError) as e:
        study.tell(t.number, 0.4)
    assert _lost_trial(study, "this-host:1:1", e.value)
    assert not _lost_trial(study, "this-host:1:1", ValueError("some other value error"))
    assert [x.value for x in study.trials] == [0.5]
