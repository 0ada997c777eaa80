"""Quantized linear widths (paper Eq. 2-4), vectorised compatibility, and the quantized linear fit.

All arithmetic is float64 with numpy's round-half-to-even, exactly as pycls. timm and torchvision
generate widths in float32; on roughly 0.2% of random (d, w0, wa, wm) an exact .5 tie then rounds
the other way and they build a different network. This package follows pycls (float64).
"""

from __future__ import annotations

from .errors import ConfigError

from dataclasses import dataclass

import numpy as np

Q = 8  # widths are multiples of 8


@dataclass(frozen=True)
class RegNetWidths:
    """Result of :func:`generate_regnet`.

    ``ws``/``ds`` are the per-stage widths and depths, ``num_stages`` the stages produced and
    ``total_stages`` = max(k) + 1 (the exponent levels spanned): a sample *skips a level* when
    ``num_stages != total_stages``. ``block_ws`` are the quantized per-block widths w_j and
    ``block_us`` the continuous ones u_j.
    """

    ws: tuple[int, ...]
    ds: tuple[int, ...]
    num_stages: int
    total_stages: int
    block_ws: tuple[int, ...]
    block_us: tuple[float, ...]

    @property
    def skips_level(self) -> bool:
        return self.num_stages != self.total_stages


def _check(d, w0, wa, wm) -> None:
    if int(d) != d or d < 1:
        raise ConfigError(f"d (depth) must be an integer >= 1, got {d}")
    if not w0 > 0:
        raise ConfigError(f"w0 (initial width) must be > 0, got {w0}")
    if not wa >= 0:
        raise ConfigError(f"wa (slope) must be >= 0, got {wa}")
    if not wm > 1:
        raise ConfigError(f"wm (width multiplier) must be > 1, got {wm}")


def generate_regnet(d: int, w0: float, wa: float, wm: float, q: int = Q) -> RegNetWidths:
    """Per-stage widths and depths from the RegNet parameters (paper Eq. 2-4, pycls float64).

    Example:
        >>> r = generate_regnet(13, 24, 36.44, 2.49)   # RegNetX-200MF
        >>> r.ws, r.ds, r.num_stages
        ((24, 56, 152, 368), (1, 1, 4, 7), 4)
    """
    _check(d, w0, wa, wm)
    us = np.arange(int(d)) * wa + w0
    ks = np.round(np.log(us / w0) / np.log(wm))
    block_ws = np.round(np.divide(w0 * np.power(wm, ks), q)).astype(np.int64) * q
    ws, ds = np.unique(block_ws, return_counts=True)
    return RegNetWidths(
        ws=tuple(int(x) for x in ws),
        ds=tuple(int(x) for x in ds),
        num_stages=len(ws),
        total_stages=int(ks.max()) + 1,
        block_ws=tuple(int(x) for x in block_ws),
        block_us=tuple(float(x) for x in us),
    )


