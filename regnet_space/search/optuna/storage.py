"""Optuna storages and studies for sweeps: open any storage URL, create or resume a study safely.

* :func:`open_storage`: ``sqlite:///file.db`` (the default, in the working directory),
  ``postgresql://...`` (many machines; see docs/multi-machine.md), ``journal:path`` (a file
  journal), ``memory``.
* :func:`open_study`: create the study once, or load it and check that it was made for the same
  space, budget and recipe (:class:`~regnet_space.errors.StudyMismatchError`). Any number of
  workers may call both at the same moment on a storage that does not exist yet.
* :func:`redact`: every storage URL this package prints or puts in a message goes through it.

Example:
    >>> storage = open_storage("memory")
    >>> open_study(storage, "demo", {"space": "regnetx"}).user_attrs[META_KEY]
    {'space': 'regnetx'}
    >>> open_study(storage, "demo", {"space": "anynetx_a"})
    Traceback (most recent call last):
    ...
    regnet_space.errors.StudyMismatchError: study 'demo' was created with other settings (space: ...
"""

from __future__ import annotations

import contextlib
import inspect
import os
import random
import re
import time
from typing import Any, Callable, Mapping, TypeVar

import optuna
from optuna.samplers import BaseSampler
from optuna.trial import FrozenTrial, TrialState

from ...budget import Budget, as_budget, fmt_amount
from ...errors import StorageError, StudyMismatchError
from ...spaces import DesignSpace
from ..registry import INFEASIBLE_ERROR
from .objective import jsonable

#: Study user attribute holding the sweep's metadata.
META_KEY = "regnet_space"
#: Metadata keys that must match when a sweep resumes an existing study.
CHECKED_KEYS = ("space", "resolution", "in_channels", "num_classes", "block", "stem", "budget",
                "sampler", "seed", "encoding", "data", "settings", "direction")
#: What --storage accepts; appended to a message only when the URL itself could not be read.
URL_HINT = "use sqlite:///file.db, postgresql://user:password@host[:port]/db, or journal:path"
#: Seconds a worker that lost the race to create a study waits for the winner's metadata.
META_WAIT_S = 5.0
#: Attempts at creating the schema while other workers create it too (see _retry_races).
RACE_ATTEMPTS = 12

T = TypeVar("T")


@contextlib.contextmanager
def _quiet():
    """Silence Optuna's ExperimentalWarning (heartbeat, fail_stale_trials, GP, QMC)."""
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        warnings.simplefilter("ignore", FutureWarning)
        yield


# ------------------------------------------------------------------------------ URLs
_URL_RE = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*://[^\s'\"<>]*")
_KV_PASSWORD_RE = re.compile(r"(?i)\b(password\s*=\s*)('[^']*'|[^\s&;,)]+)")


def _redact_url(m: re.Match) -> str:
    scheme, rest = m.group(0).split("://", 1)
    # The last "@" ends the user info even when a password holds an unescaped "@" or "/":
    # redacting too much (a query holding "@") is harmless, too little is not.
    at = rest.rfind("@")
    if at > 0:
        userinfo = rest[:at]
        colon = userinfo.find(":")
        if colon >= 0 and "/" not in userinfo[:colon]:
            rest = f"{userinfo[:colon]}:***{rest[at:]}"
    rest = re.sub(r"(?i)([?&;]password=)[^&;]*", r"\1***", rest)
    return f"{scheme}://{rest}"


def redact(url: str) -> str:
    """The storage URL (or any text holding URLs) with passwords replaced by ``***``.

    Covers ``user:password@`` in any ``scheme://`` URL (also an unescaped ``@`` in the password),
    ``?password=`` query parameters and libpq ``password=...`` settings.

    Example:
        >>> redact("postgresql://alice:s3cret@db.example.org:5432/studies")
        'postgresql://alice:***@db.example.org:5432/studies'
        >>> redact("cannot open postgresql+psycopg2://bob:p@ss/w@host/db?sslmode=require")
        'cannot open postgresql+psycopg2://bob:***@host/db?sslmode=require'
        >>> redact("sqlite:///runs/regnet-space.db")
        'sqlite:///runs/regnet-space.db'
    """
    text = _URL_RE.sub(_redact_url, str(url))
    return _KV_PASSWORD_RE.sub(r"\1***", text)


