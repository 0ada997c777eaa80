"""``regnet-space storage-proxy`` (Optuna's gRPC proxy) in front of the throwaway PostgreSQL of
tests/test_storage_pg.py, with 8 sweep workers through it (``--storage grpc://HOST:PORT``), one
of them SIGKILLed mid-trial: exactly n trials, none lost or duplicated. Without grpcio or
PostgreSQL's server programs the tests FAIL, on purpose (scripts/setup.sh installs both).
"""

from __future__ import annotations

import signal
import subprocess
import sys

import pytest

from optuna.trial import TrialState
from test_faults import assert_exact, start, sweep, wait_running
from test_storage_pg import PASSWORD, env, free_port, pg  # noqa: F401  (fixture)

N_WORKERS, N_TRIALS = 8, 10


@pytest.fixture()
def proxy(pg, tmp_path):
    try:
        import grpc  # noqa: F401
    except ImportError:
        pytest.fail("grpcio is not installed: pip install 'regnet-space[grpc]'")
    url = pg.url(pg.create_db("proxied"))
    port = free_port()
    p = subprocess.Popen([sys.executable, "-m", "regnet_space", "storage-proxy", "--storage", url,
                          "--host", "127.0.0.1", "--port", str(port)], cwd=tmp_path, env=env(),
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        yield f"grpc://127.0.0.1:{port}", url, p
    finally:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
        p.communicate(timeout=60)


@pytest.mark.slow
def test_eight_workers_through_one_proxy_lose_and_duplicate_nothing(proxy, tmp_path):
    grpc_url, pg_url, server = proxy
    procs = [start(sweep(grpc_url, N_TRIALS), tmp_path) for _ in range(N_WORKERS)]
    number, victim = wait_running(pg_url, procs)
    victim.send_signal(signal.SIGKILL)
    for p in procs:
        out, err = p.communicate(timeout=600)
        assert PASSWORD not in out + err
        if p is not victim:
            assert p.returncode == 0, err[-3000:]
    study = assert_exact(pg_url, N_TRIALS)            # read from the database itself
    assert study.trials[number].state == TrialState.FAIL
    assert [t.state for t in study.trials if t.user_attrs.get("retry_of") == number] == \
        [TrialState.COMPLETE]
    workers = {t.user_attrs.get("worker") for t in study.trials}
    assert len(workers) >= 2                            # the work was shared
    assert server.poll() is None                        # the proxy served to the end
    server.send_signal(signal.SIGTERM)
    out, err = server.communicate(timeout=60)
    assert server.returncode == 0 and err.strip().splitlines()[-1] == \
        "regnet-space storage-proxy: stopped by SIGTERM", err
    assert PASSWORD not in out + err


def test_a_worker_without_a_proxy_says_so_in_one_line(tmp_path):
    r = subprocess.run(sweep(f"grpc://127.0.0.1:{free_port()}", 2, "--storage-timeout", "0"),
                       cwd=tmp_path, env=env(), capture_output=True, text=True, timeout=120)
    assert r.returncode == 2, r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and "storage-proxy" in r.stderr, r.stderr


def test_the_proxy_refuses_a_storage_without_a_database_server(tmp_path):
    r = subprocess.run([sys.executable, "-m", "regnet_space", "storage-proxy", "--storage",
                        f"journal:{tmp_path / 'j.journal'}"], cwd=tmp_path, env=env(),
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and "needs a database server" in r.stderr, r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
