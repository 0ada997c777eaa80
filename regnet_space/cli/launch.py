"""``sweep --launcher slurm|ray --workers N``: run a sweep's workers on a cluster scheduler.

The command creates (or checks) the study on this machine first, then hands ``N`` copies of
itself, each with ``--launcher local``, to the scheduler; every copy is an ordinary sweep worker
on the one study. See :mod:`regnet_space.search.optuna.launch_slurm` and
:mod:`regnet_space.search.optuna.launch_ray`.

Example:
    >>> worker_argv(["sweep", "--storage", "journal:s.journal", "--launcher", "slurm"], "s",
    ...             "journal:/shared/s.journal")[-6:]
    ['--launcher', 'local', '--study', 's', '--storage', 'journal:/shared/s.journal']
"""

from __future__ import annotations

import argparse
import os
import sys

from .common import UsageError, positive, shell_command

LAUNCHERS = ("local", "slurm", "ray")


def add_launcher_options(p: argparse.ArgumentParser) -> None:
    """The ``launcher`` option group of ``sweep``."""
    g = p.add_argument_group("cluster launchers (docs/multi-machine.md)")
    g.add_argument("--launcher", default="local", choices=LAUNCHERS, help="local (default: "
                   "this process is the worker), slurm (submit --workers array tasks through "
                   "submitit) or ray (run --workers Ray tasks); all share the one study")
    g.add_argument("--workers", type=int, default=1, metavar="N", help="worker tasks for "
                   "--launcher slurm or ray (default 1)")
    g.add_argument("--slurm-partition", metavar="NAME", help="Slurm partition (default: the "
                   "cluster's)")
    g.add_argument("--slurm-time", type=int, default=60, metavar="MINUTES", help="time limit of "
                   "each task in minutes (default 60); at the limit the running trial is "
                   "retried by another task")
    g.add_argument("--slurm-gpus", type=int, default=0, metavar="N", help="GPUs per task "
                   "(default 0)")
    g.add_argument("--slurm-cpus", type=int, default=1, metavar="N", help="CPUs per task "
                   "(default 1)")
    g.add_argument("--slurm-mem", type=int, metavar="GB", help="memory per task in GB "
                   "(default: the partition's)")
    g.add_argument("--slurm-parallel", type=int, metavar="N", help="array tasks running at "
                   "once (default: all)")
    g.add_argument("--slurm-folder", default="slurm-logs/%j", metavar="DIR", help="job scripts "
                   "and logs, on a file system the nodes share (default slurm-logs/%%j)")
    g.add_argument("--ray-address", metavar="HOST:PORT", help="Ray cluster to use (default: "
                   "RAY_ADDRESS, else a new local one); 'auto' for the one this machine is in")
    g.add_argument("--ray-cpus", type=float, default=1, metavar="N", help="CPUs per Ray task "
                   "(default 1)")
    g.add_argument("--ray-gpus", type=float, default=0, metavar="N", help="GPUs per Ray task "
                   "(default 0; fractions share a GPU)")


def check_launcher(args: argparse.Namespace, storage_url: str) -> None:
    """Refuse, before anything is loaded, a launcher the storage cannot serve and bad counts."""
    positive("--workers", args.workers, 1, 10_000)
    if args.launcher == "local":
        return
    from . import _installed
    from ..errors import missing_extra

    module = {"slurm": "submitit", "ray": "ray"}[args.launcher]
    if not _installed(module):  # before any data is loaded or study touched
        raise missing_extra(ModuleNotFoundError(name=module), f"sweep --launcher {args.launcher}")
    positive("--slurm-time", args.slurm_time, 1, 366 * 24 * 60)
    positive("--slurm-gpus", args.slurm_gpus, 0, 64)
    positive("--slurm-cpus", args.slurm_cpus, 1, 4096)
    positive("--slurm-mem", args.slurm_mem, 1, 1 << 20)
    positive("--slurm-parallel", args.slurm_parallel, 1, 10_000)
    for flag, v in (("--ray-cpus", args.ray_cpus), ("--ray-gpus", args.ray_gpus)):
        if not 0 <= v <= 4096:
            raise UsageError(f"{flag} must be in [0, 4096], got {v:g}")
    url = storage_url.lower()
    if url.startswith("sqlite") or url in ("memory", ":memory:", "inmemory"):
        raise UsageError(f"--launcher {args.launcher} needs a storage every node reaches: "
                         "postgresql://..., grpc://HOST:PORT (regnet-space storage-proxy) or "
                         "journal:FILE on a shared file system (SQLite's locks are unsafe on "
                         "network file systems)")


def absolute_storage(url: str) -> str:
    """A SQLite or journal storage URL with an absolute path (a task's working directory may
    differ from this one's).

    Example:
        >>> absolute_storage("journal:/a/b.journal"), absolute_storage("postgresql://h/db")
        ('journal:/a/b.journal', 'postgresql://h/db')
    """
    if url.startswith("journal:"):
        path = url[len("journal:"):]
        return "journal:" + os.path.abspath(path[2:] if path.startswith("//") else path)
    if url.startswith("sqlite:///"):
        return "sqlite:///" + os.path.abspath(url[len("sqlite:///"):])
    return url


def worker_argv(argv: list[str], study: str, storage: str) -> list[str]:
    """This sweep command as one worker: the same flags, then ``--launcher local`` and the
    study and storage spelled out (later flags win)."""
    return [*argv, "--launcher", "local", "--study", study, "--storage", storage]


def run_sweep(argv: list[str]) -> int:
    """One worker task on a node (Slurm array task, Ray task): the sweep command ``argv`` in
    this process; its exit code."""
    from . import main

    return main(list(argv))


def launch(args: argparse.Namespace, name: str, storage_url: str) -> int:
    """Hand ``--workers`` copies of this sweep to Slurm or Ray; the exit code."""
    from ..search.optuna.urls import redact

    storage = absolute_storage(storage_url)
    argv = worker_argv(list(args.argv), name, storage)
    export = shell_command("regnet-space", "export", "--storage", redact(storage), "--study",
                           name, "--out", "pop.csv")
    if args.launcher == "slurm":
        from ..search.optuna.launch_slurm import slurm_parameters, submit

        params = slurm_parameters(partition=args.slurm_partition, time_min=args.slurm_time,
                                  gpus=args.slurm_gpus, cpus=args.slurm_cpus,
                                  mem_gb=args.slurm_mem, name=f"regnet-space-{name}"[:64],
                                  parallel=args.slurm_parallel)
        jobs = submit(run_sweep, [argv] * args.workers, os.path.abspath(args.slurm_folder), **params)
        array = jobs[0].job_id.split("_")[0]
        print(f"submitted Slurm job array {array} ({args.workers} tasks: "
              f"{', '.join(j.job_id for j in jobs)}) for study {name!r}")
        print(f"watch: squeue -j {array}; logs: {os.path.abspath(args.slurm_folder)}",
              file=sys.stderr)
        print(f"export: {export}")
        return 0
    from ..search.optuna.launch_ray import ray_options, run

    codes = run(run_sweep, [argv] * args.workers, address=args.ray_address,
                **ray_options(cpus=args.ray_cpus, gpus=args.ray_gpus))
    print(f"{name}: {len(codes)} Ray worker(s) exited with {sorted(set(codes))}")
    print(f"export: {export}", file=sys.stderr)
    return max(codes) if any(codes) else 0
