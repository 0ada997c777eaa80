"""Named models: the paper's RegNetX/RegNetY 200MF..32GF and ResNet/ResNeXt baselines as AnyNets.

RegNet parameters (d, w0, wa, wm, g) are pycls's ``configs/dds_baselines`` (the same numbers as
timm's ``model_cfgs``); b = 1 for all of them. ResNe(X)ts use the ResNet stem, stride 1 in the
first stage and the bottleneck ratios of the originals (b = 4 for ResNet, b = 2 with 32 groups for
ResNeXt 32x4d).

Example:
    >>> get_config("RegNetX-200MF").widths
    (24, 56, 152, 368)
    >>> get_config("resnet50").depths
    (3, 4, 6, 3)
"""

from __future__ import annotations

from dataclasses import dataclass

from .config import NetConfig
from .regnet import generate_regnet
from .errors import ConfigError


@dataclass(frozen=True)
class RegNetParams:
    """The six RegNet parameters of a named model."""

    d: int
    w0: int
    wa: float
    wm: float
    g: int
    b: float = 1

    def to_config(self, block: str = "X", **net) -> NetConfig:
        r = generate_regnet(self.d, self.w0, self.wa, self.wm)
        return NetConfig.from_lists(r.ds, r.ws, ss=2, bs=self.b, gs=self.g, block=block, **net)


_SIZES = ("200MF", "400MF", "600MF", "800MF", "1.6GF", "3.2GF", "4.0GF", "6.4GF", "8.0GF",
          "12GF", "16GF", "32GF")
_TIMM = ("002", "004", "006", "008", "016", "032", "040", "064", "080", "120", "160", "320")

_X = (
    (13, 24, 36.44, 2.49, 8), (22, 24, 24.48, 2.54, 16), (16, 48, 36.97, 2.24, 24),
    (16, 56, 35.73, 2.28, 16), (18, 80, 34.01, 2.25, 24), (25, 88, 26.31, 2.25, 48),
    (23, 96, 38.65, 2.43, 40), (17, 184, 60.83, 2.07, 56), (23, 80, 49.56, 2.88, 120),
    (19, 168, 73.36, 2.37, 112), (22, 216, 55.59, 2.1, 128), (23, 320, 69.86, 2.0, 168),
)
_Y = (
    (13, 24, 36.44, 2.49, 8), (16, 48, 27.89, 2.09, 8), (15, 48, 32.54, 2.32, 16),
    (14, 56, 38.84, 2.4, 16), (27, 48, 20.71, 2.65, 24), (21, 80, 42.63, 2.66, 24),
    (22, 96, 31.41, 2.24, 64), (25, 112, 33.22, 2.27, 72), (17, 192, 76.82, 2.19, 56),
    (19, 168, 73.36, 2.37, 112), (18, 200, 106.23, 2.48, 112), (20, 232, 115.89, 2.53, 232),
)

#: name -> (block, RegNetParams, timm name)
REGNETS: dict[str, tuple[str, RegNetParams, str]] = {}
for _block, _table in (("X", _X), ("Y", _Y)):
    for _size, _t, _p in zip(_SIZES, _TIMM, _table):
        REGNETS[f"RegNet{_block}-{_size}"] = (_block, RegNetParams(*_p), f"regnet{_block.lower()}_{_t}")

# (depths, groups per stage (1 = ResNet), bottleneck ratio)
_RESNETS = {
    "resnet50": ((3, 4, 6, 3), 1, 4), "resnet101": ((3, 4, 23, 3), 1, 4),
    "resnet152": ((3, 8, 36, 3), 1, 4),
    "resnext50_32x4d": ((3, 4, 6, 3), 32, 2), "resnext101_32x4d": ((3, 4, 23, 3), 32, 2),
    "resnext152_32x4d": ((3, 8, 36, 3), 32, 2),
}


def _resnet(depths, groups, b) -> NetConfig:
    ws = (256, 512, 1024, 2048)
    gs = [int(w / b) // groups for w in ws]  # group width = w_b / groups
    return NetConfig.from_lists(depths, ws, ss=(1, 2, 2, 2), bs=b, gs=gs,
                                block="R" if groups == 1 else "X", stem="resnet", stem_w=64)


def model_names() -> list[str]:
    """Every named model: the RegNets (pycls names), then the ResNe(X)ts.

    Example:
        >>> model_names()[0], model_names()[-1]
        ('RegNetX-200MF', 'resnext152_32x4d')
    """
    return list(REGNETS) + list(_RESNETS)


def get_config(name: str, **net) -> NetConfig:
    """A named model as a NetConfig; ``net`` overrides input settings (resolution, classes...).

    Accepts pycls names (``RegNetX-200MF``), timm names (``regnetx_002``) and ResNe(X)t names.
    ``resolution`` below 64 switches to the small-image stem (see :meth:`NetConfig.with_input`).

    Example:
        >>> get_config("regnety_008").block
        'Y'
        >>> get_config("resnet50", resolution=32, num_classes=10).stem
        'small'
    """
    key = _lookup(name)
    unknown = sorted(set(net) - {"resolution", "in_channels", "num_classes", "stem"})
    if unknown:
        raise ConfigError(f"unknown input setting(s) {unknown} for {name}; allowed: resolution, "
                          "in_channels, num_classes, stem")
    if key in REGNETS:
        block, p, _ = REGNETS[key]
        cfg = p.to_config(block)
    else:
        cfg = _resnet(*_RESNETS[key])
    if net:
        res = net.pop("resolution", cfg.resolution)
        cfg = cfg.with_input(res, **net)
    return cfg


def regnet_params(name: str) -> RegNetParams:
    """(d, w0, wa, wm, g, b) of a named RegNet; a ConfigError for another model.

    Example:
        >>> regnet_params("RegNetX-200MF").w0
        24
    """
    key = _lookup(name)
    if key not in REGNETS:
        raise ConfigError(f"{name} is not a RegNet; RegNets: {', '.join(REGNETS)}")
    return REGNETS[key][1]


def timm_name(name: str) -> str:
    """timm's name of a model (ResNe(X)ts keep theirs).

    Example:
        >>> timm_name("RegNetY-800MF")
        'regnety_008'
    """
    key = _lookup(name)
    return REGNETS[key][2] if key in REGNETS else key


def _lookup(name: str) -> str:
    low = str(name).lower().replace("-", "_").replace(".", "_")
    for key, (_, _, timm) in REGNETS.items():
        if low in (key.lower().replace("-", "_").replace(".", "_"), timm):
            return key
    if low in _RESNETS:
        return low
    raise ConfigError(f"unknown model {name!r}; known: {', '.join(model_names())} "
                     "(timm names like regnetx_002 work too)")
