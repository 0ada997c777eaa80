"""Storage layer: driver choice, password redaction, one-line errors, races between workers.

Nothing here needs a database server: connection errors come from a closed local port, races
are played in one process. The real PostgreSQL cluster and the multi-process scenarios are in
tests/test_storage_pg.py.
"""

from __future__ import annotations

import re
import socket
from pathlib import Path

import pytest

import optuna
from optuna.trial import TrialState

from regnet_space.errors import StorageError, StudyMismatchError
from regnet_space.search.optuna import (DesignSpaceSampler, objective, open_storage, open_study,
                                       recover_dead_trials, redact, run_worker, suggest)
from regnet_space.search.optuna import storage as st
from regnet_space.spaces import get_space

optuna.logging.set_verbosity(optuna.logging.ERROR)
SECRET = "s3cr3t-Pa55"
SPACE = get_space("anynetx_a", resolution=28, in_channels=1, num_classes=10)
BUDGET = "2M:5M"


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ------------------------------------------------------------------------------ driver
@pytest.mark.parametrize("url,expected", [
    ("postgresql://u@h/db", "postgresql+psycopg2://u@h/db"),
    ("postgres://u:p@h:5432/db", "postgresql+psycopg2://u:p@h:5432/db"),
    ("PostgreSQL://u@h/db", "postgresql+psycopg2://u@h/db"),
    ("postgres+pg8000://u@h/db", "postgresql+pg8000://u@h/db"),
    ("postgresql+psycopg://u@h/db", "postgresql+psycopg://u@h/db"),    # named driver: kept
    ("postgresql+psycopg2://u@h/db", "postgresql+psycopg2://u@h/db"),
    ("sqlite:///x.db", "sqlite:///x.db"),
    ("x.db", "sqlite:///x.db"),
    ("mysql://u@h/db", "mysql://u@h/db"),
])
def test_postgres_urls_without_a_driver_get_psycopg2(url, expected):
    assert st.rdb_url(url) == expected


@pytest.mark.parametrize("scheme", ["postgresql", "postgres"])
def test_a_bare_postgres_url_reaches_the_server_with_psycopg2(scheme):
    # SQLAlchemy's own default (psycopg 3) is not installed: the error would be "driver".
    url = f"{scheme}://alice:{SECRET}@127.0.0.1:{closed_port()}/studies"
    with pytest.raises(StorageError) as e:
        open_storage(url)
    msg = str(e.value)
    assert "connection refused by 127.0.0.1" in msg and "driver" not in msg
    assert SECRET not in msg and "alice:***@" in msg
    assert "use sqlite:///" not in msg                 # the URL was fine: no format hint
    assert len(msg.splitlines()) == 1


# ------------------------------------------------------------------------------ redaction
@pytest.mark.parametrize("text", [
    f"postgresql://alice:{SECRET}@db.example.org:5432/studies",
    f"postgresql+psycopg2://alice:{SECRET}@db/studies?sslmode=require",
    f"postgres://alice:{SECRET}@[::1]:5432/studies",
    f"mysql+pymysql://root:{SECRET}@127.0.0.1/optuna",
    f"postgresql://alice:{SECRET}@with@at@db/studies",          # unescaped '@' in the password
    f"postgresql://alice:{SECRET}/slash@db/studies",            # unescaped '/' in the password
    f"postgresql://alice@db/studies?password={SECRET}&sslmode=require",
    f"host=db user=alice password={SECRET} dbname=studies",     # a libpq DSN in a message
    f"could not connect to 'postgresql://alice:{SECRET}@db/x' (timeout) and "
    f"'postgresql://bob:{SECRET}@db2/y'",
])
def test_redact_removes_every_password(text):
    out = redact(text)
    assert SECRET not in out and "***" in out
    assert redact(out) == out


def test_redact_keeps_urls_without_password():
    for url in ["sqlite:///runs/a.db", "postgresql://alice@db/studies", "journal:/tmp/x.journal",
                "postgresql+psycopg2://db:5432/studies?sslmode=require"]:
        assert redact(url) == url


# ------------------------------------------------------------------------------ errors
@pytest.mark.parametrize("url,match,hint", [
    (f"postgresql+psycopg://alice:{SECRET}@127.0.0.1/db", "driver psycopg is not installed", False),
    (f"postgresql+asyncpg://alice:{SECRET}@127.0.0.1/db", "pip install asyncpg", False),
    (f"postgresql://alice:{SECRET}@db:notaport/x", "the port 'notaport' is not a number", True),
    (f"postgresql://alice:{SECRET}@at@db/x", "more than one '@'", True),
    (f"foo://alice:{SECRET}@db/x", "unsupported storage scheme", True),
    ("sqlite:////no/such/folder/x.db", "folder /no/such/folder does not exist", False),
    ("journal:/no/such/folder/x.journal", "does not exist", False),
    ("bogus", "cannot read storage", True),
])
def test_storage_errors_say_what_went_wrong_in_one_line(url, match, hint):
    with pytest.raises(StorageError) as e:
        open_storage(url)
    msg = str(e.value)
    assert match in msg
    assert SECRET not in msg and len(msg.splitlines()) == 1
    assert (st.URL_HINT in msg) == hint


