"""timm interop: :func:`to_timm` builds a real ``timm.models.regnet.RegNet`` with our exact stages.

timm is imported on first use only.

Example:
    >>> from regnet_space.zoo import get_config
    >>> m = to_timm(get_config("RegNetY-800MF"), zero_init_last=False)
    >>> sum(p.numel() for p in m.parameters())
    6263168
"""

from __future__ import annotations

import functools
from typing import Any

from torch import nn

from ..config import NetConfig, Stage
from ..errors import ConfigError

__all__ = ["to_timm", "timm_stage_widths"]

_TIMM_RESERVED = ("in_chans", "num_classes", "stem_width", "cfg")


@functools.cache
def _timm_classes() -> tuple[type, type]:
    """(TimmRegNetCfg, TimmRegNet), created on first use so importing this module skips timm."""
    from dataclasses import dataclass

    from timm.layers import calculate_drop_path_rates
    from timm.models.regnet import RegNet, RegNetCfg

    @dataclass
    class TimmRegNetCfg(RegNetCfg):
        """timm's RegNetCfg plus the exact stages: ``(depth, out_chs, stride, bottle_ratio,
        group_size)`` per stage, and the stem stride."""

        stages: tuple = ()
        stem_stride: int = 2

    class TimmRegNet(RegNet):
        """timm's RegNet whose stages come from ``cfg.stages`` instead of timm's float32
        generation from (depth, w0, wa, wm); everything else is timm's own code."""

        def _get_stage_args(self, cfg, default_stride: int = 2, output_stride: int = 32,
                            drop_path_rate: float = 0.0):
            depths = [s[0] for s in cfg.stages]
            dprs = calculate_drop_path_rates(drop_path_rate, depths, stagewise=True)
            per_stage, net_stride, dilation = [], cfg.stem_stride, 1
            for (d, w, s, br, g), dpr in zip(cfg.stages, dprs):
                if net_stride >= output_stride:  # timm's dilation rule for output_stride < 32
                    dilation *= s
                    s = 1
                else:
                    net_stride *= s
                per_stage.append(dict(out_chs=w, stride=s, dilation=dilation, depth=d,
                                      bottle_ratio=br, group_size=g, drop_path_rates=dpr))
            common = dict(downsample=cfg.downsample, se_ratio=cfg.se_ratio,
                          linear_out=cfg.linear_out, act_layer=cfg.act_layer,
                          norm_layer=cfg.norm_layer)
            return per_stage, common

    for cls in (TimmRegNetCfg, TimmRegNet):  # picklable as regnet_space.nn.timm.<name>
        cls.__module__, cls.__qualname__ = __name__, cls.__name__
    return TimmRegNetCfg, TimmRegNet


