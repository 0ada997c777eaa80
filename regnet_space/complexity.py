"""Analytic flops / params / activations of an AnyNet (pycls conventions, docs/conventions.md).

Two implementations that must agree to the integer:

* :func:`complexity` walks the network layer by layer, one small function per layer kind, in the
  same order as the builder in :mod:`regnet_space.nn` (the readable oracle; also gives the
  per-stage breakdown used by ``regnet-space describe``).
* :func:`complexity_arrays` is the closed form per stage, vectorised over many configurations with
  numpy (what budget sampling uses: millions of configurations per second).

flops are multiply-adds at batch 1 and the config's resolution. ReLU, sigmoid, the SE multiply and
residual additions are free; BN costs 2C params; conv and SE biases count once per output channel.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .config import NetConfig


@dataclass(frozen=True)
class Complexity:
    """flops (multiply-adds), params and activations of a network or a part of one.

    Example:
        >>> Complexity(1, 2, 3) + Complexity(10, 20, 30)
        Complexity(flops=11, params=22, acts=33)
    """

    flops: int = 0
    params: int = 0
    acts: int = 0

    def __add__(self, other: "Complexity") -> "Complexity":
        return Complexity(self.flops + other.flops, self.params + other.params, self.acts + other.acts)

    def __mul__(self, k: int) -> "Complexity":
        return Complexity(self.flops * k, self.params * k, self.acts * k)

    def as_dict(self) -> dict:
        return {"flops": self.flops, "params": self.params, "acts": self.acts}


ZERO = Complexity()


def out_size(h: int, stride: int) -> int:
    """Spatial size after an odd-kernel, 'same'-padded conv or pool with this stride."""
    return (h - 1) // stride + 1


# --------------------------------------------------------------------------- one function per layer
def conv_cx(h: int, w_in: int, w_out: int, k: int, stride: int = 1, groups: int = 1,
            bias: bool = False) -> tuple[int, Complexity]:
    """A k x k conv at input size h: returns (output size, complexity)."""
    h = out_size(h, stride)
    flops = k * k * w_in * w_out * h * h // groups + (w_out if bias else 0)
    params = k * k * w_in * w_out // groups + (w_out if bias else 0)
    return h, Complexity(flops, params, w_out * h * h)


def bn_cx(c: int) -> Complexity:
    return Complexity(0, 2 * c, 0)


def pool_cx(h: int, c: int, stride: int) -> tuple[int, Complexity]:
    h = out_size(h, stride)
    return h, Complexity(0, 0, c * h * h)


def linear_cx(w_in: int, w_out: int) -> Complexity:
    return Complexity(w_in * w_out + w_out, w_in * w_out + w_out, w_out)


def conv_bn_cx(h, w_in, w_out, k, stride=1, groups=1) -> tuple[int, Complexity]:
    h, cx = conv_cx(h, w_in, w_out, k, stride, groups)
    return h, cx + bn_cx(w_out)


def se_cx(w_b: int, w_se: int) -> Complexity:
    """Squeeze-excitation: two biased 1x1 convs at 1x1 spatial size."""
    _, a = conv_cx(1, w_b, w_se, 1, bias=True)
    _, b = conv_cx(1, w_se, w_b, 1, bias=True)
    return a + b


def stem_cx(cfg: NetConfig) -> tuple[int, Complexity]:
    h, c_in, w = cfg.resolution, cfg.in_channels, cfg.stem_w
    if cfg.stem == "resnet":
        h, cx = conv_bn_cx(h, c_in, w, 7, 2)
        h, pool = pool_cx(h, w, 2)
        return h, cx + pool
    return conv_bn_cx(h, c_in, w, 3, 2 if cfg.stem == "imagenet" else 1)


def block_cx(cfg: NetConfig, h: int, w_in: int, w: int, stride: int, w_b: int,
             g: int) -> tuple[int, Complexity]:
    """One block of ``cfg.block`` type: returns (output size, complexity)."""
    if cfg.block in ("V", "VR"):
        h_out, cx = conv_bn_cx(h, w_in, w, 3, stride)
    else:
        _, cx = conv_bn_cx(h, w_in, w_b, 1)
        h_out, b = conv_bn_cx(h, w_b, w_b, 3, stride, w_b // g)
        cx = cx + b
        if cfg.block == "Y":
            cx = cx + se_cx(w_b, int(round(cfg.se_ratio * w_in)))
        cx = cx + conv_bn_cx(h_out, w_b, w, 1)[1]
    if cfg.block != "V" and (w_in != w or stride != 1):
        cx = cx + conv_bn_cx(h, w_in, w, 1, stride)[1]
    return h_out, cx


def stage_complexities(cfg: NetConfig) -> tuple[Complexity, list[Complexity], Complexity]:
    """(stem, one entry per stage, head) of a config, counted layer by layer."""
    h, stem = stem_cx(cfg)
    w_in, stages = cfg.stem_w, []
    for st in cfg.stages:
        total = ZERO
        for i in range(st.d):
            h, cx = block_cx(cfg, h, w_in, st.w, st.s if i == 0 else 1, st.w_b, st.g)
            total, w_in = total + cx, st.w
        stages.append(total)
    return stem, stages, linear_cx(w_in, cfg.num_classes)


def complexity(cfg: NetConfig) -> Complexity:
    """Exact flops / params / acts of a NetConfig at its resolution.

    Example:
        >>> from regnet_space.zoo import get_config
        >>> complexity(get_config("RegNetX-200MF"))
        Complexity(flops=199040872, params=2684792, acts=2164056)
    """
    if not isinstance(cfg, NetConfig):
        raise TypeError(f"cfg must be a NetConfig (e.g. get_config('RegNetX-200MF') or "
                        f"NetConfig.from_dict(...)), got {type(cfg).__name__}")
    stem, stages, head = stage_complexities(cfg)
    return sum(stages, stem) + head


# --------------------------------------------------------------------------- vectorised closed form
#: Rows :func:`complexity_arrays` processes at once (benchmarks/bench_complexity.py measures it).
CHUNK_ROWS = 8192


def complexity_arrays(
    ds: np.ndarray,
    ws: np.ndarray,
    ss: np.ndarray,
    bs: np.ndarray,
    gs: np.ndarray,
    *,
    block: str = "X",
    stem: str = "imagenet",
    stem_w: int = 32,
    se_ratio: float | None = None,
    in_channels: int = 3,
    num_classes: int = 1000,
    resolution: int = 224,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """flops, params, acts (int64 arrays of shape (N,)) for N configurations at once.

    Per-stage arrays have shape (N, S); a stage with depth 0 is absent (padding for rows with
    fewer stages, its stride must be 1). Widths and group widths must already be compatible
    (see :func:`regnet_space.regnet.adjust_compatibility_arrays`). The result equals
    :func:`complexity` of the corresponding NetConfig, integer for integer.

    Example:
        >>> f, p, a = complexity_arrays([[1, 1, 4, 7]], [[24, 56, 152, 368]], [[2, 2, 2, 2]],
        ...                             [[1, 1, 1, 1]], [[8, 8, 8, 8]])
        >>> int(f[0]), int(p[0]), int(a[0])
        (199040872, 2684792, 2164056)
    """
    ds, ws, ss, gs = (np.asarray(x, dtype=np.int64) for x in (ds, ws, ss, gs))
    bs = np.asarray(bs, dtype=np.float64)
    if ds.ndim != 2 or any(x.shape != ds.shape for x in (ws, ss, bs, gs)):
        raise ValueError(f"ds, ws, ss, bs and gs must be (N, S) arrays of one shape, got "
                         f"{[np.shape(x) for x in (ds, ws, ss, bs, gs)]}")
    n, n_stages = ds.shape
    if n > CHUNK_ROWS:  # cache-sized blocks: a million-row temporary spills out of the caches
        kw = dict(block=block, stem=stem, stem_w=stem_w, se_ratio=se_ratio,
                  in_channels=in_channels, num_classes=num_classes, resolution=resolution)
        parts = [complexity_arrays(*(x[i:i + CHUNK_ROWS] for x in (ds, ws, ss, bs, gs)), **kw)
                 for i in range(0, n, CHUNK_ROWS)]
        return tuple(np.concatenate(col) for col in zip(*parts))  # type: ignore[return-value]
    if se_ratio is None:
        se_ratio = 0.25 if block == "Y" else 0.0
    i64 = np.int64

    # stem
    h = np.full(n, resolution, dtype=i64)
    k, s0 = (7, 2) if stem == "resnet" else (3, 2 if stem == "imagenet" else 1)
    h = (h - 1) // s0 + 1
    flops = k * k * in_channels * stem_w * h * h
    params = np.full(n, k * k * in_channels * stem_w + 2 * stem_w, dtype=i64)
    acts = stem_w * h * h
    if stem == "resnet":
        h = (h - 1) // 2 + 1
        acts = acts + stem_w * h * h

    w_in = np.full(n, stem_w, dtype=i64)
    for i in range(n_stages):
        d, w, s, g = ds[:, i], ws[:, i], ss[:, i], gs[:, i]
        w_b = np.round(w / bs[:, i]).astype(i64)
        present = d > 0
        h_out = (h - 1) // s + 1
        hw_in, hw = h * h, h_out * h_out
        if block in ("V", "VR"):
            f1 = 9 * w_in * w * hw
            p1 = 9 * w_in * w + 2 * w
            a1 = w * hw
            fr, pr, ar = 9 * w * w * hw, 9 * w * w + 2 * w, w * hw
        else:
            groups = np.maximum(w_b // g, 1)
            # 1x1 (at input size) + 3x3 group (strided) + 1x1, each with BN
            f3 = 9 * w_b * w_b * hw // groups
            p3 = 9 * w_b * w_b // groups
            f1 = w_in * w_b * hw_in + f3 + w_b * w * hw
            p1 = w_in * w_b + 2 * w_b + p3 + 2 * w_b + w_b * w + 2 * w
            a1 = w_b * hw_in + w_b * hw + w * hw
            # the other d - 1 blocks: w_in = w, stride 1, size h_out
            fr = w * w_b * hw + f3 + w_b * w * hw
            pr = w * w_b + 2 * w_b + p3 + 2 * w_b + w_b * w + 2 * w
            ar = w_b * hw + w_b * hw + w * hw
            if block == "Y":
                for w_src, first in ((w_in, True), (w, False)):
                    w_se = np.round(se_ratio * w_src).astype(i64)
                    se = 2 * w_b * w_se + w_se + w_b
                    if first:
                        f1, p1, a1 = f1 + se, p1 + se, a1 + w_se + w_b
                    else:
                        fr, pr, ar = fr + se, pr + se, ar + w_se + w_b
        if block != "V":
            proj = (w_in != w) | (s != 1)
            f1 = f1 + proj * (w_in * w * hw)
            p1 = p1 + proj * (w_in * w + 2 * w)
            a1 = a1 + proj * (w * hw)
        rest = np.maximum(d - 1, 0)
        flops = flops + present * f1 + rest * fr
        params = params + present * p1 + rest * pr
        acts = acts + present * a1 + rest * ar
        h = np.where(present, h_out, h)
        w_in = np.where(present, w, w_in)

    fc = w_in * num_classes + num_classes
    return flops + fc, params + fc, acts + num_classes


def complexity_of(configs: list[NetConfig]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`complexity_arrays` for a list of NetConfigs (grouped by block, stem and input).

    Example:
        >>> from regnet_space.zoo import get_config
        >>> f, p, a = complexity_of([get_config("RegNetX-200MF"), get_config("resnet50")])
        >>> f.tolist()
        [199040872, 4089185256]
    """
    n = len(configs)
    out = np.zeros((3, n), dtype=np.int64)
    keys = ("block", "stem", "stem_w", "se_ratio", "in_channels", "num_classes", "resolution")
    groups: dict[tuple, list[int]] = {}
    for i, c in enumerate(configs):
        groups.setdefault(tuple(getattr(c, k) for k in keys), []).append(i)
    for key, idx in groups.items():
        n_stages = max(len(configs[i].stages) for i in idx)
        arr = np.ones((5, len(idx), n_stages))  # padding stages: depth 0, stride 1
        arr[0] = 0
        for r, i in enumerate(idx):
            for j, st in enumerate(configs[i].stages):
                arr[:, r, j] = (st.d, st.w, st.s, st.b, st.g)
        f, p, a = complexity_arrays(*arr, **dict(zip(keys, key)))
        out[:, idx] = np.stack([f, p, a])
    return out[0], out[1], out[2]
