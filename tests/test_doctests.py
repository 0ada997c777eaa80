"""Every module's docstring examples are executed, so they can't rot."""

import doctest
import importlib
import pkgutil

import pytest

import regnet_space

MODULES = sorted(m.name for m in pkgutil.walk_packages(regnet_space.__path__, "regnet_space.")
                 if not m.name.endswith("__main__"))
#: Modules that are only entry points or thin command wrappers (no examples required).
NO_EXAMPLES = ("regnet_space.cli.", "regnet_space.search.nni.trial")


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    mod = importlib.import_module(name)
    result = doctest.testmod(mod, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0
    if not name.startswith(NO_EXAMPLES) and mod.__doc__ is not None:
        assert result.attempted > 0, f"{name} has no docstring example"
