"""NNI HPO for the design spaces: search-space JSON, experiment config, result export.

Everything here is generated from an encoding of the space (:mod:`regnet_space.spaces.encoding`);
no range is restated. The pieces:

* :func:`search_space`: NNI's search-space JSON, one entry per coordinate of the encoding
  (``feasible`` by default: every point decodes to a network inside the budget and the space's
  structural constraints; ``raw``: the space's parameters, most of them infeasible under a narrow
  budget). The coordinate-to-``_type`` table is in :mod:`.space`.
* :func:`decode_parameters`: what a tuner sends -> the space's exact parameter values.
* :func:`experiment_config` / :func:`write_experiment`: ``search_space.json`` and a v2
  ``config.yml`` whose trial command runs :mod:`regnet_space.search.nni.trial`, so that
  ``nnictl create --config DIR/config.yml`` just works (``regnet-space nni-config``);
  :func:`experiment` builds the same as an ``nni.experiment.Experiment`` ready for ``.run(port)``.
* :func:`read_experiment` / :func:`export_population`: an experiment's sqlite database -> the
  population table (``regnet-space nni-export``), joined by parameter id (see below).

NNI's built-in tuners draw q(log)uniform coordinates with their own end masses, so their prior
differs from the paper's distribution; the paper's distribution itself, with the budget applied
by rejection, is :class:`regnet_space.search.nni.tuner.DesignSpaceTuner` (``--sampler design``).

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
    >>> search_space("regnetx", encoding="raw")["b_index"]
    {'_type': 'quniform', '_value': [0, 2, 1]}

Importing this package does not import NNI; :mod:`.tuner` and :mod:`.nas` do (they subclass NNI's
classes), and :mod:`.trial` is the trial entry point (``python -m regnet_space.search.nni.trial``).
"""

from .config import (BUILTIN_TUNER_CLASSES, DESIGN_TUNER_CLASS, TUNERS, ExperimentSpec,
                     canonical_tuner, experiment_config, write_experiment)
from .experiment import experiment
from .export import experiment_db, export_population, read_experiment
from .space import Received, as_encoding, coord_spec, decode_parameters, search_space

__all__ = ["BUILTIN_TUNER_CLASSES", "DESIGN_TUNER_CLASS", "ExperimentSpec", "TUNERS",
           "canonical_tuner", "decode_parameters", "experiment", "experiment_config", "experiment_db",
           "export_population", "coord_spec", "read_experiment", "search_space", "Received", "as_encoding",
           "write_experiment"]
