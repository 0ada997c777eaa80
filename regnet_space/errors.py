"""The package's exceptions: one base class, a few meaningful subclasses, one import helper.

Everything the package raises on purpose derives from :class:`RegNetSpaceError`; the command
line turns exactly these into a one-line message with exit code 2, so an unexpected exception (a
bug) still shows its traceback. The subclasses also derive from the matching built-in exception
(``ValueError``, ``FileNotFoundError``, ``ImportError``), so ``except ValueError`` keeps working.

Example:
    >>> try:
    ...     raise ConfigError("epochs must be an integer >= 1, got 0")
    ... except ValueError as e:
    ...     isinstance(e, RegNetSpaceError), str(e)
    (True, 'epochs must be an integer >= 1, got 0')
"""

from __future__ import annotations

import importlib
from types import ModuleType


class RegNetSpaceError(Exception):
    """Base class of every error this package raises on purpose."""


class ConfigError(RegNetSpaceError, ValueError):
    """A value, setting or configuration that is not allowed; the message says what is."""


class BudgetError(ConfigError):
    """A complexity regime the design space cannot meet (the message gives the reachable range)."""


class DataError(RegNetSpaceError, ValueError):
    """A data set that cannot be read: a truncated file, a bad header, a wrong layout."""


class DataNotFoundError(RegNetSpaceError, FileNotFoundError):
    """A data set that is not on this machine: the message says where we looked and how to get it."""


class StorageError(RegNetSpaceError):
    """A study storage that cannot be opened or used; the message says what went wrong."""


class StudyMismatchError(StorageError, ValueError):
    """An existing study was created for another space, budget or recipe."""


class MissingDependencyError(RegNetSpaceError, ImportError):
    """An optional package a feature needs is not installed (the message says what to install)."""


def require(module: str, *, pip: str | None = None, purpose: str = "") -> ModuleType:
    """Import an optional dependency or raise :class:`MissingDependencyError` saying how to get it.

    Example:
        >>> require("json").__name__
        'json'
        >>> require("no_such_pkg", pip="no-such-pkg", purpose="the example")
        Traceback (most recent call last):
        ...
        regnet_space.errors.MissingDependencyError: the example needs no_such_pkg: pip install no-such-pkg
    """
    try:
        return importlib.import_module(module)
    except ImportError as e:
        if e.name is not None and module != e.name and not module.startswith(e.name + "."):
            raise  # the package exists but one of *its* imports failed: a real error
        what = f"{purpose} needs {module}" if purpose else f"{module} is not installed"
        raise MissingDependencyError(f"{what}: pip install {pip or module.split('.')[0]}") from None


#: Optional top-level packages -> the extra of ``pyproject.toml`` that installs them.
EXTRAS = {"torch": "torch", "torchvision": "torch", "timm": "torch", "optuna": "optuna",
          "cmaes": "optuna", "scipy": "optuna", "nni": "nni", "yaml": "nni",
          "pytorch_lightning": "nni", "pyarrow": "all", "optuna_dashboard": "all",
          "psycopg2": "all", "grpc": "grpc", "submitit": "slurm", "ray": "ray",
          "optunahub": "bench", "syne_tune": "synetune"}


def missing_extra(exc: BaseException, what: str) -> MissingDependencyError | None:
    """The one-line :class:`MissingDependencyError` for an ImportError of an optional package
    (None when ``exc`` is about something else: a bug keeps its traceback).

    Example:
        >>> print(missing_extra(ModuleNotFoundError("No module named 'torch'", name="torch"),
        ...                     "regnet-space train"))
        regnet-space train needs torch, which is not installed: pip install 'regnet-space[torch]'
        >>> missing_extra(ModuleNotFoundError("x", name="no_such_thing"), "train") is None
        True
    """
    name = getattr(exc, "name", None)
    root = str(name).split(".")[0] if name else None
    if not isinstance(exc, ImportError) or root not in EXTRAS:
        return None
    return MissingDependencyError(f"{what} needs {root}, which is not installed: pip install "
                                  f"'regnet-space[{EXTRAS[root]}]'")


__all__ = ["BudgetError", "ConfigError", "DataError", "DataNotFoundError", "EXTRAS",
           "MissingDependencyError", "RegNetSpaceError", "StorageError", "StudyMismatchError",
           "missing_extra", "require"]
