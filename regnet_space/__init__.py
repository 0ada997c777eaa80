"""regnet-space: the RegNet and AnyNetX design spaces as search spaces for NAS and HPO tools.

The numpy core (config, regnet, complexity, budget, spaces, zoo, analysis) imports without torch,
optuna or nni; integrations import them lazily.

Example:
    >>> import regnet_space as rs
    >>> rs.complexity(rs.get_config("RegNetX-200MF")).flops
    199040872
"""

from .budget import Budget, parse_range
from .complexity import Complexity, complexity, complexity_arrays
from .config import NetConfig, Stage
from .regnet import generate_regnet, quantized_linear_fit
from .spaces import DesignSpace, Param, Sample, get_space, space_names
from .zoo import get_config, model_names

__version__ = "0.1.0"

__all__ = [
    "Budget", "Complexity", "DesignSpace", "NetConfig", "Param", "Sample", "Stage",
    "complexity", "complexity_arrays", "generate_regnet", "get_config", "get_space",
    "model_names", "parse_range", "quantized_linear_fit", "space_names",
]
