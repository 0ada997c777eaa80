"""Two-objective Pareto fronts and hypervolumes (both objectives minimized), e.g. error against
FLOPs of the models a search evaluated.

Example:
    >>> pts = [[1.0, 3.0], [2.0, 2.0], [3.0, 3.0]]
    >>> pareto_mask(pts).tolist(), hypervolume_2d(pts, [4.0, 4.0])
    ([True, True, False], 5.0)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import ConfigError


def _points(points: Any) -> np.ndarray:
    """``points`` as an (n, 2) float array without NaN (an empty input gives shape (0, 2))."""
    p = np.asarray(points, dtype=float)
    if p.size == 0:
        return p.reshape(0, 2)
    if p.ndim != 2 or p.shape[1] != 2:
        raise ConfigError(f"points must be an (n, 2) array of two objectives, got shape {p.shape}")
    if np.isnan(p).any():
        raise ConfigError("points contain NaN; only numbers (+inf for a failed run) are allowed")
    return p


def _ref(ref: Any) -> np.ndarray:
    r = np.asarray(ref, dtype=float)
    if r.shape != (2,) or not np.isfinite(r).all():
        raise ConfigError(f"ref must be 2 finite numbers (a reference point), got {ref!r}")
    return r


def pareto_mask(points: Any) -> np.ndarray:
    """True for the non-dominated rows of ``points`` (n, 2), both objectives minimized. A point is
    dominated only by another that is ``<=`` in both objectives and ``<`` in one, so duplicated
    front points are all kept.

    Example:
        >>> pareto_mask([[1, 2], [2, 1], [1, 2], [2, 2], [1, 3]]).tolist()
        [True, True, True, False, False]
    """
    p = _points(points)
    n = p.shape[0]
    if n == 0:
        return np.zeros(0, dtype=bool)
    order = np.lexsort((p[:, 1], p[:, 0]))        # by x, then y
    x, y = p[order, 0], p[order, 1]
    starts = np.flatnonzero(np.r_[True, x[1:] != x[:-1]])
    group = np.cumsum(np.r_[True, x[1:] != x[:-1]]) - 1
    group_min = y[starts]                        # y is sorted within a run of equal x
    # The lowest y among points with strictly smaller x: a point at that y or above is dominated.
    # The first x has no such points (not even at y = +inf, hence the explicit test).
    before = np.r_[np.inf, np.minimum.accumulate(group_min)[:-1]]
    keep = (y == group_min[group]) & ((group == 0) | (y < before[group]))
    mask = np.empty(n, dtype=bool)
    mask[order] = keep
    return mask


def _front_area(front: np.ndarray, ref: np.ndarray) -> float:
    """The area dominated by ``front`` (mutually non-dominated points, all strictly better than
    ``ref``) inside the box bounded by ``ref``."""
    if front.shape[0] == 0:
        return 0.0
    f = front[np.argsort(front[:, 0], kind="stable")]    # x up, so y goes down along a front
    widths = np.r_[f[1:, 0], ref[0]] - f[:, 0]
    return float(widths @ (ref[1] - f[:, 1]))


def _inside(p: np.ndarray, ref: np.ndarray) -> np.ndarray:
    # A point not strictly better than ref in both objectives bounds a box of zero area.
    return (p[:, 0] < ref[0]) & (p[:, 1] < ref[1])


def _check_finite_below(p: np.ndarray) -> None:
    if np.isneginf(p).any():
        raise ConfigError("points contain -inf, whose hypervolume is infinite; use finite values "
                          "(+inf is allowed and counts as nothing)")


def hypervolume_2d(points: Any, ref: Any) -> float:
    """The area dominated by ``points`` (n, 2) and bounded by the reference point ``ref`` (2,),
    both objectives minimized. Points not strictly better than ``ref`` in both objectives add
    nothing; no points give 0.0.

    Example:
        >>> hypervolume_2d([[1, 2], [2, 1], [5, 0]], [3, 3])   # two 2x1 boxes, overlap 1x1
        3.0
        >>> hypervolume_2d([], [3, 3])
        0.0
    """
    p, r = _points(points), _ref(ref)
    _check_finite_below(p)
    p = p[_inside(p, r)]
    return _front_area(p[pareto_mask(p)], r)


def hypervolume_trace(points: Any, ref: Any) -> np.ndarray:
    """The hypervolume of the first t points for t = 1..T: ``points`` (T, 2) in evaluation order,
    ``ref`` (2,) as for :func:`hypervolume_2d`. Non-decreasing; O(T x front size).

    Example:
        >>> hypervolume_trace([[2, 2], [3, 3], [1, 3], [1, 1]], [4, 4]).tolist()
        [4.0, 4.0, 5.0, 9.0]
    """
    p, r = _points(points), _ref(ref)
    _check_finite_below(p)
    out = np.zeros(p.shape[0])
    front = np.zeros((0, 2))
    area = 0.0
    inside = _inside(p, r)
    for t in range(p.shape[0]):
        q = p[t]
        # A point weakly dominated by the current front (duplicates included) adds no area.
        if inside[t] and not np.any(np.all(front <= q, axis=1)):
            front = np.vstack([front[~np.all(q <= front, axis=1)], q])
            area = _front_area(front, r)
        out[t] = area
    return out


__all__ = ["hypervolume_2d", "hypervolume_trace", "pareto_mask"]
