"""``sweep --launcher ray`` on a local Ray cluster that the test starts on 127.0.0.1.

Ray tasks run ordinary sweep workers on one journal study; one worker process is SIGKILLed in
the middle of a trial; Ray starts its task again and the study still ends with exactly n
trials, none lost or duplicated, and exports like any sweep. Without ray installed the test
FAILS, on purpose (scripts/setup.sh installs the ``cluster`` extra).
"""

from __future__ import annotations

import os
import signal
import threading

import pandas as pd
import pytest
from optuna.trial import TrialState

from regnet_space.cli import main
from test_faults import TINY, assert_exact, running_trial

N_TRIALS, N_TASKS = 6, 3


@pytest.fixture(scope="module")
def ray_cluster():
    try:
        import ray
    except ImportError:
        pytest.fail("ray is not installed: pip install 'regnet-space[ray]' (scripts/setup.sh "
                    "installs it)")
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    ray.init(num_cpus=2, include_dashboard=False, _node_ip_address="127.0.0.1",
             logging_level="ERROR", log_to_driver=False)
    try:
        yield ray
    finally:
        ray.shutdown()


@pytest.mark.slow
def test_ray_tasks_share_one_study_and_survive_a_killed_worker(ray_cluster, tmp_path):
    url = f"journal:{tmp_path / 'r.journal'}"
    argv = ["sweep", "--storage", url, "--study", "f", "--trials", str(N_TRIALS),
            "--train-size", "1024", *TINY, "--launcher", "ray", "--workers", str(N_TASKS),
            "--ray-cpus", "1"]
    result: dict = {}
    driver = threading.Thread(target=lambda: result.setdefault("rc", main(argv)), daemon=True)
    driver.start()
    found = running_trial(url, lambda pid: pid != os.getpid(), alive=driver.is_alive)
    assert found is not None, result
    victim, pid = found
    os.kill(pid, signal.SIGKILL)                    # the Ray worker process running the trial
    driver.join(timeout=400)
    assert not driver.is_alive()
    assert result["rc"] == 0, result
    study = assert_exact(url, N_TRIALS)
    assert study.trials[victim].state == TrialState.FAIL
    retried = [t for t in study.trials if t.user_attrs.get("retry_of") == victim]
    assert [t.state for t in retried] == [TrialState.COMPLETE]
    assert {t.user_attrs["worker"] for t in study.trials} - {study.trials[victim]
                                                            .user_attrs["worker"]}
    out = tmp_path / "pop.csv"
    assert main(["export", "--storage", url, "--study", "f", "--out", str(out)]) == 0
    df = pd.read_csv(out)
    assert len(df) == N_TRIALS and df["config"].is_unique
    assert sorted(df["config"]) == sorted(t.user_attrs["config"] for t in study.trials
                                          if t.state == TrialState.COMPLETE)
