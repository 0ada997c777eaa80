"""Optuna storages and studies for sweeps: open any storage URL, create or resume a study safely.

* :func:`open_storage`: ``sqlite:///file.db`` (the default, in the working directory),
  ``postgresql://...`` (many machines), ``journal:path`` (a file journal), ``memory``.
* :func:`open_study`: create the study once (race-free), or load it and check that it was made
  for the same space, budget and recipe (:class:`~regnet_space.errors.StudyMismatchError`).
"""

from __future__ import annotations

import contextlib
import os
import re
from typing import Any, Mapping

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
                "sampler", "seed", "data", "settings", "direction")


@contextlib.contextmanager
def _quiet():
    """Silence Optuna's ExperimentalWarning (heartbeat, fail_stale_trials, GP, QMC)."""
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        warnings.simplefilter("ignore", FutureWarning)
        yield



# ------------------------------------------------------------------------------ storage
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


def redact(url: str) -> str:
    """The storage URL with its password replaced by ``***`` (for messages and logs).

    Example:
        >>> redact("postgresql://alice:s3cret@db.example.org:5432/studies")
        'postgresql://alice:***@db.example.org:5432/studies'
    """
    return re.sub(r"(://[^/:@]*):([^@/]*)@", r"\1:***@", str(url))


def normalize_storage(url: str) -> str:
    """Plain ``*.db``/``*.sqlite`` paths become ``sqlite:///path``; everything else is kept."""
    url = str(url).strip()
    if not url:
        raise StorageError("empty --storage: use sqlite:///file.db, postgresql://user@host/db "
                         "or journal:path")
    if "://" not in url and not url.startswith("journal:") and \
            url.lower().endswith((".db", ".sqlite", ".sqlite3")):
        return f"sqlite:///{url}"
    return url


def open_storage(url: str, *, heartbeat: int | None = 30, grace: int | None = None,
                 retry: int | None = 3) -> optuna.storages.BaseStorage:
    """Open (or create) an Optuna storage with dead-worker recovery.

    * ``sqlite:///file.db``, ``postgresql://...``, ``mysql://...``: :class:`RDBStorage` with a
      heartbeat every ``heartbeat`` seconds; a RUNNING trial whose heartbeat is older than
      ``grace`` (default 4 x heartbeat) is failed and retried with the same parameters (at most
      ``retry`` times). SQLite waits up to 60 s on a locked database.
    * ``journal:path`` or a path ending in ``.journal``/``.log``: ``JournalStorage`` on a
      ``JournalFileBackend`` (file locks; several processes on one machine or a shared file
      system).
    * ``memory`` / ``:memory:``: in-memory (one process, nothing persists).

    Any bad URL gives one StorageError saying what is accepted.
    """
    url = normalize_storage(url)
    accepted = "use sqlite:///file.db, postgresql://user:password@host/db, or journal:path"
    if url in ("memory", ":memory:", "inmemory"):
        return optuna.storages.InMemoryStorage()
    jpath = _journal_path(url)
    if jpath is not None:
        if not jpath:
            raise StorageError(f"storage {url!r} names no file; {accepted}")
        folder = os.path.dirname(os.path.abspath(jpath))
        if not os.path.isdir(folder):
            raise StorageError(f"storage {url!r}: folder {folder} does not exist")
        from optuna.storages.journal import JournalFileBackend
        return optuna.storages.JournalStorage(JournalFileBackend(jpath))
    if "://" not in url:
        raise StorageError(f"cannot read storage {url!r}; {accepted}")
    scheme = url.split("://", 1)[0].split("+", 1)[0].lower()
    if scheme not in ("sqlite", "postgresql", "postgres", "mysql", "mariadb", "oracle", "mssql"):
        raise StorageError(f"unsupported storage scheme {scheme!r} in {url!r}; {accepted}")
    if scheme == "postgres":
        url = "postgresql" + url[len("postgres"):]
    engine_kwargs: dict[str, Any] = {}
    path = _sqlite_path(url)
    if scheme == "sqlite":
        if path is None:
            raise StorageError(f"storage {url!r}: give a file (sqlite:///file.db) or use memory")
        folder = os.path.dirname(os.path.abspath(path))
        if not os.path.isdir(folder):
            raise StorageError(f"storage {url!r}: folder {folder} does not exist")
        engine_kwargs["connect_args"] = {"timeout": 60}
    else:
        engine_kwargs["pool_pre_ping"] = True
    kw: dict[str, Any] = {}
    if heartbeat:
        kw = dict(heartbeat_interval=int(heartbeat), grace_period=int(grace or 4 * heartbeat),
                  heartbeat_stale_trial_callback=_retry_callback(retry))
    try:
        with _creation_lock(path), _quiet():
            return optuna.storages.RDBStorage(url, engine_kwargs=engine_kwargs, **kw)
    except ImportError as e:
        raise StorageError(f"storage {url!r} needs a database driver that is not installed "
                         f"({e.name or e}); e.g. pip install psycopg2-binary") from None
    except Exception as e:  # sqlalchemy's errors: one line, with what to do
        msg = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise StorageError(f"cannot open storage {url!r}: {msg}; {accepted}") from None


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
            except (ImportError, OSError):
                self.fh = None
        return self

    def __exit__(self, *exc):
        if self.fh is not None:
            import fcntl
            fcntl.flock(self.fh, fcntl.LOCK_UN)
            self.fh.close()
        return False


