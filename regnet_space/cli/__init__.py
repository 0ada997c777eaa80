"""The ``regnet-space`` command line: one module per subcommand.

Every command module exposes ``register(subparsers)``, which adds its parser with
``set_defaults(func=run)``. Heavy packages (torch, optuna, nni) are imported inside the run
functions, so ``regnet-space --help`` and the numpy commands start fast. Nothing outside this
package imports it.

Errors: the package's own exceptions (:class:`~regnet_space.errors.RegNetSpaceError`: bad input,
a missing data set, an unusable storage) become one line on stderr and exit code 2; anything else
is a bug and keeps its traceback.

Example:
    >>> main(["spaces", "--json"]) == 0  # doctest: +ELLIPSIS
    [...
    True
"""

from __future__ import annotations

import argparse
import importlib
import sys

from ..errors import RegNetSpaceError

#: Subcommand -> module of this package.
COMMANDS = {
    "describe": "describe", "sample": "sample", "spaces": "spaces", "train": "train",
    "sweep": "sweep", "export": "export", "nni-config": "nni_config", "nni-export": "nni_export",
    "compare": "compare", "analyze": "analyze", "bench-search": "bench_search",
}


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # argparse's own errors: one line, exit 2
        self.exit(2, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="regnet-space",
                     description="RegNet and AnyNetX design spaces for Optuna and NNI: exact "
                     "complexity, budgeted sampling, brief training, sweeps, analysis.",
                     epilog="Run `regnet-space COMMAND --help` for the options of a command. "
                     "Exit status: 0 on success, 1 when a training run or sweep fails, 2 on bad "
                     "input (one line on stderr says what is wrong).")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    for module in dict.fromkeys(COMMANDS.values()):
        importlib.import_module(f"{__name__}.{module}").register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one ``regnet-space`` command; returns its exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except RegNetSpaceError as e:
        lines = str(e).strip().splitlines() or [type(e).__name__]
        print(f"regnet-space {args.command}: error: {lines[0]}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"regnet-space {args.command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
