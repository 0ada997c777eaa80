"""The ``regnet-space`` command: one subcommand per job, each in ``regnet_space/commands``.

Every command module exposes ``register(subparsers)``, which adds its parser(s) with
``set_defaults(func=run_function)``. Heavy packages are imported inside the run functions, so
``regnet-space --help`` and the numpy commands start fast.

Bad input raises :class:`UsageError` (or ValueError) and becomes a one-line message on stderr with
exit code 2, never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys

COMMAND_MODULES = ("core", "train", "sweep", "nni", "analysis", "bench")


class UsageError(ValueError):
    """Bad command-line input: printed as one line, exit code 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # argparse's own errors: one line, exit 2
        self.exit(2, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="regnet-space", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    for name in COMMAND_MODULES:
        try:
            mod = importlib.import_module(f"regnet_space.commands.{name}")
        except ModuleNotFoundError as e:
            if e.name == f"regnet_space.commands.{name}":
                continue  # command group not installed in this build
            raise
        mod.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except (UsageError, ValueError, FileNotFoundError, KeyError) as e:
        msg = e.args[0] if isinstance(e, KeyError) and e.args else e
        print(f"regnet-space {args.command}: error: {msg}".splitlines()[0], file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"regnet-space {args.command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
