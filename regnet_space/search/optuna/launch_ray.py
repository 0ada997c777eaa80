"""Sweep workers as Ray tasks on a Ray cluster, the study staying the source of truth.

``regnet-space sweep ... --launcher ray --workers N [--ray-address HOST:PORT]`` creates the
study, then runs ``N`` Ray tasks; each runs the same sweep command as an ordinary worker
(``--launcher local``) on the one study, and the command waits for them. Ray places the tasks
(``--ray-cpus`` / ``--ray-gpus`` per task) and starts a task again when its worker process or
node dies (``max_retries``); the study (PostgreSQL, a ``grpc://`` proxy, or a journal file the
nodes share) keeps the trials, so a rerun worker only continues it.

Why Ray tasks and not Ray Tune with ``OptunaSearch``: Tune's searcher holds its Optuna study in
the driver's memory and records results in Tune's own experiment folder, so the study is neither
persistent nor shared with other ``sweep`` workers, a driver crash loses it, and the sweep's exact
total over restarts, dead-worker retries, budget rejection before training and the population
export would all have to be rebuilt on Tune's trial loop. Ray tasks keep every one of those,
and the results export with ``regnet-space export`` like any sweep's. Needs ray
(``pip install 'regnet-space[ray]'``).

Example:
    >>> ray_options(cpus=2, gpus=0.5)
    {'num_cpus': 2.0, 'num_gpus': 0.5, 'max_retries': 3}
"""

from __future__ import annotations

import sys
from typing import Any, Callable, Sequence


def ray_options(*, cpus: float = 1, gpus: float = 0, retries: int = 3) -> dict[str, Any]:
    """``ray.remote`` options of one sweep-worker task.

    Example:
        >>> ray_options()["num_gpus"]
        0.0
    """
    return dict(num_cpus=float(cpus), num_gpus=float(gpus), max_retries=int(retries))


def run(task: Callable[[list[str]], int], argvs: Sequence[Sequence[str]], *,
        address: str | None = None, **options: Any) -> list[int]:
    """Run ``task(argv)`` as a Ray task per argument list (``options``: :func:`ray_options`)
    and wait for them; their exit codes. ``task`` must be importable by the Ray workers (a
    module-level function; ``sweep`` passes one that runs the sweep command). Connects to ``address`` (``HOST:PORT`` of a running cluster, or ``auto``)
    unless this process is connected already (e.g. to a cluster it started); without either,
    ``ray.init()`` finds ``RAY_ADDRESS`` or starts a local cluster.

    Example (on a machine of a Ray cluster)::

        codes = run(run_sweep, [["sweep", "--storage", url, "--launcher", "local"]] * 8,
                    address="auto",
                    **ray_options(cpus=4, gpus=1))
    """
    import ray

    from ...errors import ConfigError

    started = False
    if not ray.is_initialized():
        try:
            ray.init(address=address, include_dashboard=False, log_to_driver=True)
        except (ConnectionError, RuntimeError, ValueError) as e:
            raise ConfigError(f"cannot reach the Ray cluster "
                              f"{address or '(RAY_ADDRESS or a new local one)'}: "
                              f"{' '.join(str(e).split())[:300]}") from None
        started = True
    try:
        remote = ray.remote(**options)(task)
        refs = [remote.remote(list(a)) for a in argvs]
        codes = []
        for ref in refs:
            try:
                codes.append(int(ray.get(ref)))
            except ray.exceptions.RayError as e:  # a task whose worker died more than retries
                print(f"regnet-space sweep: a Ray worker failed: {' '.join(str(e).split())[:300]}",
                      file=sys.stderr)
                codes.append(1)
        return codes
    finally:
        if started:
            ray.shutdown()
