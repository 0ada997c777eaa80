"""The torch room: the AnyNet builder, timm interop and measured flops.

Importing this package imports torch (the numpy core never does); timm is imported only by
:func:`to_timm`.

Example:
    >>> from regnet_space.zoo import get_config
    >>> count_params(build_model(get_config("RegNetX-200MF")))
    2684792
"""

from .builder import (SE, AnyNet, BottleneckBlock, Head, VBlock, block, build_model, count_params,
                      head, init_weights, stage, stem)
from .flops import CPU_FLOPS_LIMIT, analytic_bias_flops, measure_flops
from .timm import timm_stage_widths, to_timm

__all__ = ["AnyNet", "BottleneckBlock", "CPU_FLOPS_LIMIT", "Head", "SE", "VBlock",
           "analytic_bias_flops", "block", "build_model", "count_params", "head", "init_weights",
           "measure_flops", "stage", "stem", "timm_stage_widths", "to_timm"]
