"""Start NNI patiently: ``python -m regnet_space.search.nni.launch create --config DIR/config.yml``.

NNI 3.0 gives its web server about 3 s to answer after it starts the manager
(``nni/experiment/launcher.py``: ``_check_rest_server(port, retry=3)``, one second apart), which
a loaded machine misses (it needed 6.4 s at load 13-16), and ``nnictl create`` then fails. This
module replaces that check with one that waits up to :func:`wait_seconds` (``$REGNET_SPACE_NNI_WAIT``,
default 120 s) and says clearly when it gives up; run as a program it is ``nnictl`` with that
patience (every nnictl argument is passed on). :func:`regnet_space.search.nni.experiment` applies
the same patch to experiments started from Python.

What it cannot change: the manager waits 10 s for the tuner process to connect
(``nni_node/core/tuner_command_channel.js``, a constant in NNI's JavaScript); on a machine where
``import nni`` alone takes longer, start the experiment when the load is lower.

Example:
    >>> import os
    >>> os.environ.pop(ENV_WAIT, None) and None
    >>> wait_seconds()
    120.0
"""

from __future__ import annotations

import math
import os
import sys
import time
from typing import Callable

from ...errors import ConfigError

#: Environment variable: seconds to wait for NNI's web server to answer.
ENV_WAIT = "REGNET_SPACE_NNI_WAIT"
DEFAULT_WAIT = 120.0


def wait_seconds() -> float:
    """Seconds to wait for NNI's web server: ``$REGNET_SPACE_NNI_WAIT`` or 120.

    Example:
        >>> os.environ[ENV_WAIT] = "30"; wait_seconds()
        30.0
        >>> os.environ[ENV_WAIT] = "soon"; wait_seconds()
        Traceback (most recent call last):
        ...
        regnet_space.errors.ConfigError: $REGNET_SPACE_NNI_WAIT must be a number of seconds in (0, 86400], got 'soon'
        >>> del os.environ[ENV_WAIT]
    """
    text = os.environ.get(ENV_WAIT)
    if text is None or not text.strip():
        return DEFAULT_WAIT
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not 0 < value <= 86_400:
        raise ConfigError(f"${ENV_WAIT} must be a number of seconds in (0, 86400], got {text!r}")
    return value


def patient_check(wait: float, *, get: Callable | None = None) -> Callable:
    """A replacement for NNI's ``_check_rest_server`` that polls once a second for ``wait``
    seconds and then raises a RuntimeError naming the port and :data:`ENV_WAIT`.

    Example:
        >>> calls = []
        >>> check = patient_check(5, get=lambda port, path, prefix: calls.append(port))
        >>> check(8080), calls
        (None, [8080])
    """
    def check(port: int, retry: int = 3, url_prefix: str | None = None) -> None:
        fetch = get
        if fetch is None:
            from nni.experiment import rest
            fetch = rest.get
        deadline = time.monotonic() + wait
        while True:
            try:
                fetch(port, "/check-status", url_prefix)
                return
            except Exception as e:  # not up yet: connection refused, a timeout
                if time.monotonic() >= deadline:
                    raise RuntimeError(
                        f"NNI's web server did not answer on port {port} within {wait:g} s "
                        f"({type(e).__name__}); on a loaded machine wait longer with "
                        f"{ENV_WAIT}=SECONDS, or see the experiment's log folder") from None
            time.sleep(1.0)

    return check


def patch_launcher(wait: float | None = None) -> None:
    """Make NNI's launcher wait up to ``wait`` seconds (default :func:`wait_seconds`) for its
    web server, in this process."""
    from nni.experiment import launcher

    launcher._check_rest_server = patient_check(wait_seconds() if wait is None else wait)


def main(argv: list[str] | None = None) -> None:
    """``nnictl`` with the patient check (arguments as nnictl's)."""
    patch_launcher()
    from nni.tools.nnictl.nnictl import parse_args

    sys.argv = ["nnictl", *(sys.argv[1:] if argv is None else argv)]
    parse_args()


if __name__ == "__main__":
    main()