def __getattr__(name: str) -> Any:  # PEP 562: lazy timm subclasses (pickle finds them here)
    if name in ("TimmRegNetCfg", "TimmRegNet"):
        return dict(zip(("TimmRegNetCfg", "TimmRegNet"), _timm_classes()))[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _bottle_ratio(st: Stage) -> float:
    """timm's ``bottle_ratio`` (a multiplier: ``w_b = round(w * bottle_ratio)``) for our ``b``."""
    br = 1.0 / st.b
    return br if int(round(st.w * br)) == st.w_b else st.w_b / st.w


def _timm_problems(cfg: NetConfig) -> list[str]:
    problems = []
    if cfg.block not in ("X", "Y"):
        problems.append(f"block is {cfg.block!r} (timm's RegNet has X and Y blocks only)")
    if cfg.stem == "resnet":
        problems.append("stem is 'resnet' (timm's RegNet has a 3x3 conv stem)")
    if len(cfg.stages) != 4:
        problems.append(f"{len(cfg.stages)} stages (timm's RegNet has exactly 4)")
    if any(s != 2 for s in cfg.strides):
        problems.append(f"stage strides {cfg.strides} (timm's RegNet stages have stride 2)")
    return problems


def to_timm(cfg: NetConfig, **timm_kwargs: Any):
    """A real ``timm.models.regnet.RegNet`` with exactly the architecture of ``cfg``.

    Allowed: X or Y blocks, exactly 4 stages, every stage stride 2, the ``imagenet`` stem or the
    ``small`` stem (built as timm's stem with its conv stride set to 1; ``feature_info``
    reductions are adjusted to match). Anything else raises a ConfigError saying why.

    The returned model is a subclass of timm's ``RegNet`` (``regnet_space.nn.timm.TimmRegNet``)
    that overrides only ``_get_stage_args``: the stages (depth, width, stride 2,
    ``bottle_ratio = 1 / b``, ``group_size = g``, ``se_ratio``) are ours, not regenerated from
    (d, w0, wa, wm). That matters: timm's own ``regnetx_*`` / ``regnety_*`` generation computes the
    quantized widths in float32 and can differ from pycls's float64 on exact .5 ties (about 0.2% of
    random (d, w0, wa, wm) give a different stage width); passing our stage widths side-steps it.
    timm's float32 is fine for the 24 zoo models, whose widths agree.

    ``in_chans``, ``num_classes`` and ``stem_width`` come from ``cfg`` (use
    :meth:`NetConfig.with_input` to change them). Every other keyword goes to timm's ``RegNet``:
    e.g. ``zero_init_last`` (timm's default True zeroes the last BN gamma of each block; pass
    False for pycls's init), ``drop_rate``, ``drop_path_rate``, ``global_pool``,
    ``output_stride`` (8 or 16 dilate the last stages as timm does; the analytic flops then no
    longer apply), ``device``, ``dtype``, and RegNetCfg fields such as ``act_layer``.

    Example:
        >>> from regnet_space.zoo import get_config
        >>> m = to_timm(get_config("RegNetY-800MF"), zero_init_last=False)
        >>> sum(p.numel() for p in m.parameters())
        6263168
    """
    if not isinstance(cfg, NetConfig):
        raise ConfigError(f"to_timm needs a NetConfig, got {type(cfg).__name__}")
    problems = _timm_problems(cfg)
    if problems:
        raise ConfigError(
            "timm's RegNet cannot express this config: " + "; ".join(problems) + ". Allowed: "
            "X or Y blocks, exactly 4 stages, all stage strides 2, stem 'imagenet' or 'small' "
            "(build other configs with regnet_space.nn.build_model).")
    reserved = sorted(set(timm_kwargs) & set(_TIMM_RESERVED))
    if reserved:
        raise ConfigError(f"to_timm takes {reserved} from the NetConfig; set them with "
                         "cfg.with_input(resolution, in_channels=..., num_classes=...) or "
                         "dataclasses.replace(cfg, stem_w=...)")
    cfg_cls, model_cls = _timm_classes()
    from dataclasses import fields

    cfg_fields = {f.name for f in fields(cfg_cls)} - {"stages", "stem_stride"}
    cfg_overrides = {k: timm_kwargs.pop(k) for k in list(timm_kwargs) if k in cfg_fields}
    stem_stride = 1 if cfg.stem == "small" else 2
    tcfg = cfg_cls(
        depth=cfg.depth, group_size=cfg.gs[0], bottle_ratio=_bottle_ratio(cfg.stages[0]),
        se_ratio=cfg.se_ratio if cfg.block == "Y" else 0.0, stem_width=cfg.stem_w,
        stages=tuple((st.d, st.w, st.s, _bottle_ratio(st), st.g) for st in cfg.stages),
        stem_stride=stem_stride, **cfg_overrides)
    model = model_cls(tcfg, in_chans=cfg.in_channels, num_classes=cfg.num_classes, **timm_kwargs)
    if stem_stride == 1:
        conv = model.stem.conv if hasattr(model.stem, "conv") else model.stem
        conv.stride = (1, 1)  # same padding (1) for a 3x3 conv at stride 1 and 2
        for info in model.feature_info:
            info["reduction"] = info["reduction"] // 2
    return model


def timm_stage_widths(model: nn.Module) -> tuple[int, ...]:
    """Output channels of stages s1..s4 of a timm RegNet (from its ``feature_info``)."""
    return tuple(int(f["num_chs"]) for f in model.feature_info[1:])
