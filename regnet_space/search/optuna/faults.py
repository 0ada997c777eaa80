"""Faults that clusters produce: a database that goes away and comes back, a locked SQLite file,
SIGTERM at preemption or a time limit.

* :func:`transient`: is a storage error worth waiting out (server restarting, connection dropped,
  a lock held by another process, the gRPC proxy unreachable), and what to call it in a log line.
* :class:`Patience`: how long to keep trying (``--storage-timeout``) and the backoff between tries.
* :class:`Reconnect`: one worker's retry state: a log line per retry, a one-line
  :class:`~regnet_space.errors.StorageError` once the storage has failed for ``timeout`` seconds in
  a row. :func:`retrying` calls a function under it.
* :class:`Terminated` and :func:`terminate_on_sigterm`: SIGTERM raises like Ctrl-C does, so the
  running trial is marked FAIL and re-enqueued (:func:`~regnet_space.search.optuna.run_worker`),
  and the command exits with one line.
* :func:`tolerate_heartbeat_errors`: a heartbeat that cannot be written while the database
  restarts is skipped (the next one is tried), instead of killing Optuna's heartbeat thread.

Example:
    >>> import sqlite3
    >>> transient(sqlite3.OperationalError("database is locked"), "sqlite:///runs/a.db")
    'waiting for a lock held by another process on runs/a.db'
    >>> transient(ValueError("bad value"), None) is None
    True
    >>> transient(FileNotFoundError("No such file: 'a.journal.lock2b1e.rename'"), None)[:26]
    'journal file lock contenti'
    >>> p = Patience(timeout=10, first=1, cap=4)
    >>> [p.delay(k) for k in range(4)]
    [1.0, 2.0, 4.0, 4.0]
"""

from __future__ import annotations

import signal
import sys
import threading
import time
from dataclasses import dataclass
from typing import Callable, TypeVar

from ...errors import StorageError
from .urls import _chain, _driver_text, _sqlite_path, redact

T = TypeVar("T")

#: Driver messages of a database that is restarting, unreachable or dropped the connection.
_UNREACHABLE = ("server closed the connection", "the database system is starting up", "the database system is shutting down",
                "the database system is in recovery mode", "terminating connection",
                "connection reset", "connection already closed", "ssl syscall error",
                "server conn crashed", "lost connection", "too many clients", "broken pipe",
                "could not receive data", "could not send data")
#: ... and of one that is not there: a wrong host or port as likely as a restart, so only a
#: storage that was reached before (``refused=True``) waits these out.
_REFUSED = ("connection refused", "could not connect", "connection timed out",
            "no connection to the server")


def transient(e: BaseException, url: str | None, *, refused: bool = True) -> str | None:
    """What to call ``e`` in a retry line when it is worth waiting out; ``None`` when it is not
    (a wrong password, an unknown database, a bug: retrying would not help). With
    ``refused=False`` a refused or timed-out connection is not worth waiting out either (when
    first opening a storage: a wrong host or port is the likelier cause).

    Example:
        >>> transient(RuntimeError("server closed the connection unexpectedly"), None)
        'storage unreachable (server closed the connection unexpectedly)'
    """
    chain = _chain(e)
    text = " ".join(str(x) for x in chain).lower()
    if "database is locked" in text or "database table is locked" in text:
        path = _sqlite_path(url) if url else None
        return f"waiting for a lock held by another process on {path or 'the SQLite file'}"
    if ".lock" in text and (".rename" in text or "did not possess lock" in text):
        # Optuna's journal file lock raced with another process's release: the write did not
        # happen and can be done again (seen with two Slurm tasks on one journal file)
        return f"journal file lock contention ({_driver_text(e)[:160]})"
    grpc_codes = [getattr(x, "code", None) for x in chain if type(x).__module__.startswith("grpc")]
    unavailable = any(str(c() if callable(c) else c).endswith(("UNAVAILABLE", "DEADLINE_EXCEEDED"))
                      for c in grpc_codes if c is not None)
    if unavailable and not refused:
        return None
    if unavailable or any(s in text for s in _UNREACHABLE) or (
            refused and any(s in text for s in _REFUSED)):
        return f"storage unreachable ({_driver_text(e)[:160]})"
    return None