def _scrub(text: str, url: str | None) -> str:
    """``text`` with URLs redacted and the literal password of ``url`` (as written and decoded)
    removed wherever a driver or SQLAlchemy repeated it."""
    text = redact(text)
    for secret in _passwords(url):
        if len(secret) >= 3:  # shorter ones would garble the message; redact() caught URLs
            text = text.replace(secret, "***")
    return text


def _passwords(url: str | None) -> list[str]:
    if not url or "://" not in url:
        return []
    out = []
    rest = url.split("://", 1)[1]
    at = rest.rfind("@")
    if at > 0 and ":" in rest[:at]:
        out.append(rest[:at].split(":", 1)[1])
    out += re.findall(r"(?i)[?&;]password=([^&;]*)", rest)
    from urllib.parse import unquote
    return [p for s in out for p in {s, unquote(s)} if p]


def normalize_storage(url: str) -> str:
    """Plain ``*.db``/``*.sqlite`` paths become ``sqlite:///path``; everything else is kept.

    Example:
        >>> normalize_storage("runs/sweep.db")
        'sqlite:///runs/sweep.db'
    """
    url = str(url).strip()
    if not url:
        raise StorageError(f"empty --storage: {URL_HINT}")
    if "://" not in url and not url.startswith("journal:") and \
            url.lower().endswith((".db", ".sqlite", ".sqlite3")):
        return f"sqlite:///{url}"
    return url


def rdb_url(url: str) -> str:
    """The SQLAlchemy URL :func:`open_storage` connects with: a PostgreSQL URL that names no
    driver (``postgresql://`` or ``postgres://``) gets ``+psycopg2``; any other URL is kept.

    Why: SQLAlchemy 2.1 connects a bare ``postgresql://`` with psycopg (version 3), while this
    package installs psycopg2-binary (the ``all`` extra), so a bare URL would fail with "Failed to
    import DB access module"; and ``postgres://`` (Heroku style) is no SQLAlchemy dialect at all.
    Naming the driver also keeps every machine of a sweep on the same one. A driver the user names
    (``postgresql+psycopg://``, ``postgresql+pg8000://``) is kept as given.

    Example:
        >>> rdb_url("postgres://alice@db.example.org/studies")
        'postgresql+psycopg2://alice@db.example.org/studies'
        >>> rdb_url("postgresql+psycopg://alice@db.example.org/studies")
        'postgresql+psycopg://alice@db.example.org/studies'
    """
    url = normalize_storage(url)
    if "://" not in url:
        return url
    scheme, rest = url.split("://", 1)
    if scheme.lower() in ("postgresql", "postgres"):
        return f"postgresql+psycopg2://{rest}"
    if scheme.lower().startswith("postgres+"):
        return f"postgresql+{scheme.split('+', 1)[1]}://{rest}"
    return url


def _sqlite_path(url: str) -> str | None:
    if url.startswith("sqlite:///"):
        path = url[len("sqlite:///"):].split("?", 1)[0]
        return None if path in ("", ":memory:") else path
    return None


def _journal_path(url: str) -> str | None:
    if url.startswith("journal:"):
        path = url[len("journal:"):]
        return path[2:] if path.startswith("//") else path
    if "://" not in url and url.lower().endswith((".journal", ".log")):
        return url
    return None


# ------------------------------------------------------------------------------ errors
def _chain(e: BaseException) -> list[BaseException]:
    """``e``, the driver error SQLAlchemy wraps (``.orig``) and the causes, without repeats."""
    out: list[BaseException] = []
    todo: list[BaseException | None] = [e]
    while todo:
        x = todo.pop(0)
        if x is None or any(x is y for y in out):
            continue
        out.append(x)
        todo += [getattr(x, "orig", None), x.__cause__, x.__context__]
    return out


