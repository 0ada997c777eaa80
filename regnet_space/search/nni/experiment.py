"""NNI from Python: a configured ``nni.experiment.Experiment`` for a design space and a budget.

The same experiment ``regnet-space nni-config`` writes for ``nnictl create``, built in memory:
the search space of the chosen encoding (``feasible`` by default), the tuner (NNI's TPE, Random
or Evolution, or the paper's distribution, ``design``), and the trial command with the brief
recipe's options. Start it with ``.run(port)`` and read the results with
:func:`regnet_space.search.nni.export_population` (``exp.id``).

Example:
    >>> exp = experiment("regnetx", "2M:5M", tuner="TPE", trials=8,
    ...                  options={"epochs": 1, "train_size": 1000}, resolution=28)
    >>> exp.config.max_trial_number, sorted(exp.config.search_space)[:2]
    (8, ['b_index', 'd'])
    >>> "--encoding feasible" in exp.config.trial_command
    True
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any, Mapping

from ...budget import Budget, as_budget
from ...errors import ConfigError
from ...spaces import DesignSpace, get_space
from .config import ExperimentSpec, canonical_tuner, experiment_config
from .space import search_space


def _option_tokens(options: Mapping[str, Any] | None) -> list[str]:
    """Data and recipe options (``{"epochs": 1, "train_size": 1000}``) as the trial's tokens,
    validated by the same parser the trial uses."""
    from ...training.options import add_options, option_tokens, settings_from_options

    argv: list[str] = []
    for key, value in (options or {}).items():
        flag = "--" + str(key).replace("_", "-")
        if isinstance(value, bool):
            argv.append(flag if value else "--no-" + flag[2:])
        else:
            argv += [flag, str(value)]
    parser = argparse.ArgumentParser(prog="options", add_help=False, exit_on_error=False)
    add_options(parser)
    try:
        ns = parser.parse_args(argv)
    except (argparse.ArgumentError, SystemExit) as e:
        raise ConfigError(f"bad trial options {dict(options or {})}: {e}") from None
    settings_from_options(ns)  # a bad recipe fails here, not in every trial
    return option_tokens(ns)


def experiment(space: DesignSpace | str, budget: Budget | Any = None, *, tuner: str = "TPE",
               trials: int = 50, concurrency: int = 1, encoding: str = "feasible",
               seed: int = 0, options: Mapping[str, Any] | None = None,
               resolution: int | None = None, in_channels: int | None = None,
               num_classes: int | None = None, code_dir: str | Path | None = None,
               experiment_dir: str | Path | None = None, max_duration: str | None = None,
               gpus: int = 0):
    """An ``nni.experiment.Experiment`` searching ``space`` under ``budget``, ready for ``.run``.

    Args:
        space: a registered space name or a :class:`DesignSpace` (its input is the trials').
        budget: ``"2M:5M"``, a :class:`Budget`, or a dict of flops/params/acts ranges.
        tuner: ``TPE``, ``Random``, ``Evolution`` or ``design`` (the paper's distribution).
        trials, concurrency: ``maxTrialNumber`` and ``trialConcurrency``.
        encoding: ``feasible`` (default) or ``raw`` (see :mod:`regnet_space.spaces.encoding`).
        options: data and recipe options of the trials, as ``regnet-space train`` flags without
            dashes (``{"data": "fashion-mnist", "epochs": 1, "train_size": 1000}``); default:
            the brief preset on Fashion-MNIST.
        resolution, in_channels, num_classes: the input a space name is counted at (default
            Fashion-MNIST's 28, 1, 10).
        code_dir: the trials' working directory (default: the current one).
        experiment_dir, max_duration, gpus: as ``regnet-space nni-config``.

    Raises:
        ConfigError: a bad tuner, option, encoding or a budget the space cannot meet.
    """
    from nni.experiment import Experiment
    from nni.experiment.config import ExperimentConfig

    if isinstance(space, str):
        space = get_space(space, resolution=28 if resolution is None else resolution,
                          in_channels=1 if in_channels is None else in_channels,
                          num_classes=10 if num_classes is None else num_classes)
    if not isinstance(space, DesignSpace):
        raise ConfigError(f"space must be a DesignSpace or a space name, got "
                          f"{type(space).__name__}")
    for name, v, low in (("trials", trials, 1), ("concurrency", concurrency, 1), ("gpus", gpus, 0)):
        if isinstance(v, bool) or not isinstance(v, int) or v < low:
            raise ConfigError(f"{name} must be an integer >= {low}, got {v!r}")
    budget = as_budget(budget)
    if not budget.is_empty:  # an unreachable budget fails here, not in every trial
        space.sample_arrays(1, seed=seed, budget=budget, max_draws=2_000_000)
    spec = ExperimentSpec(space=space, budget=budget, tuner=canonical_tuner(tuner), trials=trials,
                          concurrency=concurrency, seed=seed,
                          trial_args=_option_tokens(options), encoding=encoding,
                          experiment_dir=None if experiment_dir is None else str(experiment_dir),
                          max_duration=max_duration, gpus=gpus)
    code = Path(code_dir or Path.cwd()).resolve()
    cfg = experiment_config(spec, code)
    cfg.pop("searchSpaceFile", None)
    cfg["searchSpace"] = search_space(space, budget, encoding)
    from .launch import patch_launcher

    patch_launcher()  # wait for NNI's web server as long as the machine needs ($REGNET_SPACE_NNI_WAIT)
    return Experiment(ExperimentConfig(**cfg))


__all__ = ["experiment"]
