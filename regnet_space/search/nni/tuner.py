"""DesignSpaceTuner: an NNI tuner that draws whole configurations from the paper's distribution.

The NNI counterpart of the Optuna design-space sampler. Each trial gets one exact draw of the
space's distribution (pycls's formulas, structural constraints and the complexity budget applied
by rejection): parameter id ``k`` gets the ``k``-th accepted sample of the seeded stream
``space.sample_arrays(..., seed=seed)``, which is prefix-consistent, so a trial's configuration
depends only on (space, input, budget, seed, k), whatever the concurrency or the order in which NNI
asks. This is random search over the design space, the paper's baseline; results are recorded, not
used.

``regnet-space nni-config --sampler design`` writes the tuner section::

    tuner:
      codeDirectory: /path/to/the/folder/holding/regnet_space   # BOTH are needed by NNI 3.0
      className: regnet_space.search.nni.tuner.DesignSpaceTuner
      classArgs: {space: regnetx, flops: [360000000, 400000000], resolution: 28,
                  in_channels: 1, num_classes: 10, seed: 0}

NNI accepts ``searchSpace: {}`` with a custom tuner; nni-config still writes the generated search
space (ignored here, except that its names are checked against the space's).

Example:
    >>> t = DesignSpaceTuner("regnetx", flops=[None, 400e6], seed=0)
    >>> t.generate_parameters(0) == t.generate_parameters(0)
    True
    >>> sorted(t.generate_parameters(3))
    ['b', 'd', 'g', 'w0', 'wa', 'wm']
"""

from __future__ import annotations

import logging
from typing import Any, Sequence

from nni.tuner import Tuner

from ...budget import Budget
from ...spaces import DesignSpace, SampleBatch, get_space
from ...errors import ConfigError

_logger = logging.getLogger(__name__)


class DesignSpaceTuner(Tuner):
    """Draws parameter id ``k`` as the ``k``-th accepted budget sample of a seeded stream.

    Args:
        space: a registered space name (``regnetx``, ``anynetx_a``, ...).
        flops, params, acts: inclusive budget ranges, ``[low, high]`` (either may be None) or a
            string such as ``"360M:400M"``.
        resolution, in_channels, num_classes, stem, block: the input the complexity is counted at
            (as :func:`regnet_space.spaces.get_space`).
        seed: the stream's seed.
        max_draws: rejection limit per refill (a BudgetError is logged and raised when the budget
            cannot be met).
    """

    def __init__(self, space: str, flops: Any = None, params: Any = None, acts: Any = None,
                 resolution: int | None = None, in_channels: int | None = None,
                 num_classes: int | None = None, stem: str | None = None,
                 block: str | None = None, seed: int = 0, max_draws: int = 20_000_000,
                 optimize_mode: str | None = None) -> None:
        self.space: DesignSpace = get_space(space, resolution=resolution, in_channels=in_channels,
                                            num_classes=num_classes, stem=stem, block=block)
        self.budget = Budget.parse(flops=_range(flops), params=_range(params), acts=_range(acts))
        self.seed = int(seed)
        self.max_draws = int(max_draws)
        self._batch: SampleBatch | None = None
        self.results: dict[int, Any] = {}
        # Fail at construction (the dispatcher log says why) rather than at the first trial.
        self._ensure(0)
        _logger.info("DesignSpaceTuner: %s at %dpx, %s, seed %d", self.space.name,
                     self.space.resolution, self.budget.describe(), self.seed)

    def _ensure(self, index: int) -> None:
        have = 0 if self._batch is None else len(self._batch)
        if index < have:
            return
        n = max(index + 1, 2 * have, 64)
        self._batch = self.space.sample_arrays(n, seed=self.seed, budget=self.budget,
                                               max_draws=self.max_draws)

    def sample(self, index: int) -> dict:
        """The ``index``-th accepted sample as plain Python numbers."""
        if index < 0:
            raise ConfigError(f"sample index must be >= 0, got {index}")
        self._ensure(index)
        assert self._batch is not None
        return {p.name: p.cast(self._batch.values[p.name][index]) for p in self.space.params}

    # ------------------------------------------------------------------ NNI's Tuner interface
    def update_search_space(self, search_space: dict) -> None:
        if search_space:
            unknown = sorted(set(search_space) - set(self.space.names))
            if unknown:
                _logger.warning("DesignSpaceTuner ignores the search space; its names %s are not "
                                "parameters of %s", unknown, self.space.name)

    def generate_parameters(self, parameter_id: int, **kwargs: Any) -> dict:
        return self.sample(int(parameter_id))

    def generate_multiple_parameters(self, parameter_id_list: Sequence[int], **kwargs: Any) -> list:
        if parameter_id_list:
            self._ensure(max(int(i) for i in parameter_id_list))
        return [self.sample(int(i)) for i in parameter_id_list]

    def receive_trial_result(self, parameter_id: int, parameters: dict, value: Any, **kwargs: Any) -> None:
        self.results[int(parameter_id)] = value

    def import_data(self, data: list) -> None:  # nothing to learn: random search
        pass


def _range(value: Any):
    if value is None:
        return None
    if isinstance(value, (list, tuple)):
        return [None if v is None else int(float(v)) for v in value]
    return value


# ------------------------------------------------------------------------------ built-in tuners
# NNI 3.0's dispatcher can deliver a trial's final result twice (or for a parameter id the tuner
# never handed out) when trials run concurrently: nni#5798 / nni#5739, close kin of the pairing bug
# nni#5726. The built-in TPE then raises KeyError in receive_trial_result and the dispatcher dies,
# stalling the experiment. These subclasses only ignore such duplicates (logged); nni-config writes
# them as custom tuners instead of the bare built-in names.
def _ignore_duplicates(base: type) -> type:
    def receive_trial_result(self, parameter_id, parameters, value, **kwargs):
        try:
            return base.receive_trial_result(self, parameter_id, parameters, value, **kwargs)
        except KeyError:
            _logger.warning("ignored a duplicate final result for parameter %s (nni#5798)",
                            parameter_id)

    return type(f"Tolerant{base.__name__}", (base,),
                {"receive_trial_result": receive_trial_result,
                 "__doc__": f"NNI's {base.__name__}, ignoring duplicate final results (nni#5798).",
                 "__module__": __name__})


def _builtin(name: str):
    from nni.algorithms.hpo import evolution_tuner, random_tuner, tpe_tuner

    return {"TPE": tpe_tuner.TpeTuner, "Random": random_tuner.RandomTuner,
            "Evolution": evolution_tuner.EvolutionTuner}[name]


TolerantTpeTuner = _ignore_duplicates(_builtin("TPE"))
TolerantRandomTuner = _ignore_duplicates(_builtin("Random"))
TolerantEvolutionTuner = _ignore_duplicates(_builtin("Evolution"))
