"""The docstring examples of the numpy core are executed, so they can't rot."""

import doctest
import importlib

import pytest

CORE = ["config", "complexity", "regnet", "budget", "spaces", "zoo"]


@pytest.mark.parametrize("name", CORE)
def test_docstring_examples(name):
    mod = importlib.import_module(f"regnet_space.{name}")
    result = doctest.testmod(mod, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0
