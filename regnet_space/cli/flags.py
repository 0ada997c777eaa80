"""One vocabulary of flags: help that shows every default, and old spellings as hidden aliases.

The names every command uses (see docs/python-api.md):

=================  ==============================================================================
``--trials N``     a count of trials or evaluations (was ``--n`` in ``sweep``, ``--budget`` in
                   ``bench-search``)
``--sampler NAME`` the search algorithm (was ``--tuner`` in ``nni-config``, ``--algos`` in
                   ``bench-search``, where it takes a comma-separated list)
``--space NAME``   the design space, default ``regnetx``
``POP``            a population table, positional (or ``--table POP``) in ``compare``,
                   ``analyze`` and ``bench-search``
``--count-at PX``  the resolution complexity is counted at (``describe``, ``sample``)
``--resize PX``    resize the data to this input size before training (``train``, ``sweep``,
                   ``nni-config``)
=================  ==============================================================================

The old spellings (``--n``, ``--budget``, ``--tuner``, ``--tuner-seed``, ``--algos``,
``--resolution`` in each command's old meaning) still work for one release; ``--help`` lists
only the new ones.

Example:
    >>> import argparse
    >>> p = argparse.ArgumentParser(formatter_class=DefaultsHelp)
    >>> _ = p.add_argument("--trials", type=int, default=100, help="trials in total")
    >>> alias(p, "--n", dest="trials", type=int)
    >>> p.parse_args(["--n", "5"]).trials, p.parse_args([]).trials
    (5, 100)
    >>> "trials in total (default: 100)" in " ".join(p.format_help().split())
    True
"""

from __future__ import annotations

import argparse
from typing import Any


class DefaultsHelp(argparse.HelpFormatter):
    """Appends ``(default: X)`` to an option's help unless the help already names its default
    (or the default is None, False or []: "not given")."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        default = action.default
        if (text and "default" not in text and action.option_strings
                and default not in (None, False, [], argparse.SUPPRESS)
                and not isinstance(action, argparse._HelpAction)):
            text += " (default: %(default)s)"
        return text


def alias(p: argparse.ArgumentParser | Any, *flags: str, dest: str, **kwargs: Any) -> None:
    """Accept ``flags`` as hidden spellings of the option stored in ``dest`` (no default of their
    own: the visible option's applies)."""
    p.add_argument(*flags, dest=dest, default=argparse.SUPPRESS, help=argparse.SUPPRESS, **kwargs)


__all__ = ["DefaultsHelp", "alias"]
