"""``regnet-space storage-proxy``: Optuna's gRPC storage proxy in front of one database.

    regnet-space storage-proxy --storage postgresql://user:pw@db/studies --host 0.0.0.0 --port 13000
    regnet-space sweep --storage grpc://PROXY-HOST:13000 ...        # on every worker

For hundreds of workers: they talk to the proxy, the proxy holds a few database connections.
Stops on Ctrl-C or SIGTERM with one line (exit 0). See docs/multi-machine.md.
"""

from __future__ import annotations

import argparse
import sys

from .common import positive


def run(args: argparse.Namespace) -> int:
    from ..search.optuna.faults import Terminated, terminate_on_sigterm
    from ..search.optuna.proxy import serve

    positive("--port", args.port, 1, 65535)
    positive("--threads", args.threads, 1, 4096)
    try:
        with terminate_on_sigterm():
            serve(args.storage, host=args.host, port=args.port, threads=args.threads)
    except Terminated:
        print("regnet-space storage-proxy: stopped by SIGTERM", file=sys.stderr)
    return 0


def register(sub) -> None:
    p = sub.add_parser(
        "storage-proxy", help="serve a database to many sweep workers through Optuna's gRPC proxy",
        description="Run Optuna's gRPC storage proxy in front of a database server; sweep "
        "workers then use --storage grpc://HOST:PORT. For hundreds of workers: the database "
        "sees the proxy's few connections instead of one per worker. Needs grpcio "
        "(pip install 'regnet-space[grpc]').")
    p.add_argument("--storage", required=True, metavar="URL", help="the database the proxy "
                   "serves: postgresql://user:password@host/db (or mysql://...)")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default "
                   "127.0.0.1, this machine only; 0.0.0.0 for every interface: the proxy has no "
                   "authentication, keep it inside the cluster's network)")
    p.add_argument("--port", type=int, default=13000, help="port to listen on (default 13000)")
    p.add_argument("--threads", type=int, default=32, metavar="N", help="threads serving "
                   "requests (default 32)")
    p.set_defaults(func=run)