def _driver_text(e: BaseException) -> str:
    """The most specific message in the chain: the DB-API driver's own, if any."""
    chain = _chain(e)
    orig = [x for x in chain if type(x).__module__.split(".")[0] in ("psycopg2", "psycopg",
                                                                      "sqlite3", "pymysql",
                                                                      "MySQLdb", "pg8000")]
    best = orig[0] if orig else chain[0]
    if not str(best) and len(chain) > 1:
        best = chain[1]
    text = " ".join(str(best).split())
    text = re.sub(r"\(Background on this error.*$", "", text).strip()
    text = re.sub(r"^\([\w.]+\)\s*", "", text)  # "(psycopg2.OperationalError) ..."
    return text or type(best).__name__


def explain_storage_error(e: BaseException, url: str | None,
                          doing: str = "cannot open storage") -> str:
    """One line saying what went wrong when opening or using the storage ``url`` (password
    redacted): connection refused, authentication failed, unknown database or host, driver
    missing, ... The URL-format hint is added only when the URL itself could not be read.
    ``doing`` starts the line.

    Example:
        >>> explain_storage_error(ImportError("No module named 'psycopg2'", name="psycopg2"),
        ...                       "postgresql://alice:s3cret@db/x")  # doctest: +ELLIPSIS
        "cannot open storage 'postgresql://alice:***@db/x': the database driver psycopg2 is not ..."
    """
    where = f"{doing} {redact(url)!r}" if url else doing
    chain = _chain(e)
    imports = [x for x in chain if isinstance(x, ImportError)]
    # Optuna wraps the ModuleNotFoundError (which names the module) in an ImportError of its own
    named = [x for x in imports if getattr(x, "name", None)]
    missing = (named or imports or [None])[0]
    if missing is not None:
        name = getattr(missing, "name", None)
        if not name:
            found = re.search(r"No module named '([\w.]+)'", str(missing))
            name = found.group(1) if found else None
        name = (name or "the driver").split(".")[0]
        pip = {"psycopg2": "psycopg2-binary", "psycopg": "'psycopg[binary]'",
               "MySQLdb": "mysqlclient"}.get(name, name)
        other = ("e.g. postgresql+psycopg2://" if str(url).lower().startswith("postgres")
                 else "dialect+driver://")
        return _scrub(f"{where}: the database driver {name} is not installed; pip install {pip} "
                      f"(or name an installed driver in the URL: {other})", url)
    text = _driver_text(e)
    low = text.lower()
    patterns: list[tuple[str, Callable[[re.Match], str]]] = [
        (r'connection to server at "([^"]+)", port (\d+) failed: connection refused',
         lambda m: f"connection refused by {m.group(1)}:{m.group(2)} (is the database server "
                   f"running there and listening on that address and port?)"),
        (r"connection refused", lambda m: "connection refused (is the database server running "
                                          "and listening on that host and port?)"),
        (r'password authentication failed for user "([^"]+)"',
         lambda m: f"authentication failed for user {m.group(1)!r} (check the user name and "
                   f"password in the URL)"),
        (r'(?:no password supplied|fe_sendauth)',
         lambda m: "the server asks for a password and the URL gives none "
                   "(write it as user:password@host)"),
        (r'no pg_hba\.conf entry for host "([^"]+)"',
         lambda m: f"the server does not accept connections from {m.group(1)} (pg_hba.conf)"),
        (r'database "([^"]+)" does not exist',
         lambda m: f"database {m.group(1)!r} does not exist (create it first: createdb "
                   f"{m.group(1)})"),
        (r'role "([^"]+)" does not exist',
         lambda m: f"database user {m.group(1)!r} does not exist"),
        (r'could not translate host name "([^"]+)"',
         lambda m: f"unknown host {m.group(1)!r}"),
        (r"timeout expired|timed out", lambda m: "the connection timed out (host unreachable "
                                                 "or a firewall in the way?)"),
        (r"unable to open database file",
         lambda m: "unable to open the database file (does the folder exist, is it writable?)"),
        (r"file is not a database", lambda m: "the file is not a SQLite database"),
    ]
    for pattern, say in patterns:
        m = re.search(pattern, text, flags=re.IGNORECASE)
        if m:
            return _scrub(f"{where}: {say(m)}", url)
    unreadable = any(_is_url_problem(x) for x in chain)
    what = text if not unreadable else f"the URL cannot be read ({text})"
    port = re.search(r"invalid literal for int\(\) with base 10: '([^']*)'", text)
    if unreadable and port:
        what = f"the port {port.group(1)!r} is not a number"
    if "can't load plugin" in low:
        what = f"unknown database kind in the URL ({text})"
    return _scrub(f"{where}: {what}", url) + (f"; {URL_HINT}" if unreadable else "")