def generate_regnet_arrays(d, w0, wa, wm, q: int = Q, max_stages: int | None = None):
    """Vectorised :func:`generate_regnet` for N parameter vectors.

    Returns ``(ds, ws, num_stages, total_stages)``: per-stage depths and widths as (N, S) int64
    arrays (S = ``max_stages`` or the largest stage count seen; absent stages have depth 0 and the
    previous width), and the two stage counts as (N,) arrays. Rows whose stage count exceeds S are
    truncated, so filter on ``num_stages`` first when S is given. Bit-identical to the scalar
    function (same float64 operations in the same order).

    Example:
        >>> ds, ws, n, t = generate_regnet_arrays([13], [24], [36.44], [2.49])
        >>> ds.tolist(), ws.tolist(), n.tolist()
        ([[1, 1, 4, 7]], [[24, 56, 152, 368]], [4])
    """
    d = np.asarray(d, dtype=np.int64)
    w0 = np.asarray(w0, dtype=np.float64)
    wa = np.asarray(wa, dtype=np.float64)
    wm = np.asarray(wm, dtype=np.float64)
    n = d.shape[0]
    if n == 0:
        z = np.zeros((0, max_stages or 0), dtype=np.int64)
        return z, z, np.zeros(0, np.int64), np.zeros(0, np.int64)
    j = np.arange(int(d.max()))
    valid = j[None, :] < d[:, None]
    us = j[None, :] * wa[:, None] + w0[:, None]
    ks = np.round(np.log(us / w0[:, None]) / np.log(wm[:, None]))
    ks = np.where(valid, ks, 0.0)
    # w_j depends on j only through k_j: quantize each exponent level once, then gather
    # (np.power on the same float64 operands gives the same bits as the per-block form).
    levels = np.arange(int(ks.max()) + 1, dtype=np.float64)
    level_ws = np.round(np.divide(w0[:, None] * np.power(wm[:, None], levels[None, :]), q))
    level_ws = level_ws.astype(np.int64) * q
    block_ws = np.take_along_axis(level_ws, ks.astype(np.int64), axis=1)
    # runs of equal width are stages; widths are non-decreasing along a row
    new_stage = np.zeros_like(valid)
    new_stage[:, 1:] = (block_ws[:, 1:] != block_ws[:, :-1]) & valid[:, 1:]
    stage = np.cumsum(new_stage, axis=1)
    num_stages = stage[np.arange(n), d - 1] + 1
    total_stages = ks.max(axis=1).astype(np.int64) + 1  # ks >= 0, padding is 0
    s_max = int(num_stages.max()) if max_stages is None else int(max_stages)
    keep = valid & (stage < s_max)
    flat = (np.arange(n)[:, None] * s_max + stage)[keep]
    ds = np.bincount(flat, minlength=n * s_max).reshape(n, s_max)
    ws = np.zeros((n, s_max), dtype=np.int64)
    ws.reshape(-1)[flat] = block_ws[keep]  # every block of a stage writes the same width
    # padding stages repeat the last width so that they are no-ops for the complexity count
    ws = np.maximum.accumulate(ws, axis=1)
    return ds.astype(np.int64), ws, num_stages.astype(np.int64), total_stages


def last_level(d, w0, wa, wm) -> np.ndarray:
    """k of the last block, max_j k_j (k_j is non-decreasing in j): the number of exponent levels
    minus one, computed with the same float64 operations as :func:`generate_regnet_arrays` so a
    filter on it is exact. Cheap: one log per configuration instead of one per block.

    Example:
        >>> last_level([13], [24], [36.44], [2.49]).tolist()
        [3]
    """
    d = np.asarray(d, dtype=np.int64)
    w0 = np.asarray(w0, dtype=np.float64)
    u = (d - 1) * np.asarray(wa, dtype=np.float64) + w0
    return np.round(np.log(u / w0) / np.log(np.asarray(wm, dtype=np.float64))).astype(np.int64)


def adjust_compatibility_arrays(ws, bs, gs):
    """Vectorised group-width compatibility (same rounding as :func:`config.adjust_compatibility`).

    ``ws``, ``bs``, ``gs`` broadcast together; returns adjusted ``(ws, gs)`` as int64 arrays.
    Inverted bottlenecks (b < 1) are rounded to lcm(g, 1/b) as pycls does.

    Example:
        >>> w, g = adjust_compatibility_arrays([168, 80], [1, 1], [112, 120])
        >>> w.tolist(), g.tolist()
        ([224, 80], [112, 80])
    """
    ws = np.asarray(ws, dtype=np.float64)
    bs = np.asarray(bs, dtype=np.float64)
    gs = np.asarray(gs, dtype=np.int64)
    w_b = np.maximum(1, np.trunc(ws / bs)).astype(np.int64)
    g = np.minimum(gs, w_b)
    inv = np.round(1.0 / bs).astype(np.int64)
    m = np.where(bs < 1, np.lcm(g, np.maximum(inv, 1)), g)
    w_b = np.maximum(m, (np.round(w_b / m) * m).astype(np.int64))
    return np.trunc(w_b * bs).astype(np.int64), g


