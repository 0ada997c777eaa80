"""The PyTorch AnyNet builder: a :class:`~regnet_space.config.NetConfig` as a module.

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
linear multiply-adds that :func:`regnet_space.nn.measure_flops` counts with ``torch.utils.flop_counter`` equal
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

import torch
from torch import nn

from ..config import NetConfig, Stage
from ..errors import ConfigError

__all__ = ["AnyNet", "SE", "BottleneckBlock", "VBlock", "Head", "build_model", "stem", "block", "stage",
           "head", "init_weights", "count_params"]

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
            raise ConfigError(f"AnyNet needs a NetConfig, got {type(cfg).__name__}")
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


def count_params(model: nn.Module) -> int:
    """Number of trainable-shape parameters (BN running stats are buffers, not counted)."""
    return int(sum(p.numel() for p in model.parameters()))
