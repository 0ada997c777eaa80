"""RegNet design spaces (paper section 4): (d, w0, wa, wm, b, g) -> quantized linear widths.

Example:
    >>> regnet("Y").name
    'regnety'
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import ConfigError
from ..regnet import (adjust_compatibility_arrays, generate_regnet, generate_regnet_arrays,
                      last_level)
from .anynet import B_CHOICES
from .base import DesignSpace
from .params import Param

@dataclass(frozen=True)
class RegNetSpace(DesignSpace):
    """RegNet: (d, w0, wa, wm, b, g) -> quantized linear widths (Eq. 2-4), keeping only samples
    with exactly ``num_stages`` stages and no skipped exponent level (as pycls's sweep does).

    :meth:`decode` accepts any stage count, so a tool can inspect a rejected sample;
    :meth:`check` reports the stage rule."""

    num_stages: int = 4

    def prefilter(self, v):
        # num_stages == total_stages == S needs exactly S exponent levels: decided by the last block
        return last_level(v["d"], v["w0"], v["wa"], v["wm"]) == self.num_stages - 1

    def stage_arrays(self, v):
        ds, ws, ns, ts = generate_regnet_arrays(v["d"], v["w0"], v["wa"], v["wm"])
        ok = (ns == self.num_stages) & (ns == ts)
        bs = np.repeat(np.asarray(v["b"], float)[:, None], ds.shape[1], 1)
        g = np.repeat(np.asarray(v["g"])[:, None], ds.shape[1], 1)
        if self.block == "R":
            g = np.trunc(ws / bs).astype(np.int64)
        ws_adj, gs_adj = adjust_compatibility_arrays(ws, bs, g)
        ss = np.where(ds > 0, 2, 1)
        return ds, ws_adj, ss, bs, gs_adj, ok

    def structure_descriptions(self) -> list[str]:
        return [f"exactly {self.num_stages} stages with no skipped width level"]

    @functools.cached_property
    def size(self) -> float:
        """Grid points with exactly ``num_stages`` stages and no skipped level: estimated from
        200,000 uniformly drawn grid points (a seeded estimate; :attr:`size_is_exact` is False).
        """
        rng = np.random.default_rng(0)
        n = 200_000
        v = {p.name: p.values()[rng.integers(p.cardinality, size=n)] for p in self.params}
        *_, ok, _ = self.check_arrays(v)
        return self.grid_size * float(ok.mean())

    @property
    def size_is_exact(self) -> bool:
        return False

    def _explain(self, values) -> str:
        r = generate_regnet(values["d"], values["w0"], values["wa"], values["wm"])
        why = (f"{r.num_stages} stages" if r.num_stages != self.num_stages else
               f"skips a width level ({r.num_stages} stages over {r.total_stages} levels)")
        return f"RegNet needs {self.num_stages} stages with no skipped level; this one has {why}"


def _constrained_caps():
    # Section 4-5: params <= 3 + 5.5 F million and acts <= 6.5 sqrt(F) million, F in GF.
    def params_cap(f, p, a):
        return p <= (3 + 5.5 * f / 1e9) * 1e6

    def acts_cap(f, p, a):
        return a <= 6.5 * np.sqrt(f / 1e9) * 1e6

    return (("params <= 3 + 5.5 F million (F = GF)", params_cap),
            ("acts <= 6.5 sqrt(F) million (F = GF)", acts_cap))


def regnet(block: str = "X", *, num_stages: int = 4, variant: str = "paper", **net: Any) -> RegNetSpace:
    """RegNetX/RegNetY spaces.

    ``variant``: ``paper`` (d < 64, w0 in [8, 256) step 8, wa in [8, 256) step 0.1, 1.5 <= wm <= 3,
    b in {1, 2, 4}, g in {1..32} powers of 2), ``constrained`` (Sec. 4-5: b = 1, 12 <= d <= 28,
    wm >= 2, g power of 2 below 8 or multiple of 8 up to 128, params and acts caps), ``pycls``
    (pycls's sweep sampler with its defaults: depth uniform [12, 28], w0 [8, 256] step 8 and wa
    [8, 256] step 0.1 log-uniform, wm [2, 3] step 0.001 log-uniform, b = 1, and g from
    ``power2_or_log_uniform(8, 128, 8)``, which never gives g < 8; no caps).

    Example:
        >>> regnet("Y").name
        'regnety'
    """
    block = block.upper()
    if variant == "paper":
        params = (Param("d", "uniform", 1, 63, 1), Param("w0", "log_uniform", 8, 248, 8),
                  Param("wa", "log_uniform", 8, 255.9, 0.1), Param("wm", "log_uniform", 1.5, 3, 0.001),
                  Param("b", "choice", choices=B_CHOICES), Param("g", "power2", 1, 32, 1))
        desc, caps = "d < 64, w0, wa in [8, 256), 1.5 <= wm <= 3, b in {1,2,4}, g in {1..32}", ()
    elif variant in ("constrained", "pycls"):
        g_low = 1 if variant == "constrained" else 8
        params = (Param("d", "uniform", 12, 28, 1), Param("w0", "log_uniform", 8, 256, 8),
                  Param("wa", "log_uniform", 8, 256, 0.1), Param("wm", "log_uniform", 2, 3, 0.001),
                  Param("b", "choice", choices=(1,)), Param("g", "power2_or_log", g_low, 128, 8))
        desc = "12 <= d <= 28, w0, wa in [8, 256], 2 <= wm <= 3, b = 1, "
        if variant == "constrained":
            desc += "g: 1, 2, 4 or 8k <= 128; params <= 3 + 5.5F M, acts <= 6.5 sqrt(F) M"
            caps = _constrained_caps()
        else:
            desc += "g: 8k <= 128 log-uniform (pycls's sweep defaults)"
            caps = ()
    else:
        raise ConfigError(f"RegNet variant must be paper, constrained or pycls, got {variant!r}")
    suffix = {"paper": "", "constrained": "_constrained", "pycls": "_pycls"}[variant]
    stages = f"_{num_stages}s" if num_stages != 4 else ""
    return RegNetSpace(name=f"regnet{block.lower()}{suffix}{stages}", params=params, block=block,
                       description=desc, caps=caps, num_stages=num_stages, **net)



__all__ = ["RegNetSpace", "regnet"]
