"""The PyTorch AnyNet builder and timm interop: a :class:`~regnet_space.config.NetConfig` as a module.

This is the torch module of the package: it imports torch at its top, and nothing in the numpy core
(config, regnet, complexity, spaces, zoo) imports it. timm is imported lazily, only by
:func:`to_timm`.

The builder mirrors the analytic complexity in :mod:`regnet_space.complexity` block by block; each
constructor here has a ``*_cx`` twin there that counts the same layers in the same order:

==================  ============================  =============================================
builder (here)      complexity.py                 layers
==================  ============================  =============================================
:func:`stem`        ``stem_cx``                   conv (3x3 s2 / 7x7 s2 + max-pool / 3x3 s1), BN
:func:`block`       ``block_cx``                  one X / Y / R / V / VR block incl. shortcut
:class:`SE`         ``se_cx``                     two biased 1x1 convs at 1x1 spatial size
:func:`stage`       ``stage_complexities`` loop   ``d`` blocks, stride on the first
:func:`head`        ``linear_cx``                 global average pool, Linear with bias
==================  ============================  =============================================

So ``count_params(build_model(cfg)) == complexity(cfg).params`` for every config, and the conv and
linear multiply-adds that :func:`measure_flops` counts with ``torch.utils.flop_counter`` equal
``complexity(cfg).flops`` minus the bias terms pycls adds (``w_se + w_b`` per SE and
``num_classes`` for the classifier; see :func:`analytic_bias_flops`).

Example:
    >>> from regnet_space.zoo import get_config
    >>> model = build_model(get_config("RegNetX-200MF"))
    >>> count_params(model)
    2684792
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import nn

from .config import NetConfig, Stage

__all__ = [
    "AnyNet", "SE", "BottleneckBlock", "VBlock", "Head", "build_model", "stem", "block", "stage",
    "head", "init_weights", "count_params", "measure_flops", "analytic_bias_flops", "to_timm",
    "timm_stage_widths", "CPU_FLOPS_LIMIT",
]

BN_EPS = 1e-5
BN_MOMENTUM = 0.1


def _bn(c: int) -> nn.BatchNorm2d:
    return nn.BatchNorm2d(c, eps=BN_EPS, momentum=BN_MOMENTUM)


def _conv(w_in: int, w_out: int, k: int, stride: int = 1, groups: int = 1) -> nn.Conv2d:
    """k x k conv, 'same' padding for odd k, no bias (a BN always follows)."""
    return nn.Conv2d(w_in, w_out, k, stride=stride, padding=k // 2, groups=groups, bias=False)


# --------------------------------------------------------------------------------------- stem
def stem(cfg: NetConfig) -> nn.Sequential:
    """The stem of ``cfg`` (counted by ``complexity.stem_cx``).

    * ``imagenet``: 3x3 conv stride 2 (no bias) -> ``stem_w``, BN, ReLU.
    * ``resnet``: 7x7 conv stride 2 -> ``stem_w``, BN, ReLU, 3x3 max-pool stride 2 (padding 1).
    * ``small``: 3x3 conv stride 1, BN, ReLU (CIFAR / Fashion-MNIST sized inputs).
    """
    c_in, w = cfg.in_channels, cfg.stem_w
    if cfg.stem == "resnet":
        return nn.Sequential(_conv(c_in, w, 7, 2), _bn(w), nn.ReLU(inplace=True),
                             nn.MaxPool2d(3, stride=2, padding=1))
    return nn.Sequential(_conv(c_in, w, 3, 2 if cfg.stem == "imagenet" else 1), _bn(w),
                         nn.ReLU(inplace=True))


# --------------------------------------------------------------------------------------- blocks
class SE(nn.Module):
    """Squeeze-and-excitation (counted by ``complexity.se_cx``).

    Global average pool, 1x1 conv with bias ``w_b -> w_se``, ReLU, 1x1 conv with bias
    ``w_se -> w_b``, sigmoid, multiply.
    """

    def __init__(self, w_b: int, w_se: int) -> None:
        super().__init__()
        self.fc1 = nn.Conv2d(w_b, w_se, 1, bias=True)
        self.act = nn.ReLU(inplace=True)
        self.fc2 = nn.Conv2d(w_se, w_b, 1, bias=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        s = x.mean((2, 3), keepdim=True)
        return x * torch.sigmoid(self.fc2(self.act(self.fc1(s))))


class BottleneckBlock(nn.Module):
    """X / Y / R block (the bottleneck branch of ``complexity.block_cx``).

    1x1 conv ``w_in -> w_b``, BN, ReLU; 3x3 group conv ``w_b -> w_b`` (``w_b // g`` groups,
    carries the stride), BN, ReLU; [SE for Y, ``w_se = round(se_ratio * w_in)`` with ``w_in`` the
    block's input width]; 1x1 conv ``w_b -> w``, BN; add the shortcut (identity when
    ``w_in == w`` and stride 1, else 1x1 conv with the stride + BN); ReLU. R is X with one group
    (the config already sets ``g = w_b``).
    """

    def __init__(self, w_in: int, w: int, stride: int, w_b: int, g: int, se_ratio: float = 0.0):
        super().__init__()
        self.a = _conv(w_in, w_b, 1)
        self.a_bn = _bn(w_b)
        self.a_relu = nn.ReLU(inplace=True)
        self.b = _conv(w_b, w_b, 3, stride, groups=max(1, w_b // g))
        self.b_bn = _bn(w_b)
        self.b_relu = nn.ReLU(inplace=True)
        self.se = SE(w_b, int(round(se_ratio * w_in))) if se_ratio else None
        self.c = _conv(w_b, w, 1)
        self.c_bn = _bn(w)
        self.c_bn.final_bn = True  # the BN zero_init_last_bn zeroes
        if w_in != w or stride != 1:
            self.proj = _conv(w_in, w, 1, stride)
            self.proj_bn = _bn(w)
        else:
            self.proj = self.proj_bn = None
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shortcut = x if self.proj is None else self.proj_bn(self.proj(x))
        y = self.a_relu(self.a_bn(self.a(x)))
        y = self.b_relu(self.b_bn(self.b(y)))
        if self.se is not None:
            y = self.se(y)
        y = self.c_bn(self.c(y))
        return self.relu(y + shortcut)


class VBlock(nn.Module):
    """V / VR block (the plain branch of ``complexity.block_cx``).

    V: a single 3x3 conv ``w_in -> w`` (carries the stride), BN, ReLU, no shortcut.
    VR (``residual=True``): the same conv and BN, plus the shortcut (identity, or 1x1 conv with
    the stride + BN when the shape changes), then ReLU after the add.
    """

    def __init__(self, w_in: int, w: int, stride: int, residual: bool = False):
        super().__init__()
        self.a = _conv(w_in, w, 3, stride)
        self.a_bn = _bn(w)
        self.residual = residual
        if residual and (w_in != w or stride != 1):
            self.proj = _conv(w_in, w, 1, stride)
            self.proj_bn = _bn(w)
        else:
            self.proj = self.proj_bn = None
        if residual:
            self.a_bn.final_bn = True
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.a_bn(self.a(x))
        if self.residual:
            y = y + (x if self.proj is None else self.proj_bn(self.proj(x)))
        return self.relu(y)


def block(cfg: NetConfig, w_in: int, w: int, stride: int, w_b: int, g: int) -> nn.Module:
    """One block of type ``cfg.block`` (same signature as ``complexity.block_cx`` minus ``h``)."""
    if cfg.block in ("V", "VR"):
        return VBlock(w_in, w, stride, residual=cfg.block == "VR")
    return BottleneckBlock(w_in, w, stride, w_b, g, cfg.se_ratio if cfg.block == "Y" else 0.0)


def stage(cfg: NetConfig, w_in: int, st: Stage) -> nn.Sequential:
    """``st.d`` blocks named b1..bd; the first has the stage stride and input width ``w_in``."""
    blocks = nn.Sequential()
    for i in range(st.d):
        blocks.add_module(f"b{i + 1}", block(cfg, w_in if i == 0 else st.w,
                                             st.w, st.s if i == 0 else 1, st.w_b, st.g))
    return blocks


# --------------------------------------------------------------------------------------- head
class Head(nn.Module):
    """Global average pool (``x.mean((2, 3))``) and a Linear layer with bias (``linear_cx``)."""

    def __init__(self, w_in: int, num_classes: int) -> None:
        super().__init__()
        self.fc = nn.Linear(w_in, num_classes, bias=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(x.mean((2, 3)))


def head(w_in: int, num_classes: int) -> Head:
    return Head(w_in, num_classes)


# --------------------------------------------------------------------------------------- network
def init_weights(module: nn.Module, zero_init_last_bn: bool = False) -> None:
    """pycls initialisation, applied to every submodule of ``module``.

    Conv weights normal with std ``sqrt(2 / fan_out)``, ``fan_out = k * k * out_channels`` (pycls
    does not divide by groups; timm does); conv biases (only SE has them) zero (as timm; pycls
    leaves PyTorch's default); BN weight 1, bias 0; Linear weight normal std 0.01, bias 0. With
    ``zero_init_last_bn`` the last BN of each residual block (``c_bn`` of X/Y/R, the BN of a VR
    block) starts at gamma 0, as timm's ``zero_init_last=True``; V blocks have no residual and are
    never zeroed. Parameters on the ``meta`` device (no storage) are skipped.
    """
    for m in module.modules():
        if any(p.is_meta for p in m.parameters(recurse=False)):
            continue
        if isinstance(m, nn.Conv2d):
            fan_out = m.kernel_size[0] * m.kernel_size[1] * m.out_channels
            nn.init.normal_(m.weight, mean=0.0, std=math.sqrt(2.0 / fan_out))
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm2d):
            zero = zero_init_last_bn and getattr(m, "final_bn", False)
            nn.init.constant_(m.weight, 0.0 if zero else 1.0)
            nn.init.zeros_(m.bias)
        elif isinstance(m, nn.Linear):
            nn.init.normal_(m.weight, mean=0.0, std=0.01)
            nn.init.zeros_(m.bias)


class AnyNet(nn.Module):
    """stem -> s1 .. sN -> head, built from a NetConfig (``cfg`` is kept on the module).

    Complexity lives in :mod:`regnet_space.complexity`, block by block, mirroring this structure
    (``stem``/``stem_cx``, ``block``/``block_cx``, ``SE``/``se_cx``, ``head``/``linear_cx``).

    Example:
        >>> from regnet_space.config import NetConfig
        >>> cfg = NetConfig.from_lists([1, 2], [16, 32], gs=8, block="Y", resolution=32,
        ...                            stem="small", num_classes=10)
        >>> AnyNet(cfg)(torch.zeros(2, 3, 32, 32)).shape
        torch.Size([2, 10])
    """

    def __init__(self, cfg: NetConfig, *, zero_init_last_bn: bool = False) -> None:
        super().__init__()
        if not isinstance(cfg, NetConfig):
            raise ValueError(f"AnyNet needs a NetConfig, got {type(cfg).__name__}")
        self.cfg = cfg
        self.stem = stem(cfg)
        w_in = cfg.stem_w
        for i, st in enumerate(cfg.stages):
            self.add_module(f"s{i + 1}", stage(cfg, w_in, st))
            w_in = st.w
        self.head = head(w_in, cfg.num_classes)
        init_weights(self, zero_init_last_bn=zero_init_last_bn)

    @property
    def stages(self) -> list[nn.Sequential]:
        return [getattr(self, f"s{i + 1}") for i in range(len(self.cfg.stages))]

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stem(x)
        for s in self.stages:
            x = s(x)
        return x

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.forward_features(x))


def build_model(cfg: NetConfig, *, zero_init_last_bn: bool = False) -> AnyNet:
    """The torch module of a NetConfig (see :class:`AnyNet`).

    pycls initialisation; ``zero_init_last_bn=True`` zeroes the last BN gamma of every residual
    block as timm does by default (pycls does not). To build without allocating memory (e.g. to
    count parameters of large models), construct under ``with torch.device("meta"):``.

    Example:
        >>> from regnet_space.zoo import get_config
        >>> build_model(get_config("RegNetY-800MF")).head.fc.out_features
        1000
    """
    return AnyNet(cfg, zero_init_last_bn=zero_init_last_bn)


# --------------------------------------------------------------------------------------- measuring
def count_params(model: nn.Module) -> int:
    """Number of trainable-shape parameters (BN running stats are buffers, not counted)."""
    return int(sum(p.numel() for p in model.parameters()))


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
            from .complexity import complexity
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
            raise ValueError("device applies to a NetConfig; move the module yourself")
    else:
        raise ValueError(f"measure_flops needs an nn.Module or a NetConfig, "
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


# --------------------------------------------------------------------------------------- timm
_TIMM_RESERVED = ("in_chans", "num_classes", "stem_width", "cfg")


def _timm_classes() -> tuple[type, type]:
    """(TimmRegNetCfg, TimmRegNet), created on first use so importing this module skips timm."""
    cached = globals().get("_TIMM_CLASSES")
    if cached is not None:
        return cached
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

    for cls in (TimmRegNetCfg, TimmRegNet):  # picklable as regnet_space.model.<name>
        cls.__module__, cls.__qualname__ = __name__, cls.__name__
    globals()["_TIMM_CLASSES"] = (TimmRegNetCfg, TimmRegNet)
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
    reductions are adjusted to match). Anything else raises a ValueError saying why.

    The returned model is a subclass of timm's ``RegNet`` (``regnet_space.model.TimmRegNet``)
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
        raise ValueError(f"to_timm needs a NetConfig, got {type(cfg).__name__}")
    problems = _timm_problems(cfg)
    if problems:
        raise ValueError(
            "timm's RegNet cannot express this config: " + "; ".join(problems) + ". Allowed: "
            "X or Y blocks, exactly 4 stages, all stage strides 2, stem 'imagenet' or 'small' "
            "(build other configs with regnet_space.model.build_model).")
    reserved = sorted(set(timm_kwargs) & set(_TIMM_RESERVED))
    if reserved:
        raise ValueError(f"to_timm takes {reserved} from the NetConfig; set them with "
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
