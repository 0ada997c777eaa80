"""Faults that clusters produce, with real processes: SIGTERM of a worker mid-trial, a SQLite
file another process holds locked, and a PostgreSQL server restarted under running workers.

The PostgreSQL cluster is the throwaway one of tests/test_storage_pg.py (its ``pg`` fixture);
without PostgreSQL's server programs that test FAILS, on purpose (scripts/setup.sh installs it).
"""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

import optuna
from optuna.trial import TrialState

from regnet_space.search.optuna import open_storage
from regnet_space.search.optuna.storage import storage_of
from regnet_space.search.optuna.faults import Patience, Reconnect, retrying, transient
from regnet_space.spaces import get_space
from test_storage_pg import PASSWORD, _as_db_owner, _pg_bin, env, pg  # noqa: F401  (fixture)

optuna.logging.set_verbosity(optuna.logging.ERROR)
TINY = ["--data", "synthetic", "--val-size", "32", "--test-size", "32", "--epochs", "1", "--threads", "1",
        "--space", "anynetx_a", "--flops", "2M:5M", "--sampler", "design", "--sampler-seed", "5",
        "--no-progress"]


def sweep(url: str, n: int, *extra: str, train: int = 256) -> list[str]:
    return [sys.executable, "-m", "regnet_space", "sweep", "--storage", url, "--study", "f",
            "--trials", str(n), "--train-size", str(train), *TINY, *extra]


def start(args, cwd) -> subprocess.Popen:
    return subprocess.Popen(args, cwd=cwd, env=env(), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def load(url: str) -> optuna.Study:
    return optuna.load_study(study_name="f", storage=open_storage(url, heartbeat=None))


def running_trial(url: str, accept, alive=lambda: True, timeout: float = 240):
    """``(number, pid)`` of a trial that is training now (RUNNING, status "running") in a
    worker process ``accept(pid)`` takes, polling the study read-only; None after ``timeout``
    or once ``alive()`` is False."""
    deadline = time.time() + timeout
    storage = None
    while time.time() < deadline and alive():
        time.sleep(0.2)
        try:  # one storage for all polls: opening one costs more than a poll
            study = load(url) if storage is None else optuna.load_study(study_name="f",
                                                                        storage=storage)
            storage = storage_of(study)
        except Exception:
            continue  # not created yet
        for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
            pid = int(str(t.user_attrs.get("worker", "x:0:")).rsplit(":", 2)[1] or 0)
            if t.user_attrs.get("status") == "running" and pid and accept(pid):
                return t.number, pid
    return None


def wait_running(url: str, procs, timeout: float = 180):
    """A RUNNING trial of one of ``procs``, and that process."""
    by_pid = {p.pid: p for p in procs}
    found = running_trial(url, lambda pid: pid in by_pid and by_pid[pid].poll() is None,
                          alive=lambda: any(p.poll() is None for p in procs), timeout=timeout)
    if found is None:
        pytest.fail("no trial started: " + " | ".join(p.stderr.read()[-800:] for p in procs
                                                      if p.poll() is not None))
    return found[0], by_pid[found[1]]


def design_configs(n: int) -> list[str]:
    space = get_space("anynetx_a", resolution=28, in_channels=1, num_classes=10)
    return sorted(s.config.to_json() for s in space.sample(n, seed=5, flops="2M:5M"))


def assert_exact(url: str, n: int) -> optuna.Study:
    """Exactly n finished trials, nothing RUNNING or WAITING, and the trained configurations
    are the design sequence's first samples, each once (none lost, none duplicated); a sample
    whose training failed (diverged) is not counted and the next one takes its place."""
    study = load(url)
    done = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE, TrialState.PRUNED))
    assert len(done) == n, [(t.number, t.state.name) for t in study.trials]
    assert not study.get_trials(deepcopy=False, states=(TrialState.RUNNING, TrialState.WAITING))
    failed = [t for t in study.trials if t.user_attrs.get("status") == "failed"]
    trained = sorted(t.user_attrs["config"] for t in done + failed)
    assert trained == design_configs(n + len(failed)), [
        (t.number, t.state.name, t.user_attrs.get("status"), t.user_attrs.get("retry_of"))
        for t in study.trials]
    return study


