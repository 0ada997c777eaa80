"""regnet-space: the RegNet and AnyNetX design spaces as search spaces for NAS and HPO tools.

The numpy core (config, regnet, complexity, budget, zoo), the design spaces and their encodings, and
the analysis import without torch, optuna or nni; the integrations import them where they are used.
How the package is organised: docs/architecture.md.

Example:
    >>> import regnet_space as rs
    >>> rs.complexity(rs.get_config("RegNetX-200MF")).flops
    199040872
"""

from .budget import Budget, parse_range
from .complexity import Complexity, complexity, complexity_arrays
from .config import NetConfig, Stage
from .errors import ConfigError, RegNetSpaceError
from .regnet import generate_regnet, quantized_linear_fit
from .spaces import DesignSpace, Param, Sample, get_space, space_names
from .spaces.encoding import get_encoding
from .zoo import get_config, model_names

__version__ = "0.3.0"

__all__ = [
    "Budget", "Complexity", "ConfigError", "DesignSpace", "NetConfig", "Param",
    "RegNetSpaceError", "Sample", "Stage", "complexity", "complexity_arrays", "generate_regnet",
    "get_config", "get_encoding", "get_space", "model_names", "parse_range",
    "quantized_linear_fit", "space_names",
]
