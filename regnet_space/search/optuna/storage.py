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
import time
from typing import Any, Callable, Mapping, TypeVar

import optuna
from optuna.samplers import BaseSampler
from optuna.trial import FrozenTrial, TrialState

from ...budget import Budget, as_budget, fmt_amount
from ...errors import StorageError, StudyMismatchError
from ...spaces import DesignSpace
from ..registry import INFEASIBLE_ERROR
from .faults import Patience, Reconnect, retrying, tolerate_heartbeat_errors
from .objective import jsonable
from .urls import (URL_HINT, _chain, _check_url, _journal_path, _sqlite_path,
                   explain_storage_error, normalize_storage, rdb_url, redact)

#: Study user attribute holding the sweep's metadata.
META_KEY = "regnet_space"
#: Metadata keys that must match when a sweep resumes an existing study.
CHECKED_KEYS = ("space", "resolution", "in_channels", "num_classes", "block", "stem", "budget",
                "sampler", "seed", "encoding", "data", "settings", "direction")
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


def _is_creation_race(e: BaseException) -> bool:
    """True for the errors of two workers creating the same schema or alembic stamp at once
    (PostgreSQL ``UniqueViolation`` on ``pg_type_typname_nsp_index`` or ``alembic_version``,
    ``DuplicateTable``, SQLite ``UNIQUE constraint failed: alembic_version``)."""
    try:
        import sqlalchemy.exc as sa_exc
        if any(isinstance(x, sa_exc.IntegrityError) for x in _chain(e)):
            return True
    except ImportError:  # pragma: no cover
        pass
    text = " ".join(str(x) for x in _chain(e)).lower()
    # "database is locked" is no race: another process holds the SQLite file (a Reconnect says
    # so and waits, for a bounded time); creation itself runs under _creation_lock
    return any(s in text for s in ("already exists", "duplicate key", "unique constraint",
                                   "uniqueviolation", "deadlock detected"))


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
                 retry: int | None = 3, create: bool = True,
                 patience: Patience | None = None) -> optuna.storages.BaseStorage:
    """Open (or create) an Optuna storage with dead-worker recovery.

    With ``patience`` (:class:`~regnet_space.search.optuna.faults.Patience`) a database that is
    down or restarting, or a SQLite file locked by another process, is retried with backoff and
    a line per retry ("waiting for a lock held by another process on FILE") for up to
    ``patience.timeout`` seconds; without it the first failure is the error.

    With ``create=False`` (what read-only commands such as ``export`` use) a SQLite or journal
    file that does not exist is a :class:`StorageError`, and no file is created.

    * ``sqlite:///file.db``, ``postgresql://...``, ``mysql://...``: :class:`RDBStorage` with a
      heartbeat every ``heartbeat`` seconds; a RUNNING trial whose heartbeat is older than
      ``grace`` (default 4 x heartbeat) is failed and retried with the same parameters (at most
      ``retry`` times). One SQLite statement waits up to 60 s on a locked database, or
      :data:`SQLITE_BUSY_S` seconds with ``patience`` (which then retries and says so). PostgreSQL connects with psycopg2 unless the
      URL names another driver (see :func:`rdb_url`); pooled connections are checked before use
      (``pool_pre_ping``), so one the server or a firewall dropped during a long trial is replaced.
    * ``grpc://host:port``: Optuna's :class:`~optuna.storages.GrpcStorageProxy`, in front of an
      RDB storage served by ``regnet-space storage-proxy`` (hundreds of workers; see
      :mod:`regnet_space.search.optuna.proxy`).
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
    if url.lower().startswith("grpc://"):
        from .proxy import open_grpc
        return open_grpc(url, patience)
    if url in ("memory", ":memory:", "inmemory"):
        return optuna.storages.InMemoryStorage()
    jpath = _journal_path(url)
    if jpath is not None:
        if not jpath:
            raise StorageError(f"storage {redact(url)!r} names no file; {URL_HINT}")
        if "://" in jpath:  # journal:postgresql://user:password@host/db
            raise StorageError(f"storage {redact(url)!r}: journal: takes a file path, not a "
                               "database URL; give the database URL itself as --storage")
        folder = os.path.dirname(os.path.abspath(jpath))
        if not os.path.isdir(folder):
            raise StorageError(f"storage {redact(url)!r}: folder {redact(folder)} does not exist")
        _check_existing(jpath, url, create)
        from optuna.storages.journal import JournalFileBackend
        try:
            return optuna.storages.JournalStorage(JournalFileBackend(jpath))
        except OSError as e:
            raise StorageError(f"cannot open storage {redact(url)!r}: {e.strerror or e}") \
                from None
        except (UnicodeDecodeError, ValueError, KeyError, TypeError, AttributeError):
            # a binary file, a JSON log of something else, a damaged line: replaying it fails
            raise StorageError(f"storage {redact(url)!r} is not an Optuna journal file (it "
                               "cannot be read as one); check the path") from None
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
        _check_existing(path, url, create)
        # with patience a short wait per statement, so the worker says soon what it waits for
        engine_kwargs["connect_args"] = {"timeout": SQLITE_BUSY_S if patience else 60}
    else:
        _check_url(db_url, url)
        engine_kwargs["pool_pre_ping"] = True
    kw: dict[str, Any] = {}
    if heartbeat:
        kw = dict(heartbeat_interval=int(heartbeat), grace_period=int(grace or 4 * heartbeat))
        kw[_STALE_CALLBACK_ARG] = _retry_callback(retry)
    try:
        waiting = None if patience is None else Reconnect(
            patience, db_url, f"storage {redact(url)!r}", refused=False)
        with _creation_lock(path), _quiet():
            storage = retrying(lambda: _retry_races(
                lambda: optuna.storages.RDBStorage(db_url, engine_kwargs=engine_kwargs, **kw)),
                waiting)
        tolerate_heartbeat_errors(storage)
        return storage
    except StorageError:
        raise
    except Exception as e:  # sqlalchemy's and the driver's errors: one line, what went wrong
        raise StorageError(explain_storage_error(e, url)) from None


def _check_existing(path: str, url: str, create: bool) -> None:
    """A storage file that must exist (read-only use) or must at least be a file."""
    if os.path.isdir(path):
        raise StorageError(f"storage {redact(url)!r} is a folder; name a file")
    if not create and not os.path.isfile(path):
        raise StorageError(f"storage {redact(url)!r} does not exist (nothing to read; check "
                           "the path, or run `regnet-space sweep` first)")


#: Seconds one SQLite statement waits for another process's lock before "database is locked";
#: short, so a worker says at once what it waits for (:class:`~.faults.Reconnect`).
SQLITE_BUSY_S = 5

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
        "settings": settings, "direction": "minimize", "objective": "top-1 error (fraction) on the held-out split: validation when the recipe has one, else test",
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
               create: bool = True, patience: Patience | None = None) -> optuna.Study:
    """Create the study or load it and check its metadata; safe for simultaneous workers.

    Any number of workers may call this at the same moment: the one whose ``create_study`` wins
    stores ``meta``; the others get Optuna's ``DuplicatedStudyError``, load the study instead,
    wait (up to :data:`META_WAIT_S`) for the winner's metadata and check it against theirs. A
    study whose stored metadata differs from ``meta`` in any of :data:`CHECKED_KEYS` raises
    :class:`StudyMismatchError` naming the differences; the study is left untouched. With
    ``create=False`` an unknown study raises :class:`StorageError` listing the studies in the
    storage. A database error is one :class:`StorageError` line saying what went wrong; with
    ``patience`` a locked or restarting database is waited for first (as in :func:`open_storage`).

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
        url = storage_url(storage)
        waiting = None if patience is None else Reconnect(patience, url, f"study {name!r}")
        return retrying(lambda: _open_study(storage, name, meta, sampler, pruner=pruner,
                                            create=create), waiting)
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
