"""NNI HPO for the design spaces: search-space JSON, experiment config, result export.

Everything here is generated from the space's :class:`~regnet_space.spaces.Param` list; no range
is restated. The pieces:

* :func:`search_space`: NNI's search-space JSON for a :class:`~regnet_space.spaces.DesignSpace`.
* :func:`decode_parameters`: what an NNI tuner suggests -> the space's exact parameter values.
* :func:`experiment_config` / :func:`write_experiment`: ``search_space.json`` and a v2
  ``config.yml`` whose trial command runs :mod:`regnet_space.search.nni.trial`, so that
  ``nnictl create --config DIR/config.yml`` just works (``regnet-space nni-config``).
* :func:`read_experiment` / :func:`export_population`: an experiment's sqlite database -> the
  population table (``regnet-space nni-export``), joined by parameter id (see below).

Parameter mapping (:func:`search_space`)
-----------------------------------------
=================  ==============================  =============================================
``Param.kind``     NNI ``_type``                   notes
=================  ==============================  =============================================
``uniform``        ``quniform [low, high, q]``     NNI: ``clip(round(U(low, high) / q) * q)``;
                                                   the end points get half the mass of inner
                                                   points (pycls: ``floor(U(low, high + q))``,
                                                   all equal). Same grid, same order.
``log_uniform``    ``qloguniform [low, high, q]``  NNI: ``clip(round(exp(U(log low, log high))
                                                   / q) * q)``; pycls ceils a draw from
                                                   ``(low - min(q, low/2), high]``. Same grid and
                                                   log scale, slightly different end masses.
``power2``         ``choice`` over the powers      uniform over the values: exact.
``power2_or_log``  ``choice`` over ``values()``    uniform over the values, not pycls's mixture
                                                   (an ordered choice keeps it on the grid).
``choice``         ``choice``                      exact.
=================  ==============================  =============================================

The tuners' priors therefore differ slightly from the paper's distribution (and structural
constraints such as "4 stages" or monotone widths are not expressible in NNI's JSON at all: the
trial reports such samples as infeasible). The exact paper distribution, with the budget applied
by rejection, is :class:`regnet_space.search.nni.tuner.DesignSpaceTuner` (``--tuner design``).

NNI's arithmetic leaves float noise (``36.400000000000006``) and numpy scalars in what the trial
receives; :func:`decode_parameters` snaps every value to the nearest allowed one with
:meth:`Param.snap` (a no-op on the grid) and says which values moved.

Export and the concurrency bug (nni#5726)
-----------------------------------------
With ``trialConcurrency > 1`` NNI's manager pairs trial jobs with the wrong parameters in its
records (web UI, ``nnictl trial ls``, ``experiment export``, and the ``TrialJobEvent`` rows of the
database). Metrics carry the right parameter id. The export therefore joins
``MetricData.parameterId`` (FINAL) to ``TrialJobEvent.data['parameter_id']`` and, in addition,
prefers the decoded configuration the trial echoes in its final result, checking that both agree.
It reads the sqlite file directly, so stopped experiments export too (``nnictl experiment export``
refuses them).

Example:
    >>> search_space("regnetx")["b"]
    {'_type': 'choice', '_value': [1, 2, 4]}

Importing this package does not import NNI; :mod:`.tuner` and :mod:`.nas` do (they subclass NNI's
classes), and :mod:`.trial` is the trial entry point (``python -m regnet_space.search.nni.trial``).
"""

from .config import (BUILTIN_TUNER_CLASSES, DESIGN_TUNER_CLASS, TUNERS, ExperimentSpec,
                     canonical_tuner, experiment_config, write_experiment)
from .export import experiment_db, export_population, read_experiment
from .space import decode_parameters, param_spec, search_space

__all__ = ["BUILTIN_TUNER_CLASSES", "DESIGN_TUNER_CLASS", "ExperimentSpec", "TUNERS",
           "canonical_tuner", "decode_parameters", "experiment_config", "experiment_db",
           "export_population", "param_spec", "read_experiment", "search_space",
           "write_experiment"]