def _is_url_problem(e: BaseException) -> bool:
    try:
        import sqlalchemy.exc as sa_exc
    except ImportError:  # pragma: no cover - optuna depends on SQLAlchemy
        return False
    return isinstance(e, sa_exc.ArgumentError) or (
        type(e) is ValueError and "invalid literal for int()" in str(e))


def _check_url(url: str, original: str) -> None:
    """Parse ``url`` as SQLAlchemy will, before connecting, so a malformed URL fails with the
    format hint (and an unescaped ``@`` in a password does not become part of the host name,
    which the driver's "unknown host" message would then print)."""
    from sqlalchemy.engine import make_url
    try:
        parsed = make_url(url)
    except Exception as e:
        raise StorageError(explain_storage_error(e, original)) from None
    if parsed.host and "@" in parsed.host:
        raise StorageError(f"cannot open storage {redact(original)!r}: the URL holds more than "
                           f"one '@'; write an '@' inside the password as %40; {URL_HINT}")


def _is_creation_race(e: BaseException) -> bool:
    """True for the errors of two workers creating the same schema or alembic stamp at once
    (PostgreSQL ``UniqueViolation`` on ``pg_type_typname_nsp_index`` or ``alembic_version``,
    ``DuplicateTable``, SQLite ``UNIQUE constraint failed: alembic_version``, a locked file)."""
    try:
        import sqlalchemy.exc as sa_exc
        if any(isinstance(x, sa_exc.IntegrityError) for x in _chain(e)):
            return True
    except ImportError:  # pragma: no cover
        pass
    text = " ".join(str(x) for x in _chain(e)).lower()
    return any(s in text for s in ("already exists", "duplicate key", "unique constraint",
                                   "uniqueviolation", "database is locked", "deadlock detected"))


def _retry_races(fn: Callable[[], T], attempts: int | None = None) -> T:
    """Call ``fn`` again while it fails only because another worker did the same at the same
    moment; the schema statements are transactional and idempotent, so a retry sees the other
    worker's result. Random back-off keeps the racers from meeting again."""
    attempts = RACE_ATTEMPTS if attempts is None else attempts
    for i in range(attempts):
        try:
            return fn()
        except Exception as e:
            if i == attempts - 1 or not _is_creation_race(e):
                raise
            time.sleep(random.uniform(0.05, 0.25) * min(i + 1, 4))
    raise AssertionError("unreachable")  # pragma: no cover


