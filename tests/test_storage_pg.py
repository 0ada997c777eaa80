"""Many workers on one storage, with real processes: a throwaway PostgreSQL cluster, and the same
scenarios on SQLite (and a journal file where it applies).

The cluster is made here (``initdb`` in a temporary folder, ``pg_ctl start`` on a free port of
127.0.0.1, password authentication, stopped at the end). Without PostgreSQL's server programs
the PostgreSQL tests FAIL, on purpose: scripts/setup.sh installs Debian's ``postgresql``.
"""

from __future__ import annotations

import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

import optuna
from optuna.trial import TrialState

from regnet_space.cli import main
from regnet_space.errors import StorageError
from regnet_space.search.optuna import open_storage
from regnet_space.spaces import get_space

optuna.logging.set_verbosity(optuna.logging.ERROR)
PASSWORD = "Pg-s3cret-for-tests"
ROOT = Path(__file__).resolve().parents[1]
N_RACERS = 8


# ------------------------------------------------------------------------------ cluster
def _pg_bin() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                   key=lambda p: [int(x) for x in Path(p).parts[-3].split(".") if x.isdigit()])
    initdb = found[-1] if found else shutil.which("initdb")
    if not initdb or not os.access(initdb, os.X_OK):
        pytest.fail("PostgreSQL's server programs (initdb, pg_ctl) are not installed: "
                    "apt-get install postgresql (scripts/setup.sh does it when run as root)")
    return Path(initdb).parent


def _as_db_owner(args: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return args
    try:
        import pwd
        pwd.getpwnam("postgres")
    except KeyError:
        pytest.fail("running as root, but there is no 'postgres' user to run initdb as "
                    "(initdb refuses root); install Debian's postgresql package")
    if shutil.which("runuser"):
        return ["runuser", "-u", "postgres", "--", *args]
    return ["su", "postgres", "-s", "/bin/sh", "-c", " ".join(f"'{a}'" for a in args)]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Cluster:
    def __init__(self, folder: Path, port: int):
        self.folder, self.port = folder, port

    def url(self, db: str, password: str = PASSWORD, scheme: str = "postgresql") -> str:
        return f"{scheme}://postgres:{password}@127.0.0.1:{self.port}/{db}"

    def create_db(self, name: str) -> str:
        import psycopg2
        con = psycopg2.connect(host="127.0.0.1", port=self.port, user="postgres",
                               password=PASSWORD, dbname="postgres")
        con.autocommit = True
        with con.cursor() as cur:
            cur.execute(f'CREATE DATABASE "{name}"')
        con.close()
        return name


@pytest.fixture(scope="module")
def pg():
    bindir = _pg_bin()
    # in memory when there is room: the cluster (~60 MB) is made and removed in a blink
    shm = Path("/dev/shm")
    fast = shm.is_dir() and os.access(shm, os.W_OK) and shutil.disk_usage(shm).free > 2**30
    folder = Path(tempfile.mkdtemp(prefix="regnet-pg-", dir=shm if fast else None))
    (folder / "pw").write_text(PASSWORD + "\n")
    if os.geteuid() == 0:
        import pwd
        _as_db_owner(["true"])               # fails clearly without a postgres user
        ent = pwd.getpwnam("postgres")
        for p in (folder, folder / "pw"):
            os.chown(p, ent.pw_uid, ent.pw_gid)
    data, port = folder / "data", free_port()
    run = dict(capture_output=True, text=True, timeout=120)
    r = subprocess.run(_as_db_owner([str(bindir / "initdb"), "-D", str(data), "-U", "postgres",
                                     "-A", "scram-sha-256", f"--pwfile={folder / 'pw'}", "-N"]),
                       **run)
    if r.returncode != 0:
        shutil.rmtree(folder, ignore_errors=True)
        pytest.fail(f"initdb failed: {r.stderr[-1500:]}")
    opts = (f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off "
            f"-c max_connections=200")
    r = subprocess.run(_as_db_owner([str(bindir / "pg_ctl"), "-D", str(data), "-o", opts,
                                     "-l", str(folder / "log"), "-w", "-t", "60", "start"]), **run)
    if r.returncode != 0:
        log = (folder / "log").read_text() if (folder / "log").exists() else ""
        shutil.rmtree(folder, ignore_errors=True)
        pytest.fail(f"pg_ctl start failed: {r.stderr[-800:]} {log[-800:]}")
    try:
        yield Cluster(folder, port)
    finally:
        subprocess.run(_as_db_owner([str(bindir / "pg_ctl"), "-D", str(data), "-m", "fast",
                                     "-w", "stop"]), **run)
        shutil.rmtree(folder, ignore_errors=True)


def env() -> dict:
    e = dict(os.environ)
    e["PYTHONPATH"] = str(ROOT) + os.pathsep + e.get("PYTHONPATH", "")
    e["OMP_NUM_THREADS"] = "1"
    return e


def fresh_url(kind: str, request, tmp_path: Path, name: str) -> str:
    """A storage that does not exist yet."""
    if kind == "postgresql":
        cluster = request.getfixturevalue("pg")
        return cluster.url(cluster.create_db(name))
    if kind == "sqlite":
        return f"sqlite:///{tmp_path / (name + '.db')}"
    return f"journal:{tmp_path / (name + '.journal')}"


# ------------------------------------------------------------------------------ PostgreSQL
@pytest.mark.slow
@pytest.mark.parametrize("scheme", ["postgresql", "postgres", "postgresql+psycopg2"])
def test_postgres_urls_open_with_psycopg2(pg, scheme):
    db = pg.create_db(f"urls_{scheme.replace('+', '_')}")
    storage = open_storage(pg.url(db, scheme=scheme), heartbeat=None)
    assert storage.url.startswith("postgresql+psycopg2://")
    study = optuna.create_study(storage=storage, study_name="s")
    study.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=2)
    assert len(optuna.load_study(study_name="s", storage=storage).trials) == 2