# --------------------------------------------------------------------------- quantized linear fit
@dataclass(frozen=True)
class LinearFit:
    """Best quantized linear description of a per-block width sequence.

    ``e_fit`` is the mean |log(predicted w_j / observed w_j)| over blocks; 0 means the widths
    are exactly a RegNet with parameters (``w0``, ``wa``, ``wm``) on the search grid.
    """

    e_fit: float
    w0: float
    wa: float
    wm: float
    predicted: tuple[int, ...]


def default_fit_grid() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The (w0, wa, wm) grid used by :func:`quantized_linear_fit`: w0 multiples of 8 up to 256,
    wa log-spaced over [1, 256] plus 0, wm log-spaced over [1.5, 3]."""
    w0 = np.arange(8, 257, 8, dtype=np.float64)
    wa = np.concatenate([[0.0], np.geomspace(1, 256, 48)])
    wm = np.geomspace(1.5, 3.0, 32)
    return w0, wa, wm


def _grid_search(obs: np.ndarray, w0: np.ndarray, wa: np.ndarray, wm: np.ndarray, q: int):
    d = obs.size
    j = np.arange(d, dtype=np.float64)
    best = (np.inf, 0.0, 0.0, 0.0, None)
    log_wm = np.log(wm)
    for a in wa:  # one slope at a time keeps the working set small: |w0| x |wm| x d
        us = j[None, :] * a + w0[:, None]                                             # (W0, d)
        ks = np.round(np.log(us / w0[:, None])[:, None, :] / log_wm[None, :, None])  # (W0, WM, d)
        pred = np.maximum(np.round(w0[:, None, None] * np.power(wm[None, :, None], ks) / q) * q, q)
        err = np.abs(np.log(pred / obs)).mean(axis=2)
        i, k = np.unravel_index(np.argmin(err), err.shape)
        if err[i, k] < best[0]:
            best = (float(err[i, k]), float(w0[i]), float(a), float(wm[k]), pred[i, k])
    return best


def quantized_linear_fit(block_ws, grid=None, q: int = Q, refine: bool = True) -> LinearFit:
    """Grid-search (w0, wa, wm) minimising e_fit for observed per-block widths (paper Sec. 3.3).

    ``d`` is the number of blocks. A coarse grid (:func:`default_fit_grid`) is followed, when
    ``refine``, by a finer grid around the best point (wa and wm on steps of 0.1 and 0.01 of the
    coarse spacing). Vectorised over each grid (tens of ms per network).

    Example:
        >>> fit = quantized_linear_fit(generate_regnet(13, 24, 36.44, 2.49).block_ws)
        >>> fit.e_fit
        0.0
    """
    obs = np.asarray(block_ws, dtype=np.float64)
    if obs.ndim != 1 or obs.size == 0 or np.any(obs <= 0):
        raise ConfigError("block_ws must be a non-empty sequence of positive widths")
    w0, wa, wm = default_fit_grid() if grid is None else (np.asarray(x, float) for x in grid)
    best = _grid_search(obs, w0, wa, wm, q)
    if refine and best[0] > 0:
        _, b0, ba, bm, _ = best
        fine_w0 = np.unique(np.clip(b0 + np.arange(-16, 17, 8.0), 8, None))
        fine_wa = np.unique(np.clip(np.geomspace(max(ba, 0.5) / 1.2, max(ba, 0.5) * 1.2, 41), 0, None))
        fine_wm = np.unique(np.clip(np.linspace(bm / 1.05, bm * 1.05, 41), 1.0001, None))
        fine = _grid_search(obs, fine_w0, fine_wa, fine_wm, q)
        best = min(best, fine, key=lambda t: t[0])
    e, b0, ba, bm, pred = best
    return LinearFit(e, b0, ba, bm, tuple(int(x) for x in pred))
