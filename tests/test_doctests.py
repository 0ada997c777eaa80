"""Every module's docstring examples are executed, so they can't rot."""

import doctest
import importlib

import pytest

MODULES = ["config", "complexity", "regnet", "budget", "spaces", "zoo", "table", "analysis", "plots",
        "report", "bench", "model", "evaluator", "data", "optuna_space", "nni_space",
        "nni_tuner", "nni_nas"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    mod = importlib.import_module(f"regnet_space.{name}")
    result = doctest.testmod(mod, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0