class StorageCut(BaseException):
    """The storage went away in the middle of a trial. A BaseException, so Optuna does not
    record the trial as FAIL (its objective wrapper catches ``Exception``): the trial stays
    RUNNING, and the worker re-enqueues it once the storage is back."""


def storage_cut(e: BaseException, url: str | None = None) -> bool:
    """True when ``e`` is a database or gRPC error of a storage that went away (not an
    evaluation's own error that happens to mention a connection).

    Example:
        >>> import sqlite3
        >>> storage_cut(sqlite3.OperationalError("database is locked"))
        True
        >>> storage_cut(ConnectionError("connection reset by peer"))   # not from a storage
        False
    """
    why = transient(e, url)
    if why is None:
        return False
    if why.startswith("journal file lock"):
        return True
    roots = ("sqlalchemy", "psycopg2", "psycopg", "sqlite3", "pymysql", "grpc", "optuna")
    return any(type(x).__module__.split(".")[0] in roots or type(x).__name__ == "StorageCut"
               for x in _chain(e))


@dataclass(frozen=True)
class Patience:
    """How long a worker keeps retrying a failing storage: ``timeout`` seconds of failures in a
    row (then a one-line error, exit 2), waiting ``first``, 2 x ``first``, ... up to ``cap``
    seconds between tries.

    Example:
        >>> Patience(timeout=300).delay(10)
        15.0
    """

    timeout: float = 300.0
    first: float = 1.0
    cap: float = 15.0

    def delay(self, attempt: int) -> float:
        """Seconds before retry ``attempt`` (0-based): doubling from ``first``, at most ``cap``."""
        return float(min(self.cap, self.first * 2 ** min(attempt, 30)))


class Reconnect:
    """One worker's retry state for a storage (not shared between workers or threads).

    Call :meth:`failed` with each error: it re-raises what is not :func:`transient`, raises a
    one-line :class:`StorageError` after ``patience.timeout`` seconds of failures in a row, and
    otherwise prints one line and sleeps the backoff. Call :meth:`ok` after a storage call
    succeeds: the next failure starts a new streak.

    Example:
        >>> r = Reconnect(Patience(timeout=0), None, "study 's'", log=lambda line: None)
        >>> r.failed(ConnectionError("connection refused"))
        Traceback (most recent call last):
        ...
        regnet_space.errors.StorageError: study 's' gave up on its storage after 0 s (--storage-timeout 0): storage unreachable (connection refused); the study is intact: rerun the same command to resume
    """

    def __init__(self, patience: Patience, url: str | None, where: str,
                 log: Callable[[str], None] | None = None,
                 sleep: Callable[[float], None] = time.sleep, refused: bool = True,
                 stop: Callable[[], bool] | None = None):
        self.patience, self.url, self.where, self.refused = patience, url, where, refused
        self.stop = stop  # e.g. terminate_on_sigterm().received: SIGTERM ends the waiting
        self.log = log or (lambda line: print(line, file=sys.stderr, flush=True))
        self.sleep = sleep
        self.since: float | None = None
        self.attempt = 0
        self.retries = 0  # in total, for the summary

    def ok(self) -> None:
        self.since, self.attempt = None, 0

    def failed(self, e: BaseException) -> None:
        if self.stop is not None and self.stop():
            raise Terminated("signal SIGTERM") from e
        # a refused connection is waited out once this storage was reached (a restart), not
        # when it never was (``refused=False``: a wrong host or port is the likelier cause)
        why = transient(e, self.url, refused=self.refused or self.since is not None)
        if why is None:
            raise e
        now = time.monotonic()
        if self.since is None:
            self.since = now
        waited = now - self.since
        if waited >= self.patience.timeout:
            raise StorageError(redact(
                f"{self.where} gave up on its storage after {waited:.0f} s (--storage-timeout "
                f"{self.patience.timeout:g}): {why}; the study is intact: rerun the same command "
                f"to resume")) from None
        pause = min(self.patience.delay(self.attempt), self.patience.timeout - waited)
        self.attempt += 1
        self.retries += 1
        self.log(redact(f"{self.where}: {why}; retry {self.attempt} in {pause:.1f} s (giving up "
                        f"{self.patience.timeout - waited:.0f} s from now)"))
        self.sleep(pause)