# ------------------------------------------------------------------------------ storage
def open_storage(url: str, *, heartbeat: int | None = 30, grace: int | None = None,
                 retry: int | None = 3) -> optuna.storages.BaseStorage:
    """Open (or create) an Optuna storage with dead-worker recovery.

    * ``sqlite:///file.db``, ``postgresql://...``, ``mysql://...``: :class:`RDBStorage` with a
      heartbeat every ``heartbeat`` seconds; a RUNNING trial whose heartbeat is older than
      ``grace`` (default 4 x heartbeat) is failed and retried with the same parameters (at most
      ``retry`` times). SQLite waits up to 60 s on a locked database. PostgreSQL connects with
      psycopg2 unless the URL names another driver (see :func:`rdb_url`).
    * ``journal:path`` or a path ending in ``.journal``/``.log``: ``JournalStorage`` on a
      ``JournalFileBackend`` (file locks; several processes on one machine or a shared file
      system).
    * ``memory`` / ``:memory:``: in-memory (one process, nothing persists).

    Any number of workers may open one new storage at the same moment: the schema is created
    under a file lock (SQLite) or retried when another worker created it first (PostgreSQL,
    MySQL). Errors are one :class:`StorageError` line saying what went wrong, password redacted.

    Example:
        >>> open_storage("memory").get_all_studies()
        []
        >>> open_storage("postgres://u:pw1@h:x/d")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        regnet_space.errors.StorageError: cannot open storage 'postgres://u:***@h:x/d': the port ...
    """
    url = normalize_storage(url)
    if url in ("memory", ":memory:", "inmemory"):
        return optuna.storages.InMemoryStorage()
    jpath = _journal_path(url)
    if jpath is not None:
        if not jpath:
            raise StorageError(f"storage {redact(url)!r} names no file; {URL_HINT}")
        folder = os.path.dirname(os.path.abspath(jpath))
        if not os.path.isdir(folder):
            raise StorageError(f"storage {redact(url)!r}: folder {folder} does not exist")
        from optuna.storages.journal import JournalFileBackend
        try:
            return optuna.storages.JournalStorage(JournalFileBackend(jpath))
        except OSError as e:
            raise StorageError(f"cannot open storage {redact(url)!r}: {e.strerror or e}") \
                from None
    if "://" not in url:
        raise StorageError(f"cannot read storage {redact(url)!r}; {URL_HINT}")
    scheme = url.split("://", 1)[0].split("+", 1)[0].lower()
    if scheme not in ("sqlite", "postgresql", "postgres", "mysql", "mariadb", "oracle", "mssql"):
        raise StorageError(f"unsupported storage scheme {scheme!r} in {redact(url)!r}; "
                           f"{URL_HINT}")
    db_url = rdb_url(url)
    engine_kwargs: dict[str, Any] = {}
    path = _sqlite_path(db_url)
    if scheme == "sqlite":
        if path is None:
            raise StorageError(f"storage {redact(url)!r}: give a file (sqlite:///file.db) or "
                               f"use memory")
        folder = os.path.dirname(os.path.abspath(path))
        if not os.path.isdir(folder):
            raise StorageError(f"storage {redact(url)!r}: folder {folder} does not exist")
        engine_kwargs["connect_args"] = {"timeout": 60}
    else:
        _check_url(db_url, url)
        engine_kwargs["pool_pre_ping"] = True
    kw: dict[str, Any] = {}
    if heartbeat:
        kw = dict(heartbeat_interval=int(heartbeat), grace_period=int(grace or 4 * heartbeat))
        kw[_STALE_CALLBACK_ARG] = _retry_callback(retry)
    try:
        with _creation_lock(path), _quiet():
            return _retry_races(
                lambda: optuna.storages.RDBStorage(db_url, engine_kwargs=engine_kwargs, **kw))
    except Exception as e:  # sqlalchemy's and the driver's errors: one line, what went wrong
        raise StorageError(explain_storage_error(e, url)) from None


# Optuna 4.9 renamed RDBStorage's failed_trial_callback (the project supports optuna >= 4.0).
_STALE_CALLBACK_ARG = ("heartbeat_stale_trial_callback"
                       if "heartbeat_stale_trial_callback"
                       in inspect.signature(optuna.storages.RDBStorage).parameters
                       else "failed_trial_callback")


class _creation_lock:
    """An exclusive file lock next to a SQLite file while the schema/study is created (several
    processes on one NEW SQLite file otherwise race on ``alembic_version``)."""

    def __init__(self, path: str | None):
        self.path = None if path is None else f"{path}.lock"
        self.fh = None

    def __enter__(self):
        if self.path is not None:
            try:
                import fcntl
                self.fh = open(self.path, "a")
                fcntl.flock(self.fh, fcntl.LOCK_EX)
            except (ImportError, OSError):  # no flock (e.g. some network file systems)
                self.fh = None              # _retry_races still covers the race
        return self

    def __exit__(self, *exc):
        if self.fh is not None:
            import fcntl
            fcntl.flock(self.fh, fcntl.LOCK_UN)
            self.fh.close()
        return False


def storage_of(study: optuna.Study) -> optuna.storages.BaseStorage:
    """The storage a study lives in.

    Optuna has no public accessor for it (``Study._storage`` is private); this is the one place
    the package reads it, so an Optuna upgrade that renames it breaks here only.

    Example:
        >>> study = optuna.create_study()
        >>> type(storage_of(study)).__name__
        'InMemoryStorage'
    """
    return study._storage