# ------------------------------------------------------------------------------ units
def test_transient_errors_are_told_apart_from_permanent_ones():
    assert transient(sqlite3.OperationalError("database is locked"), "sqlite:////x/a.db") == \
        "waiting for a lock held by another process on /x/a.db"
    assert "unreachable" in transient(ConnectionError("the database system is starting up"), None)
    assert transient(ConnectionError("connection refused"), None, refused=False) is None
    assert transient(ValueError('password authentication failed for user "u"'), None) is None


def test_reconnect_backs_off_logs_each_retry_and_gives_up_after_its_time():
    lines, slept, clock = [], [], [0.0]

    def sleep(s):
        slept.append(s)
        clock[0] += s

    r = Reconnect(Patience(timeout=10, first=1, cap=4), None, "study 's'", log=lines.append,
                  sleep=sleep)
    r_time = time.monotonic
    try:
        time.monotonic = lambda: clock[0]
        with pytest.raises(Exception) as e:
            retrying(lambda: (_ for _ in ()).throw(ConnectionError("server closed the "
                                                                   "connection unexpectedly")), r)
    finally:
        time.monotonic = r_time
    assert slept == [1.0, 2.0, 4.0, 3.0]               # doubling, capped, cut at the deadline
    assert len(lines) == len(slept) and all("retry" in line for line in lines)
    assert "gave up on its storage after 10 s (--storage-timeout 10)" in str(e.value)


