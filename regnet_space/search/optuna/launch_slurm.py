"""Sweep workers as a Slurm job array, through submitit (as pycls launches its jobs).

``regnet-space sweep ... --launcher slurm --workers N`` creates the study (so no two tasks race
to create it), then submits one array of ``N`` tasks; each task runs the same sweep command as
an ordinary worker (``--launcher local``) on the one study. Nothing is scheduled here: the study
is the source of truth, each worker takes the next trial, and a task that Slurm cancels, preempts
or times out leaves its trial to the others (SIGTERM marks it for retry; after SIGKILL, the
heartbeat or the dead-process check does). The storage must reach every node: PostgreSQL,
``grpc://`` (a proxy), or ``journal:FILE`` on a shared file system (see docs/multi-machine.md).
Needs submitit (``pip install 'regnet-space[slurm]'``).

Example:
    >>> slurm_parameters(partition="gpu", time_min=90, gpus=1, cpus=8)
    {'job_name': 'regnet-space', 'time': 90, 'nodes': 1, 'ntasks_per_node': 1, 'cpus_per_task': 8, 'partition': 'gpu', 'gpus_per_node': 1}
"""

from __future__ import annotations

from typing import Any, Callable, Sequence


def slurm_parameters(*, partition: str | None = None, time_min: int = 60, gpus: int = 0,
                     cpus: int = 1, mem_gb: int | None = None, name: str = "regnet-space",
                     parallel: int | None = None) -> dict[str, Any]:
    """The submitit ``SlurmExecutor`` parameters of one sweep-worker task (one task per array
    element: ``--time`` in minutes, ``--cpus-per-task``, ``--gpus-per-node``, ``--mem``,
    ``--partition``, ``%parallel`` on the array).

    Example:
        >>> slurm_parameters(mem_gb=16, parallel=2)["array_parallelism"]
        2
    """
    p: dict[str, Any] = dict(job_name=name, time=int(time_min), nodes=1, ntasks_per_node=1,
                             cpus_per_task=int(cpus))
    if partition:
        p["partition"] = partition
    if gpus:
        p["gpus_per_node"] = int(gpus)
    if mem_gb:
        p["mem"] = f"{int(mem_gb)}GB"
    if parallel:
        p["array_parallelism"] = int(parallel)
    return p


def submit(task: Callable[[list[str]], int], argvs: Sequence[Sequence[str]], folder: str,
           **params: Any) -> list:
    """Submit one Slurm job array, ``task(argv)`` per argument list; the submitit jobs
    (``job_id`` is ``ARRAYID_TASK``). ``task`` must be importable by the nodes (a module-level
    function; ``sweep`` passes one that runs the sweep command in the task's process, so its
    SIGTERM handler, not submitit's, decides what a cancel does). ``params``:
    :func:`slurm_parameters`. ``folder`` holds the job scripts and logs (``%j`` is the job id)
    and must be on a file system the nodes share.

    Example (on a Slurm login node)::

        jobs = submit(run_sweep, [["sweep", "--storage", url, "--launcher", "local"]] * 4,
                      "slurm-logs/%j", **slurm_parameters(partition="gpu", gpus=1))
        print(jobs[0].job_id.split("_")[0])
    """
    import shutil

    import submitit

    from ...errors import ConfigError

    if shutil.which("sbatch") is None:
        raise ConfigError("--launcher slurm needs Slurm's sbatch on this machine's PATH (run it "
                          "on a login node of the cluster)")
    executor = submitit.SlurmExecutor(folder=folder, max_num_timeout=0)
    executor.update_parameters(**params)
    try:
        return executor.map_array(task, [list(a) for a in argvs])
    except Exception as e:  # submitit's FailedJobError / CalledProcessError hold sbatch's words
        text = " ".join(str(e).split())
        raise ConfigError(f"sbatch refused the job array: {text[-400:]}") from None