def storage_url(storage: optuna.storages.BaseStorage) -> str | None:
    """The URL of a storage :func:`open_storage` made (``RDBStorage.url``); ``None`` for
    journal and in-memory storages and for the cache Optuna wraps around an RDBStorage in a
    study."""
    url = getattr(storage, "url", None)
    return url if isinstance(url, str) else None


def has_native_heartbeat(storage: optuna.storages.BaseStorage) -> bool:
    """True when Optuna records heartbeats for this storage (an RDB storage opened with a
    heartbeat); journal and in-memory storages have none."""
    get = getattr(storage, "get_heartbeat_interval", None)
    return callable(get) and get() is not None


def _retry_callback(max_retry: int | None):
    """Re-enqueue a dead worker's trial with the same parameters, with Optuna's conventions
    (system attrs ``failed_trial``, ``retry_history``, as
    :class:`optuna.storages.RetryHeartbeatStaleTrialCallback`), at most ``max_retry`` times.

    Not Optuna's callback itself: it copies the dead trial's user attributes, and the copied
    ``worker`` id and ``heartbeat`` would make the retry look dead to other workers the moment
    it is popped, so they would fail it again. The retry gets only ``retry_of``.
    """

    def retry(study: optuna.Study, trial: FrozenTrial) -> None:
        history = list(trial.system_attrs.get("retry_history", [])) + [trial.number]
        if max_retry is not None and len(history) > max_retry:
            return
        for t in study.get_trials(deepcopy=False, states=(TrialState.WAITING, TrialState.RUNNING,
                                                          TrialState.COMPLETE, TrialState.PRUNED)):
            if trial.number in t.system_attrs.get("retry_history", []):
                return  # someone retried it already
        system_attrs = {k: v for k, v in trial.system_attrs.items()
                        if not k.startswith("constraints")}
        system_attrs.update(failed_trial=history[0], retry_history=history)
        study.add_trial(optuna.trial.create_trial(
            state=TrialState.WAITING, params=trial.params, distributions=trial.distributions,
            user_attrs={"retry_of": trial.number}, system_attrs=system_attrs))

    return retry


def _with_lock(storage: optuna.storages.BaseStorage):
    url = storage_url(storage)
    return _creation_lock(_sqlite_path(url) if url else None)


# ------------------------------------------------------------------------------ studies
def default_study_name(space: DesignSpace, budget: Budget | Any = None) -> str:
    """e.g. ``regnetx-28px-flops-5.0M-20.0M`` (the space, its resolution and the budget).

    Example:
        >>> from regnet_space.spaces import get_space
        >>> default_study_name(get_space("regnetx", resolution=28), "5M:20M")
        'regnetx-28px-flops-5.0M-20.0M'
    """
    budget = as_budget(budget)
    parts = [space.name, f"{space.resolution}px"]
    for name, (lo, hi) in budget.items():
        parts.append(f"{name}-{fmt_amount(lo) if lo is not None else '0'}-"
                     f"{fmt_amount(hi) if hi is not None else 'inf'}")
    return "-".join(parts)


def study_meta(space: DesignSpace, budget: Budget | Any, sampler: str, seed: int | None,
               data: Any = None, settings: Any = None, encoding: str = "feasible") -> dict:
    """The sweep metadata stored as the study user attribute ``regnet_space``."""
    budget = as_budget(budget)
    return jsonable({
        "space": space.name, "resolution": space.resolution, "in_channels": space.in_channels,
        "num_classes": space.num_classes, "block": space.block, "stem": space.stem,
        "budget": budget.to_dict(), "sampler": sampler, "seed": seed, "encoding": encoding,
        "data": data,
        "settings": settings, "direction": "minimize", "objective": "test top-1 error (fraction)",
        "infeasible_value": INFEASIBLE_ERROR,
    })


def _meta_diff(stored: Mapping[str, Any], asked: Mapping[str, Any]) -> list[str]:
    out = []
    for k in CHECKED_KEYS:
        a, b = jsonable(stored.get(k)), jsonable(asked.get(k))
        if a == b:
            continue
        if isinstance(a, dict) and isinstance(b, dict):
            out += [f"{k}.{kk}: stored {a.get(kk)!r}, asked {b.get(kk)!r}"
                    for kk in sorted(set(a) | set(b)) if a.get(kk) != b.get(kk)]
        else:
            out.append(f"{k}: stored {a!r}, asked {b!r}")
    return out


