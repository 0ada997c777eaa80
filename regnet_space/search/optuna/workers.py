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

from ...errors import ConfigError, RegNetSpaceError
from .storage import _quiet, _retry_callback

# ------------------------------------------------------------------------------ workers
def _proc_start(pid: int) -> str | None:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[19]
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


def _is_rdb_heartbeat(storage) -> bool:
    from optuna.storages._heartbeat import is_heartbeat_enabled
    return is_heartbeat_enabled(storage)


def recover_dead_trials(study: optuna.Study, *, grace: float = 120.0, retry: int | None = 3) -> int:
    """Fail and re-enqueue RUNNING trials whose worker is dead; returns how many.

    A worker of this host is dead when its process is gone (immediate, any storage). Other
    hosts' workers: RDB storages use Optuna's heartbeat (:func:`optuna.storages.fail_stale_trials`);
    journal storages use the ``heartbeat`` user attribute the sweep's workers refresh, stale after
    ``grace`` seconds.
    """
    storage = study._storage
    if _is_rdb_heartbeat(storage):
        with _quiet():
            optuna.storages.fail_stale_trials(study)
    journal = isinstance(storage, optuna.storages.JournalStorage)
    now = time.time()
    recovered = 0
    for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        wid = t.user_attrs.get("worker")
        if wid and wid == worker_id():
            continue
        dead = bool(wid) and _worker_dead(wid)
        if not dead and journal:
            beat = t.user_attrs.get("heartbeat")
            if beat is None and t.datetime_start is not None:
                beat = t.datetime_start.timestamp()
            dead = beat is not None and now - float(beat) > grace
        if not dead:
            continue
        try:
            if not storage.set_trial_state_values(t._trial_id, TrialState.FAIL):
                continue
        except (optuna.exceptions.UpdateFinishedTrialError, RuntimeError):
            continue
        except Exception:  # a concurrent writer (e.g. SQLite busy): look again next time
            continue
        _retry_callback(retry)(study, storage.get_trial(t._trial_id))
        recovered += 1
    return recovered


class _Heartbeat:
    """Refresh the trial's ``heartbeat`` user attribute (journal storages, which have no native
    heartbeat)."""

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
               on_trial: Callable[[FrozenTrial], None] | None = None) -> dict:
    """Run trials until the study holds ``n`` finished (COMPLETE + PRUNED) trials.

    ``n`` is the study total, not per process: any number of workers (processes, machines) can
    run this on one storage. Exactly ``n`` trials finish: a worker that starts a trial when the
    earlier non-failed trials (finished, running or waiting) already number ``n`` marks it FAIL
    with ``status = "surplus"`` before any training. Dead workers' trials are failed and retried
    with the same parameters (see :func:`recover_dead_trials`); while only other workers' trials
    are missing this worker waits, so it can take over a retry. Evaluation failures (``status =
    "failed"``) do not count toward ``n``; after ``max_failures`` of them in this process the
    worker stops. Returns :func:`study_summary`.
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ConfigError(f"n must be a positive integer, got {n!r}")
    me = worker_id()
    journal = isinstance(study._storage, optuna.storages.JournalStorage)

    def wrapped(trial: optuna.trial.Trial) -> float:
        trial.set_user_attr("worker", me)
        trial.set_user_attr("status", "running")
        earlier = sum(1 for t in study.get_trials(deepcopy=False)
                      if t.number < trial.number and t.state in FINISHED + (TrialState.RUNNING,
                                                                             TrialState.WAITING))
        if earlier >= n:
            trial.set_user_attr("status", "surplus")
            return float("nan")
        if journal:
            with _Heartbeat(trial, heartbeat):
                return fn(trial)
        return fn(trial)

    bar = None
    if progress:
        from tqdm.auto import tqdm
        bar = tqdm(total=int(n), desc=study.study_name, unit="trial", dynamic_ncols=True)
    failures, last_message = 0, None
    log_level = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    try:
        while True:
            recover_dead_trials(study, grace=grace, retry=retry)
            s = study_summary(study)
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
            study.optimize(wrapped, n_trials=1, catch=(Exception,), gc_after_trial=False,
                           show_progress_bar=False)
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
    finally:
        optuna.logging.set_verbosity(log_level)
        if bar is not None:
            bar.close()