@pytest.mark.parametrize("driver_text,say", [
    ('connection to server at "db", port 5432 failed: FATAL:  password authentication failed '
     'for user "alice"', "authentication failed for user 'alice'"),
    ('connection to server at "db", port 5432 failed: FATAL:  database "sweeps" does not exist',
     "database 'sweeps' does not exist (create it first: createdb sweeps)"),
    ('could not translate host name "dbx" to address: Name or service not known',
     "unknown host 'dbx'"),
    ('connection to server at "db", port 5432 failed: fe_sendauth: no password supplied',
     "asks for a password"),
    (f"something new, with the password {SECRET} in it", "something new"),
])
def test_database_errors_are_explained_without_the_password(driver_text, say):
    import psycopg2
    import sqlalchemy.exc
    e = sqlalchemy.exc.OperationalError("connect", {}, psycopg2.OperationalError(driver_text))
    msg = st.explain_storage_error(e, f"postgresql://alice:{SECRET}@db/sweeps")
    assert say in msg and SECRET not in msg and st.URL_HINT not in msg
    assert msg.startswith("cannot open storage 'postgresql://alice:***@db/sweeps': ")


def test_schema_creation_races_are_retried_and_other_errors_are_not(monkeypatch):
    import psycopg2
    import sqlalchemy.exc
    monkeypatch.setattr(st.time, "sleep", lambda s: None)
    race = sqlalchemy.exc.IntegrityError(
        "CREATE TABLE studies", {}, psycopg2.IntegrityError(
            'duplicate key value violates unique constraint "pg_type_typname_nsp_index"'))
    calls = []

    def flaky():
        calls.append(1)
        if len(calls) < 3:
            raise race
        return "storage"

    assert st._retry_races(flaky) == "storage" and len(calls) == 3
    refused = sqlalchemy.exc.OperationalError("connect", {}, psycopg2.OperationalError(
        "Connection refused"))
    calls.clear()

    def down():
        calls.append(1)
        raise refused

    with pytest.raises(sqlalchemy.exc.OperationalError):
        st._retry_races(down)
    assert len(calls) == 1


# ------------------------------------------------------------------------------ studies
def test_losing_the_race_to_create_a_study_loads_it_and_checks_its_metadata(monkeypatch):
    storage = open_storage("memory")
    real_exists = st._study_exists
    created = []

    def other_worker_creates_it_just_after_the_check(s, name):
        if not created:
            created.append(name)
            optuna.create_study(storage=s, study_name=name).set_user_attr(
                st.META_KEY, {"space": "regnetx"})
            return False
        return real_exists(s, name)

    monkeypatch.setattr(st, "_study_exists", other_worker_creates_it_just_after_the_check)
    study = open_study(storage, "s", {"space": "regnetx"})       # DuplicatedStudyError inside
    assert created and study.user_attrs[st.META_KEY] == {"space": "regnetx"}
    assert optuna.get_all_study_names(storage) == ["s"]
    monkeypatch.setattr(st, "_study_exists", lambda s, name: False)
    with pytest.raises(StudyMismatchError, match="space: stored 'regnetx', asked 'anynetx_a'"):
        open_study(storage, "s", {"space": "anynetx_a"})


def test_a_loser_waits_for_the_winners_metadata(monkeypatch):
    storage = open_storage("memory")
    optuna.create_study(storage=storage, study_name="s")       # created, metadata not yet set
    sleeps = []

    def creator_finishes(seconds):
        sleeps.append(seconds)
        optuna.load_study(study_name="s", storage=storage).set_user_attr(st.META_KEY,
                                                                         {"space": "regnetx"})

    monkeypatch.setattr(st.time, "sleep", creator_finishes)
    with pytest.raises(StudyMismatchError, match="stored 'regnetx'"):
        open_study(storage, "s", {"space": "anynetx_a"})
    assert sleeps


# ------------------------------------------------------------------------------ workers
def _cheap(cfg, **kw):
    return 0.5


