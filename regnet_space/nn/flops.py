"""Measured complexity: torch's FlopCounterMode as an independent oracle of the analytic flops.

``measure_flops(cfg)["flops"] == complexity(cfg).flops - analytic_bias_flops(cfg)`` for every
config: the counter sees the multiply-adds of convolutions and matrix products, pycls also counts
the SE and classifier biases.

Example:
    >>> from regnet_space.zoo import get_config
    >>> measure_flops(get_config("RegNetX-200MF"))["flops"]
    199039872
"""

from __future__ import annotations

import torch
from torch import nn

from ..config import NetConfig
from ..errors import ConfigError
from .builder import build_model

__all__ = ["CPU_FLOPS_LIMIT", "analytic_bias_flops", "measure_flops"]


def analytic_bias_flops(cfg: NetConfig) -> int:
    """The bias terms pycls adds to flops that a MAC counter does not see.

    ``w_se + w_b`` per Y block (the two SE convs' biases) plus ``num_classes`` (the classifier
    bias), so ``measure_flops(cfg)["flops"] == complexity(cfg).flops - analytic_bias_flops(cfg)``.
    """
    extra = cfg.num_classes
    if cfg.block == "Y":
        w_in = cfg.stem_w
        for st in cfg.stages:
            for i in range(st.d):
                extra += int(round(cfg.se_ratio * (w_in if i == 0 else st.w))) + st.w_b
            w_in = st.w
    return extra


#: measure_flops(cfg) runs on the CPU up to this many analytic multiply-adds, on ``meta`` above.
CPU_FLOPS_LIMIT = 2_000_000_000


def measure_flops(model_or_cfg: nn.Module | NetConfig, resolution: int | None = None, *,
                  in_channels: int | None = None, device: str | torch.device | None = None
                  ) -> dict[str, int]:
    """Multiply-adds of one batch-1 forward pass, counted by ``torch.utils.flop_counter``.

    ``FlopCounterMode`` reports FLOPs = 2 x MACs for convolutions and matrix products; this
    returns MACs: ``{"flops": conv + linear, "conv": ..., "linear": ..., "other": ...}``
    (``other``: any further op the counter knows, e.g. batched matmuls; 0 for an AnyNet). Bias
    additions are not counted (see :func:`analytic_bias_flops`).

    A NetConfig is built without initialisation and measured on ``device``: by default the CPU
    (weights zeroed) when its analytic flops are at most :data:`CPU_FLOPS_LIMIT`, else the ``meta``
    device (shapes only, no arithmetic; slower per layer, because BN has no fast meta kernel under
    the counter, but independent of the resolution). The counts are the same either way. A module
    is measured where its parameters live, in eval mode (its mode is restored afterwards).
    ``resolution`` defaults to the config's (an AnyNet's ``cfg``; else 224); ``in_channels`` to
    the config's, a timm model's ``in_chans``, else 3.

    Example:
        >>> from regnet_space.zoo import get_config
        >>> measure_flops(get_config("RegNetX-200MF"))["flops"]
        199039872
    """
    from torch.utils.flop_counter import FlopCounterMode

    if isinstance(model_or_cfg, NetConfig):
        cfg = model_or_cfg
        if resolution is not None and resolution != cfg.resolution:
            cfg = cfg.with_input(resolution, stem=cfg.stem)
        if device is None:
            from ..complexity import complexity
            device = "cpu" if complexity(cfg).flops <= CPU_FLOPS_LIMIT else "meta"
        with torch.device("meta"):
            model = build_model(cfg)
        if torch.device(device).type != "meta":
            model = model.to_empty(device=device)
            with torch.no_grad():
                for t in list(model.parameters()) + list(model.buffers()):
                    t.zero_()
    elif isinstance(model_or_cfg, nn.Module):
        model = model_or_cfg
        cfg = getattr(model, "cfg", None)
        cfg = cfg if isinstance(cfg, NetConfig) else None
        if device is not None:
            raise ConfigError("device applies to a NetConfig; move the module yourself")
    else:
        raise ConfigError(f"measure_flops needs an nn.Module or a NetConfig, "
                         f"got {type(model_or_cfg).__name__}")
    if resolution is None:
        resolution = cfg.resolution if cfg is not None else 224
    if in_channels is None:
        in_channels = cfg.in_channels if cfg is not None else int(getattr(model, "in_chans", 3))
    p = next(model.parameters(), None)
    on = p.device if p is not None else torch.device("cpu")
    dtype = p.dtype if p is not None and p.is_floating_point() else torch.float32
    x = torch.zeros(1, in_channels, resolution, resolution, device=on, dtype=dtype)
    was_training = model.training
    counter = FlopCounterMode(display=False)
    try:
        model.eval()
        with counter, torch.no_grad():
            model(x)
    finally:
        model.train(was_training)
    conv = linear = other = 0
    for op, n in counter.get_flop_counts().get("Global", {}).items():
        name = str(op)
        if "convolution" in name:
            conv += n
        elif name in ("aten.mm", "aten.addmm"):
            linear += n
        else:
            other += n
    conv, linear, other = conv // 2, linear // 2, other // 2
    return {"flops": conv + linear, "conv": conv, "linear": linear, "other": other}
