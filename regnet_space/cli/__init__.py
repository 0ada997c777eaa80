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

from ..errors import RegNetSpaceError, missing_extra

#: Subcommand -> module of this package.
COMMANDS = {
    "describe": "describe", "sample": "sample", "spaces": "spaces", "train": "train",
    "sweep": "sweep", "export": "export", "nni-config": "nni_config", "nni-export": "nni_export",
    "compare": "compare", "analyze": "analyze", "bench-search": "bench_search",
    "storage-proxy": "storage_proxy",
}


#: Optional packages a command needs, checked (without importing them) before it runs, so a
#: missing extra is one line naming it (exit 2) before any data is loaded or study touched.
NEEDS = {"train": ("torch",), "sweep": ("optuna", "torch"), "nni-config": ("torch", "yaml", "nni"),
         "export": ("optuna",), "bench-search": ("optuna",),
         "storage-proxy": ("optuna", "grpc")}


def _installed(module: str) -> bool:
    import importlib.util

    if module in sys.modules:
        return sys.modules[module] is not None
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def check_extras(command: str) -> None:
    """Raise the one-line MissingDependencyError when ``command`` needs a package not installed.

    Example:
        >>> check_extras("describe")   # numpy only: nothing to check
    """
    from ..errors import EXTRAS, MissingDependencyError

    missing = [m for m in NEEDS.get(command, ()) if not _installed(m)]
    if len(missing) == 1:
        raise missing_extra(ModuleNotFoundError(name=missing[0]), command)
    if missing:
        extras = ",".join(dict.fromkeys(EXTRAS[m] for m in missing))
        names = ", ".join(missing[:-1]) + " and " + missing[-1]
        raise MissingDependencyError(f"{command} needs {names}, which are not installed: pip "
                                     f"install 'regnet-space[{extras}]'")


class _Parser(argparse.ArgumentParser):
    def __init__(self, *args, **kwargs):  # every command's --help shows every default
        from .flags import DefaultsHelp

        kwargs.setdefault("formatter_class", DefaultsHelp)
        super().__init__(*args, **kwargs)

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
    args.argv = list(sys.argv[1:] if argv is None else argv)  # e.g. for sweep's worker processes
    try:
        check_extras(args.command)
        return int(args.func(args) or 0)
    except (RegNetSpaceError, ImportError) as e:
        if not isinstance(e, RegNetSpaceError):  # an optional package missing: name its extra
            e = missing_extra(e, args.command)
            if e is None:
                raise
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