def test_a_trial_taken_for_dead_while_running_does_not_kill_its_worker(tmp_path):
    storage = open_storage(f"journal:{tmp_path / 'j.journal'}")
    study = open_study(storage, "s", None, DesignSpaceSampler(SPACE, flops=BUDGET, seed=0))
    other = optuna.load_study(study_name="s",                      # another worker's view
                              storage=open_storage(f"journal:{tmp_path / 'j.journal'}"))
    calls = []

    def slow_then_declared_dead(cfg, **kw):
        calls.append(cfg)
        if len(calls) == 2:     # meanwhile another worker fails this trial and retries it
            running = other.get_trials(deepcopy=False, states=(TrialState.RUNNING,))
            failed = other.tell(running[0].number, state=TrialState.FAIL)
            st._retry_callback(3)(other, failed)
        return 0.5

    s = run_worker(study, objective(SPACE, budget=BUDGET, evaluate=slow_then_declared_dead), 4,
                   progress=False)
    assert s["finished"] == 4 and s["dead"] == 1 and s["failed"] == 0
    done = study.get_trials(states=(TrialState.COMPLETE,))
    assert len({t.user_attrs["config"] for t in done}) == 4


def test_design_population_is_the_first_samples_after_a_trial_died_before_drawing(tmp_path):
    import os
    storage = open_storage(f"journal:{tmp_path / 'j.journal'}")
    study = open_study(storage, "s", None, DesignSpaceSampler(SPACE, flops=BUDGET, seed=3))
    fn = objective(SPACE, budget=BUDGET, evaluate=_cheap)
    run_worker(study, fn, 2, progress=False)
    dead = study.ask()                         # killed before it suggested anything
    dead.set_user_attr("worker", f"{socket.gethostname()}:{2**22 + os.getpid()}:1")
    dead2 = study.ask()                        # killed after drawing sample 3
    suggest(dead2, SPACE)
    dead2.set_user_attr("worker", f"{socket.gethostname()}:{2**22 + os.getpid()}:1")
    assert recover_dead_trials(study) == 2
    run_worker(study, fn, 6, progress=False)
    done = study.get_trials(states=(TrialState.COMPLETE,))
    ref = [s.config.to_json() for s in SPACE.sample(6, seed=3, flops=BUDGET)]
    assert sorted(t.user_attrs["config"] for t in done) == sorted(ref)
    retries = {t.user_attrs["retry_of"]: t for t in done if "retry_of" in t.user_attrs}
    assert set(retries) == {dead.number, dead2.number}
    assert retries[dead.number].user_attrs["config"] == ref[2]
    assert retries[dead2.number].user_attrs["config"] == ref[3]


def test_private_optuna_internals_live_in_one_helper():
    import inspect
    root = Path(st.__file__).parent
    private = re.compile(r"\._storage\b|\._trial_id\b|optuna\.storages\._\w+")
    uses = {f: len(private.findall((root / f).read_text()))
            for f in ("storage.py", "workers.py", "export.py")}
    inside = len(private.findall(inspect.getsource(st.storage_of)))
    assert inside >= 1 and uses == {"storage.py": inside, "workers.py": 0, "export.py": 0}, uses


def test_a_trial_stopped_by_ctrl_c_is_retried_and_the_design_sequence_kept(tmp_path):
    storage = open_storage(f"sqlite:///{tmp_path / 'c.db'}")
    study = open_study(storage, "s", None, DesignSpaceSampler(SPACE, flops=BUDGET, seed=4))
    calls = []

    def interrupted_once(cfg, **kw):
        calls.append(cfg)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return 0.5

    fn = objective(SPACE, budget=BUDGET, evaluate=interrupted_once)
    with pytest.raises(KeyboardInterrupt):
        run_worker(study, fn, 5, progress=False)
    assert [t.user_attrs.get("retry_of") for t in study.trials if t.state == TrialState.WAITING] \
        == [2]
    assert run_worker(study, fn, 5, progress=False)["finished"] == 5
    done = study.get_trials(states=(TrialState.COMPLETE,))
    ref = [s.config.to_json() for s in SPACE.sample(5, seed=4, flops=BUDGET)]
    assert sorted(t.user_attrs["config"] for t in done) == sorted(ref)


def test_a_database_lost_during_a_sweep_is_a_one_line_storage_error(tmp_path, monkeypatch):
    import psycopg2
    import sqlalchemy.exc
    study = open_study(open_storage(f"sqlite:///{tmp_path / 'l.db'}"), "s", None,
                       DesignSpaceSampler(SPACE, flops=BUDGET, seed=0))

    def server_gone(*a, **k):
        raise sqlalchemy.exc.OperationalError("SELECT 1", {}, psycopg2.OperationalError(
            'connection to server at "10.0.0.5", port 5432 failed: Connection refused\n\tIs the '
            'server running on that host and accepting TCP/IP connections?'))

    monkeypatch.setattr(study, "optimize", server_gone)
    with pytest.raises(StorageError) as e:
        run_worker(study, objective(SPACE, budget=BUDGET, evaluate=_cheap), 2, progress=False)
    assert str(e.value) == ("study 's' lost its storage: connection refused by 10.0.0.5:5432 (is "
                            "the database server running there and listening on that address "
                            "and port?)")