def study_names(storage: optuna.storages.BaseStorage) -> list[str]:
    """The names of the studies in a storage.

    Example:
        >>> study_names(open_storage("memory"))
        []
    """
    return [s.study_name for s in optuna.get_all_study_summaries(storage, include_best_trial=False)]


def _study_exists(storage: optuna.storages.BaseStorage, name: str) -> bool:
    try:
        storage.get_study_id_from_name(name)
    except KeyError:
        return False
    return True


def open_study(storage: optuna.storages.BaseStorage, name: str, meta: Mapping[str, Any] | None,
               sampler: BaseSampler | None = None, *, pruner: Any = None,
               create: bool = True) -> optuna.Study:
    """Create the study or load it and check its metadata; safe for simultaneous workers.

    Any number of workers may call this at the same moment: the one whose ``create_study`` wins
    stores ``meta``; the others get Optuna's ``DuplicatedStudyError``, load the study instead,
    wait (up to :data:`META_WAIT_S`) for the winner's metadata and check it against theirs. A
    study whose stored metadata differs from ``meta`` in any of :data:`CHECKED_KEYS` raises
    :class:`StudyMismatchError` naming the differences; the study is left untouched. With
    ``create=False`` an unknown study raises :class:`StorageError` listing the studies in the
    storage. A database error is one :class:`StorageError` line saying what went wrong.

    Example:
        >>> storage = open_storage("memory")
        >>> open_study(storage, "s", {"space": "regnetx"}).study_name
        's'
        >>> open_study(storage, "t", None, create=False)
        Traceback (most recent call last):
        ...
        regnet_space.errors.StorageError: no study 't' in this storage; studies: s
    """
    if isinstance(storage, str):
        storage = open_storage(storage)
    try:
        return _open_study(storage, name, meta, sampler, pruner=pruner, create=create)
    except (StorageError, KeyboardInterrupt):
        raise
    except Exception as e:
        if not _is_database_error(e):
            raise
        raise StorageError(explain_storage_error(e, storage_url(storage),
                                                 doing="storage")) from None


def _is_database_error(e: BaseException) -> bool:
    import sqlalchemy.exc as sa_exc
    return any(isinstance(x, (sa_exc.SQLAlchemyError, optuna.exceptions.StorageInternalError))
               for x in _chain(e))


def _open_study(storage, name, meta, sampler, *, pruner, create) -> optuna.Study:
    with _with_lock(storage):  # SQLite: creation and metadata in one step for every process
        if not _study_exists(storage, name):
            if not create:
                names = study_names(storage)
                listing = ", ".join(names) if names else "none"
                raise StorageError(f"no study {name!r} in this storage; studies: {listing}")
            try:
                with _quiet():
                    study = optuna.create_study(storage=storage, study_name=name,
                                                sampler=sampler, pruner=pruner,
                                                direction="minimize")
            except optuna.exceptions.DuplicatedStudyError:
                pass  # another worker created it a moment ago: load it and check it below
            else:
                if meta is not None:
                    study.set_user_attr(META_KEY, dict(meta))
                return study
    study = optuna.load_study(study_name=name, storage=storage, sampler=sampler, pruner=pruner)
    if meta is None:
        return study
    stored = study.user_attrs.get(META_KEY)
    deadline = time.monotonic() + META_WAIT_S
    while stored is None and time.monotonic() < deadline and not study.get_trials(deepcopy=False):
        # the creator stores its metadata right after create_study; adopting the study before
        # that would let two workers with different settings share it
        time.sleep(0.05)
        stored = study.user_attrs.get(META_KEY)
    if stored is None:
        if study.get_trials(deepcopy=False):
            raise StudyMismatchError(f"study {name!r} exists but was not created by "
                                     f"regnet-space sweep; choose another --study name")
        study.set_user_attr(META_KEY, dict(meta))  # an empty study nobody claimed: adopt it
        return study
    diff = _meta_diff(stored, meta)
    if diff:
        raise StudyMismatchError(
            f"study {name!r} was created with other settings ({'; '.join(diff)}); "
            f"rerun with the stored settings or choose another --study name")
    return study