@pytest.mark.slow
def test_postgres_errors_say_what_went_wrong_without_the_password(pg):
    pg.create_db("errs")
    cases = [
        (pg.url("errs", password="Wrong-" + PASSWORD), "authentication failed for user "
                                                          "'postgres'"),
        (pg.url("no_such_db"), "database 'no_such_db' does not exist"),
        (f"postgresql://postgres@127.0.0.1:{pg.port}/errs", "asks for a password"),
        (pg.url("errs").replace(f":{pg.port}/", f":{free_port()}/"), "connection refused"),
    ]
    for url, match in cases:
        with pytest.raises(StorageError) as e:
            open_storage(url)
        msg = str(e.value)
        assert match in msg, msg
        assert PASSWORD not in msg and len(msg.splitlines()) == 1
        assert "use sqlite:///" not in msg            # the URL was readable: no format hint


# ------------------------------------------------------------------------------ races
RACER = """
import sys, time
from regnet_space.errors import StudyMismatchError
from regnet_space.search.optuna import open_storage, open_study
url, start, tag = sys.argv[1], float(sys.argv[2]), sys.argv[3]
time.sleep(max(0.0, start - time.time()))
study = open_study(open_storage(url), "race", {"space": tag})
print("stored", study.user_attrs["regnet_space"]["space"])
"""


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["postgresql", "sqlite", "journal"])
def test_simultaneous_workers_create_the_schema_and_the_study_once(kind, request, tmp_path):
    """N processes open one storage that does not exist yet, at the same moment; half of them
    ask for other settings. Nobody dies of the race; exactly the workers whose settings were
    stored get the study, the others a StudyMismatchError."""
    url = fresh_url(kind, request, tmp_path, "race")
    script = tmp_path / "racer.py"
    script.write_text(RACER)
    start = time.time() + 4.0        # every process is imported and waiting by then
    tags = ["regnetx" if i % 2 else "anynetx_a" for i in range(N_RACERS)]
    procs = [subprocess.Popen([sys.executable, str(script), url, str(start), tag], env=env(),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for tag in tags]
    outs = [p.communicate(timeout=120) for p in procs]
    stored = {out.split()[-1] for out, _ in outs if out.startswith("stored")}
    assert len(stored) == 1, outs
    winner = stored.pop()
    for tag, p, (out, err) in zip(tags, procs, outs):
        assert PASSWORD not in out + err
        if tag == winner:
            assert p.returncode == 0 and out.strip() == f"stored {winner}", err[-1500:]
        else:
            assert p.returncode == 1 and "StudyMismatchError" in err, err[-1500:]
            assert f"stored {winner!r}" in err.strip().splitlines()[-1]
    storage = open_storage(url, heartbeat=None)
    assert optuna.get_all_study_names(storage) == ["race"]


# ------------------------------------------------------------------------------ kill
SWEEP = ["--study", "k", "--data", "synthetic", "--train-size", "256", "--val-size", "32",
         "--test-size", "32",
         "--epochs", "1", "--threads", "1", "--space", "anynetx_a", "--flops", "2M:5M",
         "--sampler", "design", "--sampler-seed", "5", "--no-progress"]
N_TRIALS, N_WORKERS = 6, 3


def _schema_exists(kind: str, url: str) -> bool:
    from sqlalchemy import create_engine, inspect
    if kind == "sqlite" and not Path(url[len("sqlite:///"):]).exists():
        return False
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg2://", 1))
    try:
        return "alembic_version" in inspect(engine).get_table_names()
    except Exception:
        return False
    finally:
        engine.dispose()


def _poll_study(storage):
    try:
        return optuna.load_study(study_name="k", storage=storage)
    except KeyError:
        return None


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["postgresql", "sqlite"])
def test_workers_start_together_one_is_killed_and_the_study_ends_exact(kind, request, tmp_path):
    """Several ``regnet-space sweep`` workers start at the same moment on a new storage; one is
    SIGKILLed in the middle of a trial and started again. Exactly n trials finish, each
    configuration once, and they are the first n samples of the design sampler's sequence."""
    url = fresh_url(kind, request, tmp_path, "kill")
    args = [sys.executable, "-m", "regnet_space", "sweep", "--storage", url, "--n",
            str(N_TRIALS), *SWEEP]

    def start():
        return subprocess.Popen(args, cwd=tmp_path, env=env(), stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)

    workers = [start() for _ in range(N_WORKERS)]
    by_pid = {p.pid: p for p in workers}
    storage = None
    victim, dead_trial = None, None
    deadline = time.time() + 150
    while victim is None and time.time() < deadline:
        time.sleep(0.1)
        if all(p.poll() is not None for p in workers):
            break
        if storage is None:
            if not _schema_exists(kind, url):
                continue  # let the workers create it: this poller must not race them
            storage = open_storage(url, heartbeat=None)
        study = _poll_study(storage)
        if study is None:
            continue
        now = time.time()
        for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
            pid = int(str(t.user_attrs.get("worker", "x:0:")).rsplit(":", 2)[1] or 0)
            # a trial that started a moment ago is still training (trials take seconds)
            if pid in by_pid and now - t.datetime_start.timestamp() < 0.5 and \
                    by_pid[pid].poll() is None:
                victim, dead_trial = by_pid[pid], t.number
                victim.send_signal(signal.SIGKILL)
                break
    assert victim is not None, [p.communicate() for p in workers]
    victim.wait()
    workers.append(start())                       # the killed worker is started again
    results = {}
    for p in workers:
        out, err = p.communicate(timeout=240)
        results[p.pid] = (p.returncode, out + err)
    for pid, (rc, text) in results.items():
        assert PASSWORD not in text
        if pid == victim.pid:
            assert rc == -signal.SIGKILL
        else:
            assert rc == 0, text[-3000:]          # nobody died of a race

    study = optuna.load_study(study_name="k", storage=open_storage(url, heartbeat=None))
    done = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE, TrialState.PRUNED))
    assert len(done) == N_TRIALS
    assert not study.get_trials(deepcopy=False, states=(TrialState.RUNNING, TrialState.WAITING))
    assert study.trials[dead_trial].state == TrialState.FAIL
    retries = [t for t in done if t.user_attrs.get("retry_of") == dead_trial]
    assert len(retries) == 1
    # a retry keeps what the dead trial had drawn (it may have died half-way through suggesting)
    assert study.trials[dead_trial].params.items() <= retries[0].params.items()
    # the design promise: the population is the first n samples of the sampler's sequence
    space = get_space("anynetx_a", resolution=28, in_channels=1, num_classes=10)
    ref = [s.config.to_json() for s in space.sample(N_TRIALS, seed=5, flops="2M:5M")]
    out = tmp_path / "pop.csv"
    assert main(["export", "--storage", url, "--study", "k", "--out", str(out)]) == 0
    import pandas as pd
    df = pd.read_csv(out)
    assert len(df) == N_TRIALS and df["config"].is_unique and df["trial"].is_unique
    assert df[list(space.names)].drop_duplicates().shape[0] == N_TRIALS
    assert sorted(df["config"]) == sorted(ref)
