"""Lazy public faces: a module that names attributes of other modules and imports them on use.

:mod:`regnet_space.optuna_space`, :mod:`regnet_space.nni_space` and :mod:`regnet_space.evaluator`
are such faces: importing one costs nothing (no torch, optuna or nni), the first use of a name
imports the module that defines it (no second implementation), and a missing optional package is
a one-line :class:`~regnet_space.errors.MissingDependencyError` naming the extra to install.

Example:
    >>> getattr_, dir_ = lazy_exports("demo", {"dumps": "json"})
    >>> getattr_("dumps")([1])
    '[1]'
    >>> dir_()
    ['dumps']
"""

from __future__ import annotations

import importlib
from typing import Any, Callable, Mapping

from .errors import missing_extra


def lazy_exports(owner: str, names: Mapping[str, str]) -> tuple[Callable[[str], Any],
                                                               Callable[[], list[str]]]:
    """``(__getattr__, __dir__)`` for module ``owner`` exporting ``{name: defining module}``
    (``"module:attribute"`` when the name differs there)."""

    def getattr_(name: str) -> Any:
        if name not in names:
            raise AttributeError(f"module {owner!r} has no attribute {name!r}")
        target, _, attr = names[name].partition(":")
        try:
            module = importlib.import_module(target)
        except ImportError as e:
            err = missing_extra(e, f"{owner}.{name}")
            if err is None:
                raise
            raise err from None
        return getattr(module, attr or name)

    def dir_() -> list[str]:
        return sorted(names)

    return getattr_, dir_


__all__ = ["lazy_exports"]
