"""Sweep workers: run trials until a study holds n, recover dead workers' trials, count outcomes.

Example:
    >>> import optuna
    >>> from regnet_space.search.optuna import DesignSpaceSampler, objective
    >>> from regnet_space.spaces import get_space
    >>> space = get_space("anynetx_a", resolution=28, in_channels=1, num_classes=10)
    >>> study = optuna.create_study(sampler=DesignSpaceSampler(space, flops="2M:5M", seed=0))
    >>> fn = objective(space, budget="2M:5M", evaluate=lambda cfg, **kw: 0.25)
    >>> run_worker(study, fn, 3, progress=False)["finished"]
    3
"""

from __future__ import annotations

import os
import socket
import threading
import time
from typing import Callable

import numpy as np
import optuna
from optuna.trial import FrozenTrial, TrialState

from ...errors import ConfigError, RegNetSpaceError, StorageError
from .faults import Reconnect, StorageCut, storage_cut, transient
from .storage import (_is_database_error, _quiet, _retry_callback, explain_storage_error,
                      has_native_heartbeat, storage_of, storage_url)

# ------------------------------------------------------------------------------ workers
def _proc_start(pid: int) -> str | None:
    """The start time of process ``pid``; None when it is gone or a zombie (dead, its parent
    has not collected it yet: a parent waiting on its workers one by one leaves it so)."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
        return None if fields[0] in ("Z", "X") else fields[19]
    except (OSError, IndexError):
        return None


def worker_id() -> str:
    """``host:pid:start``: identifies this process (start time guards against pid reuse)."""
    pid = os.getpid()
    return f"{socket.gethostname()}:{pid}:{_proc_start(pid) or ''}"


def _worker_dead(wid: str) -> bool:
    """True when ``wid`` is a process of this host that is gone (other hosts: unknown, False)."""
    try:
        host, pid_s, start = wid.rsplit(":", 2)
        pid = int(pid_s)
    except ValueError:
        return False
    if host != socket.gethostname():
        return False
    if start:
        now = _proc_start(pid)
        return now is None or now != start
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def _own_heartbeat(study: optuna.Study) -> bool:
    """True when this package must keep the ``heartbeat`` user attribute of running trials:
    Optuna keeps heartbeats only for RDB storages opened with one (journal storages have none);
    an in-memory study has one process, so nobody else would read it."""
    storage = storage_of(study)
    return not has_native_heartbeat(storage) and \
        not isinstance(storage, optuna.storages.InMemoryStorage)


def _fail(study: optuna.Study, number: int) -> FrozenTrial | None:
    """Mark another worker's RUNNING trial FAIL; the trial, or None when someone else finished
    or failed it first (the storage makes the state change atomic, so exactly one caller wins)."""
    try:
        with _quiet():
            return study.tell(number, state=TrialState.FAIL)
    except (optuna.exceptions.UpdateFinishedTrialError, ValueError, RuntimeError):
        return None  # finished meanwhile ("Cannot tell a FAIL trial"), or failed by another
    except Exception as e:
        if _is_database_error(e):
            return None  # a concurrent writer (e.g. SQLite busy): look again next time
        raise


def recover_dead_trials(study: optuna.Study, *, grace: float = 120.0, retry: int | None = 3) -> int:
    """Fail and re-enqueue RUNNING trials whose worker is dead; returns how many this call did.

    A worker of this host is dead when its process is gone (immediate, any storage). Other
    hosts' workers: RDB storages use Optuna's heartbeat (:func:`optuna.storages.fail_stale_trials`,
    which retries through the storage's callback); other storages use the ``heartbeat`` user
    attribute the sweep's workers refresh, stale after ``grace`` seconds. A trial that no worker
    claimed (no ``worker`` attribute) for ``grace`` seconds is dead too: its worker lost the
    storage right after creating it. Several workers may
    recover at the same time: each dead trial is failed and retried once.

    Example:
        >>> import optuna
        >>> study = optuna.create_study()
        >>> trial = study.ask()
        >>> trial.set_user_attr("worker", "this-host-never:999999:1")   # another host: alive
        >>> recover_dead_trials(study)
        0
    """
    with _quiet():
        optuna.storages.fail_stale_trials(study)  # no-op unless the storage keeps heartbeats
    own_beat = _own_heartbeat(study)
    now = time.time()
    recovered = 0
    for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        wid = t.user_attrs.get("worker")
        if wid and wid == worker_id():
            continue
        dead = bool(wid) and _worker_dead(wid)
        if not dead and not wid and t.datetime_start is not None:
            # created but never claimed for longer than the grace: its worker lost the storage
            # between creating the trial and recording itself (no heartbeat either)
            dead = now - t.datetime_start.timestamp() > grace
        if not dead and own_beat:
            beat = t.user_attrs.get("heartbeat")
            if beat is None and t.datetime_start is not None:
                beat = t.datetime_start.timestamp()
            dead = beat is not None and now - float(beat) > grace
        if not dead:
            continue
        failed = _fail(study, t.number)
        if failed is None:
            continue
        _retry_callback(retry)(study, failed)
        recovered += 1
    return recovered


class _Heartbeat:
    """Refresh the trial's ``heartbeat`` user attribute (storages without Optuna's heartbeat,
    such as journal files)."""

    def __init__(self, trial: optuna.trial.Trial, interval: float):
        self.trial, self.interval = trial, interval
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self.stop.wait(self.interval):
            try:
                self.trial.set_user_attr("heartbeat", time.time())
            except Exception:
                return

    def __enter__(self):
        self.trial.set_user_attr("heartbeat", time.time())
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        return False


FINISHED = (TrialState.COMPLETE, TrialState.PRUNED)


def _requeue_interrupted(study: optuna.Study, me: str, retry: int | None) -> None:
    """Enqueue a retry of this worker's trial that Ctrl-C just stopped (Optuna marks it FAIL,
    and nobody would retry it), so the study still gets its configuration. When the interrupt
    landed inside a storage write, Optuna's FAIL may not have been recorded and the trial is
    still RUNNING: it is failed and retried here (seen once with SQLite under heavy load)."""
    if _release_own(study, me, retry):
        return
    mine = [t for t in study.get_trials(deepcopy=False) if t.user_attrs.get("worker") == me]
    if mine:
        last = max(mine, key=lambda t: t.number)
        if last.state == TrialState.FAIL and last.user_attrs.get("status") == "running":
            _retry_callback(retry)(study, last)


def _release_own(study: optuna.Study, me: str, retry: int | None) -> int:
    """After the storage came back: fail and re-enqueue this worker's trials left RUNNING when
    a storage call failed half-way (this worker runs one trial at a time, and none now)."""
    n = 0
    for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        if t.user_attrs.get("worker") == me:
            failed = _fail(study, t.number)
            if failed is not None:
                _retry_callback(retry)(study, failed)
                n += 1
    return n


def _lost_trial(study: optuna.Study, me: str, e: Exception) -> bool:
    """True when ``e`` is Optuna refusing to record this worker's latest trial because another
    worker already failed it as dead ("Cannot tell a FAIL trial", UpdateFinishedTrialError):
    a race between a slow worker and the recovery, not a reason for this worker to die."""
    if not isinstance(e, (optuna.exceptions.UpdateFinishedTrialError, ValueError)):
        return False
    if type(e) is ValueError and "Cannot tell a" not in str(e):
        return False
    if type(e) is ValueError and ("COMPLETE trial" in str(e) or "PRUNED trial" in str(e)):
        # another worker ran and finished this same trial (two workers popped one retried
        # trial while SQLite was locked): the study already holds its one result, so this
        # worker's copy is dropped; nothing is lost or counted twice
        return True
    mine = [t for t in study.get_trials(deepcopy=False) if t.user_attrs.get("worker") == me]
    return bool(mine) and max(mine, key=lambda t: t.number).state == TrialState.FAIL


class TooManyFailures(RegNetSpaceError):
    """A worker stopped after ``max_failures`` failed evaluations (exit code 1, not bad input)."""


def study_summary(study: optuna.Study) -> dict:
    """Counts by outcome: finished (COMPLETE + PRUNED), ok, infeasible, pruned, failed
    (evaluation errors), running, waiting, dead (worker died; retried), surplus, best error."""
    counts = dict(finished=0, ok=0, infeasible=0, pruned=0, failed=0, running=0, waiting=0,
                  dead=0, surplus=0)
    best = None
    for t in study.get_trials(deepcopy=False):
        status = t.user_attrs.get("status")
        if t.state in FINISHED:
            counts["finished"] += 1
            if t.state == TrialState.PRUNED:
                counts["pruned"] += 1
            elif status == "infeasible":
                counts["infeasible"] += 1
            else:
                counts["ok"] += 1
                if t.value is not None and (best is None or t.value < best):
                    best = t.value
        elif t.state == TrialState.RUNNING:
            counts["running"] += 1
        elif t.state == TrialState.WAITING:
            counts["waiting"] += 1
        elif status == "failed":
            counts["failed"] += 1
        elif status == "surplus":
            counts["surplus"] += 1
        else:
            counts["dead"] += 1
    counts["best_error"] = best
    return counts


def run_worker(study: optuna.Study, fn: Callable[[optuna.trial.Trial], float], n: int, *,
               progress: bool = True, poll: float = 1.0, grace: float = 120.0,
               max_failures: int = 20, heartbeat: float = 30.0, retry: int | None = 3,
               on_trial: Callable[[FrozenTrial], None] | None = None,
               reconnect: Reconnect | None = None) -> dict:
    """Run trials until the study holds ``n`` finished (COMPLETE + PRUNED) trials.

    ``n`` is the study total, not per process: any number of workers (processes, machines) can
    run this on one storage. Exactly ``n`` trials finish: a worker that starts a trial when the
    earlier non-failed trials (finished, running or waiting) already number ``n`` marks it FAIL
    with ``status = "surplus"`` before any training. Dead workers' trials are failed and retried
    with the same parameters (see :func:`recover_dead_trials`); while only other workers' trials
    are missing this worker waits, so it can take over a retry. Evaluation failures (``status =
    "failed"``) do not count toward ``n``; after ``max_failures`` of them in this process the
    worker stops. A trial stopped by Ctrl-C is retried like a dead worker's, and a trial another
    worker took for dead (no heartbeat for ``grace`` seconds) is dropped without stopping this
    worker. With ``reconnect`` (:class:`~regnet_space.search.optuna.faults.Reconnect`) a storage
    that goes away (a database restart, a locked SQLite file, the gRPC proxy down) is retried
    with backoff, a line per retry, and this worker's trial cut off by it is re-enqueued; other
    database errors, and a storage failing for longer than its patience, are one-line
    :class:`~regnet_space.errors.StorageError`. Returns :func:`study_summary`.
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ConfigError(f"n must be a positive integer, got {n!r}")
    me = worker_id()
    own_beat = _own_heartbeat(study)

    def wrapped(trial: optuna.trial.Trial) -> float:
        try:
            return _wrapped(trial)
        except Exception as e:
            if storage_cut(e):  # the storage went away mid-trial: leave the trial RUNNING
                raise StorageCut(str(e)) from e
            if "message" not in trial.user_attrs:  # what failed, for TooManyFailures' message
                trial.set_user_attr("message", f"{type(e).__name__}: {e}"[:1000])
            raise

    def _wrapped(trial: optuna.trial.Trial) -> float:
        trial.set_user_attr("worker", me)
        trial.set_user_attr("status", "running")
        earlier = sum(1 for t in study.get_trials(deepcopy=False)
                      if t.number < trial.number and t.state in FINISHED + (TrialState.RUNNING,
                                                                             TrialState.WAITING))
        if earlier >= n:
            trial.set_user_attr("status", "surplus")
            return float("nan")
        if own_beat:
            with _Heartbeat(trial, heartbeat):
                return fn(trial)
        return fn(trial)

    bar = None
    if progress:
        from tqdm.auto import tqdm
        bar = tqdm(total=int(n), desc=study.study_name, unit="trial", dynamic_ncols=True)
    failures, last_message, cut_off = 0, None, False
    log_level = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.ERROR)

    def _loop() -> dict:
        nonlocal failures, last_message, cut_off
        while True:
            if cut_off:  # a storage call failed mid-trial: that trial is nobody's now
                _release_own(study, me, retry)
                cut_off = False
            recover_dead_trials(study, grace=grace, retry=retry)
            s = study_summary(study)
            if reconnect is not None:
                reconnect.ok()
            if bar is not None:
                bar.n = min(s["finished"], n)
                best = "-" if s["best_error"] is None else f"{s['best_error']:.4f}"
                bar.set_postfix_str(f"best={best} infeasible={s['infeasible']} "
                                    f"failed={s['failed']} running={s['running']}", refresh=False)
                bar.refresh()
            if s["finished"] >= n:
                return s
            if s["finished"] + s["running"] >= n:
                time.sleep(poll)  # others are finishing the last trials; take over if they die
                continue
            if failures >= max_failures:
                raise TooManyFailures(f"{failures} evaluations failed in this worker (last: "
                                      f"{last_message}); stopped. See the failed trials' "
                                      f"'message' user attribute")
            try:
                study.optimize(wrapped, n_trials=1, catch=(Exception,), gc_after_trial=False,
                               show_progress_bar=False)
            except KeyboardInterrupt:
                _requeue_interrupted(study, me, retry)
                raise
            except Exception as e:
                if not _lost_trial(study, me, e):
                    raise
                # another worker took this trial for dead (no heartbeat for --grace seconds)
                # and retried it: the retry counts, this result is dropped; not a failure
                if bar is not None:
                    bar.write("a trial of this worker was taken for dead (no heartbeat for the "
                              "grace period) and retried by another worker")
                continue
            last = [t for t in study.get_trials(deepcopy=False)
                    if t.user_attrs.get("worker") == me]
            if last:
                t = max(last, key=lambda t: t.number)
                if t.user_attrs.get("status") == "failed" or (
                        t.state == TrialState.FAIL and t.user_attrs.get("status") == "running"):
                    failures += 1
                    last_message = t.user_attrs.get("message")
                    if bar is not None:
                        bar.write(f"trial {t.number} failed: {t.user_attrs.get('message', '?')}")
                if on_trial is not None:
                    on_trial(t)

    url = storage_url(storage_of(study)) or storage_url(getattr(storage_of(study), "_backend", None))
    try:
        while True:
            try:
                return _loop()
            except (Exception, StorageCut) as e:
                if reconnect is None or isinstance(e, RegNetSpaceError) or \
                        transient(e, url) is None:
                    raise
                try:
                    reconnect.failed(e)  # a line and a pause, or the StorageError that gives up
                except KeyboardInterrupt:  # SIGTERM while waiting: give the cut trial back
                    _release_own(study, me, retry)
                    raise
                cut_off = True
    except (Exception, StorageCut) as e:
        if isinstance(e, RegNetSpaceError) or not _is_database_error(e):
            raise
        lost = f"study {study.study_name!r} lost its storage"
        raise StorageError(explain_storage_error(e, storage_url(storage_of(study)), doing=lost)) \
            from None
    finally:
        optuna.logging.set_verbosity(log_level)
        if bar is not None:
            bar.close()
