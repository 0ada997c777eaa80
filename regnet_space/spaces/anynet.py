"""AnyNetX_A..E (paper section 3.2): per-stage depth d_i, width w_i, bottleneck ratio b_i and
group width g_i, with shared b (B), shared g (C), non-decreasing widths (D) and depths (E).

Example:
    >>> f"{anynetx('A').size:.1e}"
    '1.8e+18'
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import ConfigError
from ..regnet import adjust_compatibility_arrays
from .base import DesignSpace
from .params import Param

D_RANGE, W_RANGE, B_CHOICES, G_RANGE = (1, 16), (8, 1024), (1, 2, 4), (1, 32)


@dataclass(frozen=True)
class AnyNetSpace(DesignSpace):
    """AnyNetX_A..E: per-stage depth d_i, width w_i, bottleneck ratio b_i and group width g_i.

    ``shared_b``/``shared_g`` tie b and g across stages (B, C); ``monotone_w``/``monotone_d``
    require w_{i+1} >= w_i (D) and d_{i+1} >= d_i (E), enforced by rejection so the distribution is
    the product distribution restricted to the space.
    """

    num_stages: int = 4
    shared_b: bool = False
    shared_g: bool = False
    monotone_w: bool = False
    monotone_d: bool = False

    def draw(self, rng, n):
        v = super().draw(rng, n)
        # Monotone widths/depths: draw the stage sequence from the product distribution restricted
        # to non-decreasing sequences, exactly (no 1-in-24 rejection).
        for flag, prefix in ((self.monotone_w, "w"), (self.monotone_d, "d")):
            if flag:
                seq = sample_monotone(self.param(f"{prefix}1"), self.num_stages, rng, n)
                for i in range(self.num_stages):
                    v[f"{prefix}{i + 1}"] = seq[:, i]
        return v

    def paper_size(self) -> float:
        """The paper's count: (16 * 128 * 3 * 6)^4 for A, shared b and g counted once, and each
        monotone constraint dividing by 4! (the paper's approximation of the exact count)."""
        s = self.num_stages
        n = 16.0 ** s * 128.0 ** s
        n *= 3.0 if self.shared_b else 3.0 ** s
        n *= 6.0 if self.shared_g else 6.0 ** s
        for flag in (self.monotone_w, self.monotone_d):
            if flag:
                n /= math.factorial(s)
        return n

    def stage_arrays(self, v):
        s = self.num_stages
        n = len(next(iter(v.values())))
        ds = np.stack([v[f"d{i}"] for i in range(1, s + 1)], 1).astype(np.int64)
        ws = np.stack([v[f"w{i}"] for i in range(1, s + 1)], 1)
        bs = (np.repeat(np.asarray(v["b"], float)[:, None], s, 1) if self.shared_b
              else np.stack([v[f"b{i}"] for i in range(1, s + 1)], 1).astype(float))
        gs = (np.repeat(np.asarray(v["g"])[:, None], s, 1) if self.shared_g
              else np.stack([v[f"g{i}"] for i in range(1, s + 1)], 1))
        ok = np.ones(n, dtype=bool)
        if self.monotone_w:
            ok &= np.all(ws[:, 1:] >= ws[:, :-1], axis=1)
        if self.monotone_d:
            ok &= np.all(ds[:, 1:] >= ds[:, :-1], axis=1)
        if self.block in ("V", "VR"):
            ws_adj, gs_adj = ws.astype(np.int64), ws.astype(np.int64)
        else:
            g_in = np.trunc(ws / bs).astype(np.int64) if self.block == "R" else gs
            ws_adj, gs_adj = adjust_compatibility_arrays(ws, bs, g_in)
        ss = np.full(ds.shape, 2, dtype=np.int64)
        return ds, ws_adj, ss, bs, gs_adj, ok

    def structure_descriptions(self) -> list[str]:
        out = []
        if self.monotone_w:
            out.append("widths non-decreasing (w_{i+1} >= w_i)")
        if self.monotone_d:
            out.append("depths non-decreasing (d_{i+1} >= d_i)")
        return out

    @property
    def size_is_exact(self) -> bool:
        return True

    @property
    def size(self) -> float:
        """Exact: non-decreasing sequences are counted as multisets, comb(k + s - 1, s)."""
        s = self.num_stages
        d_card, w_card = self.param("d1").cardinality, self.param("w1").cardinality
        n_d = math.comb(d_card + s - 1, s) if self.monotone_d else d_card ** s
        n_w = math.comb(w_card + s - 1, s) if self.monotone_w else w_card ** s
        n_b = self.param("b" if self.shared_b else "b1").cardinality ** (1 if self.shared_b else s)
        n_g = self.param("g" if self.shared_g else "g1").cardinality ** (1 if self.shared_g else s)
        return float(n_d) * n_w * n_b * n_g


def sample_monotone(param: Param, length: int, rng: np.random.Generator, n: int) -> np.ndarray:
    """n non-decreasing sequences x_1 <= ... <= x_length, each with probability proportional to
    prod_i pmf(x_i): the i.i.d. product distribution conditioned on being sorted, sampled exactly by
    forward filtering, backward sampling over the parameter's (finite) value grid.

    Example:
        >>> x = sample_monotone(Param("d", "log_uniform", 1, 16, 1), 4, np.random.default_rng(0), 3)
        >>> bool(np.all(np.diff(x, axis=1) >= 0))
        True
    """
    vals, p = param.pmf()
    alphas = [p / p.sum()]
    for _ in range(length - 1):
        a = p * np.cumsum(alphas[-1])  # alpha_i(v) = p(v) * sum_{u <= v} alpha_{i-1}(u)
        alphas.append(a / a.sum())
    out = np.empty((n, length), dtype=np.int64)
    cum = np.cumsum(alphas[-1])
    out[:, -1] = np.minimum(np.searchsorted(cum, rng.uniform(0, cum[-1], n), side="right"),
                            len(vals) - 1)
    for i in range(length - 2, -1, -1):
        cum = np.cumsum(alphas[i])
        limit = cum[out[:, i + 1]]  # x_i <= x_{i+1}
        idx = np.searchsorted(cum, rng.uniform(0, 1, n) * limit, side="right")
        out[:, i] = np.minimum(idx, out[:, i + 1])
    return vals[out]


def anynet_params(num_stages: int, shared_b: bool, shared_g: bool, d=D_RANGE, w=W_RANGE,
                  b=B_CHOICES, g=G_RANGE) -> tuple[Param, ...]:
    out = []
    for i in range(1, num_stages + 1):
        out.append(Param(f"d{i}", "log_uniform", d[0], d[1], 1))
        out.append(Param(f"w{i}", "log_uniform", w[0], w[1], 8))
        if not shared_b:
            out.append(Param(f"b{i}", "choice", choices=tuple(b)))
        if not shared_g:
            out.append(Param(f"g{i}", "power2", g[0], g[1], 1))
    if shared_b:
        out.append(Param("b", "choice", choices=tuple(b)))
    if shared_g:
        out.append(Param("g", "power2", g[0], g[1], 1))
    return tuple(out)


def anynetx(letter: str, *, num_stages: int = 4, block: str = "X", **net: Any) -> AnyNetSpace:
    """AnyNetX_A..E (paper Sec. 3.2). ``net`` overrides stem/resolution/classes/channels.

    Example:
        >>> f"{anynetx('A').size:.1e}"
        '1.8e+18'
    """
    letter = letter.upper()
    if letter not in "ABCDE" or len(letter) != 1:
        raise ConfigError(f"AnyNetX variant must be one of A, B, C, D, E, got {letter!r}")
    level = "ABCDE".index(letter)
    flags = dict(shared_b=level >= 1, shared_g=level >= 2, monotone_w=level >= 3,
                 monotone_d=level >= 4)
    desc = ["4 stages, d_i <= 16 log-uniform, w_i <= 1024 multiple of 8 log-uniform, "
            "b_i in {1,2,4}, g_i in {1..32} powers of 2",
            "shared b", "shared g", "w_{i+1} >= w_i", "d_{i+1} >= d_i"][: level + 1]
    return AnyNetSpace(
        name=f"anynetx_{letter.lower()}" + (f"_{num_stages}s" if num_stages != 4 else ""),
        params=anynet_params(num_stages, flags["shared_b"], flags["shared_g"]),
        block=block, description="; ".join(desc), num_stages=num_stages, **flags, **net)



__all__ = ["AnyNetSpace", "anynet_params", "anynetx", "sample_monotone"]