def _retry_callback(max_retry: int | None):
    """Re-enqueue a dead worker's trial with the same parameters (Optuna's
    RetryHeartbeatStaleTrialCallback conventions: system attrs ``failed_trial``,
    ``retry_history``), without the dead worker's user attributes."""

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
    url = getattr(storage, "url", None)
    return _creation_lock(_sqlite_path(url) if isinstance(url, str) else None)


def default_study_name(space: DesignSpace, budget: Budget | Any = None) -> str:
    """e.g. ``regnetx-28px-flops-5.0M-20.0M`` (the space, its resolution and the budget)."""
    budget = as_budget(budget)
    parts = [space.name, f"{space.resolution}px"]
    for name, (lo, hi) in budget.items():
        parts.append(f"{name}-{fmt_amount(lo) if lo is not None else '0'}-"
                     f"{fmt_amount(hi) if hi is not None else 'inf'}")
    return "-".join(parts)


def study_meta(space: DesignSpace, budget: Budget | Any, sampler: str, seed: int | None,
               data: Any = None, settings: Any = None) -> dict:
    """The sweep metadata stored as the study user attribute ``regnet_space``."""
    budget = as_budget(budget)
    return jsonable({
        "space": space.name, "resolution": space.resolution, "in_channels": space.in_channels,
        "num_classes": space.num_classes, "block": space.block, "stem": space.stem,
        "budget": budget.to_dict(), "sampler": sampler, "seed": seed, "data": data,
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
    return [s.study_name for s in optuna.get_all_study_summaries(storage, include_best_trial=False)]


def open_study(storage: optuna.storages.BaseStorage, name: str, meta: Mapping[str, Any] | None,
               sampler: BaseSampler | None = None, *, pruner: Any = None,
               create: bool = True) -> optuna.Study:
    """Create the study (under a file lock for SQLite) or load it and check its metadata.

    A study whose stored metadata differs from ``meta`` in any of :data:`CHECKED_KEYS` raises
    :class:`StudyMismatchError` naming the differences; the study is left untouched. With
    ``create=False`` an unknown study raises KeyError listing the studies in the storage.
    """
    with _with_lock(storage):
        names = study_names(storage)
        if name not in names:
            if not create:
                listing = ", ".join(names) if names else "none"
                raise StorageError(f"no study {name!r} in this storage; studies: {listing}")
            study = optuna.create_study(storage=storage, study_name=name, sampler=sampler,
                                        pruner=pruner, direction="minimize")
            if meta is not None:
                study.set_user_attr(META_KEY, dict(meta))
            return study
    study = optuna.load_study(study_name=name, storage=storage, sampler=sampler, pruner=pruner)
    if meta is not None:
        stored = study.user_attrs.get(META_KEY)
        if stored is None:
            if study.trials:
                raise StudyMismatchError(f"study {name!r} exists but was not created by "
                                         f"regnet-space sweep; choose another --study name")
            study.set_user_attr(META_KEY, dict(meta))
        else:
            diff = _meta_diff(stored, meta)
            if diff:
                raise StudyMismatchError(
                    f"study {name!r} was created with other settings ({'; '.join(diff)}); "
                    f"rerun with the stored settings or choose another --study name")
    return study