def retrying(fn: Callable[[], T], reconnect: Reconnect | None) -> T:
    """``fn()``, retried under ``reconnect`` while it fails with a :func:`transient` error.

    Example:
        >>> calls = []
        >>> def flaky():
        ...     calls.append(1)
        ...     if len(calls) < 3:
        ...         raise ConnectionError("the database system is starting up")
        ...     return "ok"
        >>> r = Reconnect(Patience(first=0), None, "x", log=lambda line: None)
        >>> retrying(flaky, r), r.retries
        ('ok', 2)
    """
    while True:
        try:
            out = fn()
        except StorageError:
            raise
        except Exception as e:
            if reconnect is None:
                raise
            reconnect.failed(e)
            continue
        if reconnect is not None:
            reconnect.ok()
        return out


# ------------------------------------------------------------------------------ SIGTERM
class Terminated(KeyboardInterrupt):
    """SIGTERM arrived (preemption, a time limit, ``scancel``, ``kubectl delete``): handled like
    Ctrl-C, so the running trial is marked FAIL and re-enqueued for another worker."""


class terminate_on_sigterm:
    """Within this block SIGTERM raises :class:`Terminated` (in the main thread only; elsewhere
    Python cannot install signal handlers and this does nothing), and :meth:`received` says
    whether it came: a library can swallow the exception (Optuna's journal lock turns one raised
    while it waits into an error of its own), the flag stays.

    Example:
        >>> with terminate_on_sigterm() as term:
        ...     signal.getsignal(signal.SIGTERM) == term._raise, term.received()
        (True, False)
    """

    def __init__(self):
        self.old, self._got = None, False

    def _raise(self, signum, _frame):
        self._got = True
        raise Terminated(f"signal {signal.Signals(signum).name}")

    def received(self) -> bool:
        return self._got

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            self.old = signal.signal(signal.SIGTERM, self._raise)
        return self

    def __exit__(self, *exc):
        if self.old is not None:
            signal.signal(signal.SIGTERM, self.old)
        return False


# ------------------------------------------------------------------------------ heartbeats
def tolerate_heartbeat_errors(storage, log: Callable[[str], None] | None = None) -> None:
    """Make ``storage.record_heartbeat`` skip a beat that fails with a :func:`transient` error
    (the database restarting) instead of raising, which would end Optuna's heartbeat thread and
    let other workers take a healthy trial for dead. A no-op for storages without heartbeats.

    Example:
        >>> class S:
        ...     url = None
        ...     def record_heartbeat(self, trial_id):
        ...         raise ConnectionError("connection refused")
        >>> s = S()
        >>> tolerate_heartbeat_errors(s, log=print)
        >>> s.record_heartbeat(7)
        heartbeat of trial id 7 skipped: storage unreachable (connection refused)
    """
    beat = getattr(storage, "record_heartbeat", None)
    if beat is None or getattr(beat, "_tolerant", False):
        return
    say = log or (lambda line: print(line, file=sys.stderr, flush=True))
    url = getattr(storage, "url", None)

    def record_heartbeat(trial_id: int) -> None:
        try:
            beat(trial_id)
        except Exception as e:
            why = transient(e, url if isinstance(url, str) else None)
            if why is None:
                raise
            say(redact(f"heartbeat of trial id {trial_id} skipped: {why}"))

    record_heartbeat._tolerant = True  # type: ignore[attr-defined]
    storage.record_heartbeat = record_heartbeat
