"""CPU threads for a training run, shared fairly between the runs of one machine.

Why: a training process that takes every core while another one does the same makes both run
several times slower, not half as fast. PyTorch's OpenMP threads spin-wait for cores the other
process holds (measured in BENCHMARKS.md: two sweep workers with 2 threads each on 2 cores train
3.6x fewer models per hour than with 1 thread each). So when ``threads`` is not given, a run counts
the CPU runs of this package already going on this machine (each holds a slot: an ``flock``-ed
file under the temp folder, released by the kernel when its process ends, however it ends) and
takes its share of the cores.

Example:
    >>> with cpu_share(None) as n:      # every core when it is the only run here
    ...     1 <= n <= available_cpus()
    True
    >>> with cpu_share(1) as n:          # explicit: exactly that
    ...     n
    1
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import Iterator

try:
    import fcntl
except ImportError:  # not POSIX: every run behaves as the only one
    fcntl = None

#: How many runs the slot folder tells apart (more share as if there were this many).
SLOTS = 64


def available_cpus() -> int:
    """The cores this process may run on (its affinity mask, e.g. under ``taskset``)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def _slot_dir() -> Path:
    uid = os.getuid() if hasattr(os, "getuid") else 0
    d = Path(tempfile.gettempdir()) / f"regnet-space-cpu-{uid}"
    d.mkdir(mode=0o700, exist_ok=True)
    return d


def _held(path: Path) -> bool:
    """True when another open file holds an ``flock`` on ``path``."""
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return True
    finally:
        os.close(fd)  # closing drops the probe's lock, if it got one
    return False


@contextlib.contextmanager
def cpu_share(threads: int | None) -> Iterator[int]:
    """The thread count for one CPU run: ``threads`` when given, else this run's share of the
    cores, ``max(1, cores // runs)`` with ``runs`` this package's CPU runs on this machine,
    this one included. Either way the run holds a slot until the block ends, so later runs
    count it. See the module example."""
    try:
        d = _slot_dir() if fcntl is not None else None
    except OSError:  # no writable temp folder
        d = None
    if d is None:  # behave as the only run
        yield threads or available_cpus()
        return
    fd = None
    try:
        for i in range(SLOTS):
            f = os.open(d / f"slot-{i}", os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                os.close(f)
                continue
            fd, mine = f, i
            break
        others = sum(_held(d / f"slot-{i}") for i in range(SLOTS) if fd is None or i != mine)
        yield threads or max(1, available_cpus() // (others + 1))
    finally:
        if fd is not None:
            os.close(fd)
