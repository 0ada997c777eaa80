"""Optuna's gRPC storage proxy: hundreds of sweep workers in front of one database.

Each worker of ``regnet-space sweep --storage grpc://HOST:PORT`` talks to one proxy
(``regnet-space storage-proxy --storage postgresql://... --port PORT``), which holds a few
database connections for all of them and caches the study; the database sees one client instead
of hundreds (PostgreSQL's ``max_connections`` is 100 by default). Optuna's proxy fronts an RDB
storage only (not a journal file) and keeps no heartbeats, so the workers refresh their trials'
``heartbeat`` user attribute themselves, as on a journal file (see
:func:`~regnet_space.search.optuna.recover_dead_trials`). Needs ``grpcio``
(``pip install 'regnet-space[grpc]'``).

Example:
    >>> parse_grpc("grpc://10.0.0.7:13000")
    ('10.0.0.7', 13000)
    >>> parse_grpc("grpc://proxy")
    Traceback (most recent call last):
    ...
    regnet_space.errors.StorageError: storage 'grpc://proxy': give the proxy as grpc://HOST:PORT (PORT 1-65535)
"""

from __future__ import annotations

import sys

from ...errors import StorageError
from .faults import Patience, Reconnect, retrying
from .urls import redact

#: Seconds a worker waits for the proxy to answer once before a retry line.
READY_WAIT_S = 5.0


def parse_grpc(url: str) -> tuple[str, int]:
    """``(host, port)`` of a ``grpc://HOST:PORT`` storage URL.

    Example:
        >>> parse_grpc("grpc://[::1]:13000")
        ('::1', 13000)
    """
    rest = url.split("://", 1)[1].rstrip("/")
    host, _, port = rest.rpartition(":")
    host = host.strip("[]")
    if not host or not port.isdigit() or not 1 <= int(port) <= 65535 or "/" in host:
        raise StorageError(f"storage {redact(url)!r}: give the proxy as grpc://HOST:PORT "
                           f"(PORT 1-65535)")
    return host, int(port)


def open_grpc(url: str, patience: Patience | None = None):
    """A :class:`optuna.storages.GrpcStorageProxy` on ``grpc://HOST:PORT``, once the proxy
    answers; with ``patience`` a proxy that is not up yet is waited for (a line per retry).

    Example:
        >>> open_grpc("grpc://proxy-host")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        regnet_space.errors.StorageError: storage 'grpc://proxy-host': give the proxy as ...
    """
    host, port = parse_grpc(url)
    import grpc  # noqa: F401  (a missing grpcio: the one-line hint naming the extra)
    import optuna

    import warnings

    with warnings.catch_warnings():  # "GrpcStorageProxy is experimental"
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        proxy = optuna.storages.GrpcStorageProxy(host=host, port=port)

    def ready():
        try:
            proxy.wait_server_ready(timeout=READY_WAIT_S)
        except Exception as e:  # grpc.FutureTimeoutError says nothing: say what it means
            raise ConnectionError(f"no connection to the server: the proxy at {host}:{port} did "
                                  f"not answer within {READY_WAIT_S:g} s (is `regnet-space "
                                  f"storage-proxy` running there?)") from e

    where = f"storage {redact(url)!r}"
    try:
        retrying(ready, Reconnect(patience or Patience(timeout=0), None, where))
    except ConnectionError as e:
        raise StorageError(f"cannot open {where}: {e}") from None
    return proxy


def serve(storage_url: str, *, host: str = "127.0.0.1", port: int = 13000,
          threads: int = 32) -> None:
    """Run Optuna's gRPC proxy (:func:`optuna.storages.run_grpc_proxy_server`) in front of the
    RDB storage ``storage_url`` until the process is stopped (``regnet-space storage-proxy``).

    The storage is opened without heartbeats (the proxy has none) and with Optuna's in-process
    cache (:func:`optuna.storages.get_storage`). A journal file or SQLite is refused: Optuna's
    proxy does not support journals, and one SQLite file behind a proxy gains nothing.

    Example (a proxy in front of a PostgreSQL database, then a worker through it)::

        regnet-space storage-proxy --storage postgresql://user:pw@db/studies --port 13000
        regnet-space sweep --storage grpc://proxy-host:13000 --trials 1000
    """
    import grpc  # noqa: F401  (a missing grpcio: the one-line hint naming the extra)
    import optuna
    from concurrent.futures import ThreadPoolExecutor

    from .storage import open_storage

    scheme = storage_url.split("://", 1)[0].split("+", 1)[0].lower() if "://" in storage_url \
        else ""
    if scheme not in ("postgresql", "postgres", "mysql", "mariadb", "oracle", "mssql"):
        raise StorageError(f"the proxy needs a database server (postgresql://... or mysql://...),"
                           f" got {redact(storage_url)!r}; workers on one machine can share a "
                           f"SQLite or journal file directly")
    storage = optuna.storages.get_storage(open_storage(storage_url, heartbeat=None,
                                                       patience=Patience(timeout=60)))
    print(f"storage proxy for {redact(storage_url)} on {host}:{port} (workers: --storage "
          f"grpc://{host}:{port})", file=sys.stderr, flush=True)
    try:
        optuna.storages.run_grpc_proxy_server(storage, host=host, port=port,
                                              thread_pool=ThreadPoolExecutor(threads))
    except RuntimeError as e:  # grpc: "Failed to bind to address ..."
        raise StorageError(f"cannot listen on {host}:{port}: {e} (is the port in use?)") from None