# ------------------------------------------------------------------------------ SIGTERM
@pytest.mark.slow
@pytest.mark.parametrize("kind", ["sqlite", "journal"])
def test_sigterm_marks_the_running_trial_for_retry_and_exits_with_one_line(kind, tmp_path):
    url = f"sqlite:///{tmp_path / 'f.db'}" if kind == "sqlite" else \
        f"journal:{tmp_path / 'f.journal'}"
    p = start(sweep(url, 3, train=1024), tmp_path)      # trials long enough to hit one
    number, _ = wait_running(url, [p])
    p.send_signal(signal.SIGTERM)
    out, err = p.communicate(timeout=60)
    assert p.returncode == 143, err[-2000:]
    assert "Traceback" not in err
    said = [line for line in err.splitlines() if "SIGTERM" in line]
    assert len(said) == 1 and said[0] == err.strip().splitlines()[-1], err
    study = load(url)
    assert not study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))
    assert study.trials[number].state == TrialState.FAIL
    waiting = study.get_trials(deepcopy=False, states=(TrialState.WAITING,))
    assert [t.user_attrs.get("retry_of") for t in waiting] == [number]
    # the rerun takes the retry first and ends the study exactly
    r = subprocess.run(sweep(url, 3, train=1024), cwd=tmp_path, env=env(), capture_output=True,
                       text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    study = assert_exact(url, 3)
    assert [t.user_attrs.get("retry_of") for t in study.trials if t.number > number][:1] == \
        [number]


# ------------------------------------------------------------------------------ SQLite lock
HOLD = """
import sqlite3, sys, time
con = sqlite3.connect(sys.argv[1], isolation_level=None)
con.execute("BEGIN EXCLUSIVE")
print("locked", flush=True)
sys.stdin.readline()
con.rollback()
"""


@pytest.mark.slow
def test_a_locked_sqlite_file_is_reported_and_given_up_with_exit_2(tmp_path):
    url = f"sqlite:///{tmp_path / 'f.db'}"
    r = subprocess.run(sweep(url, 2), cwd=tmp_path, env=env(), capture_output=True, text=True,
                       timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(tmp_path / "f.db")],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        p = start(sweep(url, 3, "--storage-timeout", "6"), tmp_path)
        first = p.stderr.readline()
        # said while it waits (the lock still held, the worker still running), naming the file
        assert p.poll() is None and holder.poll() is None
        assert f"waiting for a lock held by another process on {tmp_path / 'f.db'}" in first
        rest = p.communicate(timeout=120)[1]
    finally:
        holder.communicate("\n", timeout=30)
    assert p.returncode == 2, rest[-2000:]
    last = rest.strip().splitlines()[-1]
    assert "gave up on its storage after" in last and "--storage-timeout 6" in last, rest
    assert "Traceback" not in rest
    study = load(url)                                     # nothing lost, nothing half-written
    assert len(study.get_trials(states=(TrialState.COMPLETE,))) == 2 and len(study.trials) == 2


# ------------------------------------------------------------------------------ PostgreSQL
@pytest.mark.slow
def test_workers_survive_a_postgres_restart_and_finish_the_study_exactly(pg, tmp_path):
    """Three workers; the server stops mid-sweep (``pg_ctl stop -m fast``: every connection is
    cut) and starts again 6 s later. The workers retry (a line per retry), none exits, and
    the study ends with exactly n trials, none lost or duplicated."""
    url = pg.url(pg.create_db("restart"))
    n = 8
    # --heartbeat 5: a trial the outage left unclaimed is retried after 20 s, not 2 minutes
    procs = [start(sweep(url, n, "--heartbeat", "5", train=1024), tmp_path) for _ in range(3)]
    # every worker in the sweep first (one that cannot reach the server when it starts fails at
    # once, by design: a wrong host or port is the likelier cause then)
    deadline = time.time() + 240
    while time.time() < deadline and any(p.poll() is None for p in procs):
        _, pid = wait_running(url, procs)
        seen = {int(str(t.user_attrs.get("worker", "x:0:")).rsplit(":", 2)[1] or 0)
                for t in load(url).trials}
        if {p.pid for p in procs} <= seen:
            break
        time.sleep(0.5)
    assert {p.pid for p in procs} <= seen, [p.poll() for p in procs]
    ctl = [str(_pg_bin() / "pg_ctl"), "-D", str(pg.folder / "data")]
    run = dict(capture_output=True, text=True, timeout=120)
    assert subprocess.run(_as_db_owner([*ctl, "-m", "fast", "-w", "stop"]), **run).returncode == 0
    time.sleep(6)                                       # longer than --heartbeat
    opts = (f"-p {pg.port} -k {pg.folder} -c listen_addresses=127.0.0.1 -c fsync=off "
            f"-c max_connections=200")
    r = subprocess.run(_as_db_owner([*ctl, "-o", opts, "-l", str(pg.folder / "log"), "-w", "-t",
                                     "60", "start"]), **run)
    assert r.returncode == 0, r.stderr
    results = [p.communicate(timeout=400) for p in procs]
    for p, (out, err) in zip(procs, results):
        assert p.returncode == 0, err[-3000:]            # every worker alive to the end
        assert PASSWORD not in out + err
    # the outage was seen: a retry line (a storage call failed) or a skipped heartbeat
    retries = sum(err.count("; retry ") + err.count("skipped: storage unreachable")
                  for _, err in results)
    assert retries >= 1, [err[-1500:] for _, err in results]
    assert_exact(url, n)


def test_a_dead_worker_not_yet_collected_by_its_parent_counts_as_dead():
    """A SIGKILLed worker stays a zombie until its parent waits for it (a parent waiting on its
    workers one by one leaves it so for minutes); its trial must be retried at once, not after
    the heartbeat's grace period."""
    import socket

    from regnet_space.search.optuna.workers import _proc_start, _worker_dead

    child = subprocess.Popen(["sleep", "30"])
    wid = f"{socket.gethostname()}:{child.pid}:{_proc_start(child.pid)}"
    assert not _worker_dead(wid)
    child.send_signal(signal.SIGKILL)
    deadline = time.time() + 30
    while time.time() < deadline and "Z" not in Path(f"/proc/{child.pid}/stat").read_text() \
            .rsplit(")", 1)[1].split()[0]:
        time.sleep(0.05)
    try:
        assert _worker_dead(wid)                          # a zombie: dead, not collected
    finally:
        child.wait()
    assert _worker_dead(wid)
