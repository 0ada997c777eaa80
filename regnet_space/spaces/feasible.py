"""The feasible encoding: coordinates whose points decode inside the budget by construction.

See :mod:`regnet_space.spaces.encoding` for the idea and docs/encodings.md for the measurements.
One class per family: :class:`RegNetFeasible` (``d, wm, b, g, slope, size``) and
:class:`AnyNetFeasible` (the space's own coordinates as a shape, plus ``size``); their base
:class:`FeasibleEncoding` holds the size target, the candidate search, the depth moves and the
repair pool.

Example:
    >>> from regnet_space.spaces import get_space
    >>> enc = AnyNetFeasible(get_space("anynetx_e", resolution=28, in_channels=1, num_classes=10),
    ...                      "2M:5M")
    >>> enc.names[-1], enc.metric
    ('size', 'flops')
"""

from __future__ import annotations

import functools
import math
from typing import Any, Mapping

import numpy as np

from ..budget import Budget
from ..errors import ConfigError
from .base import DesignSpace
from .encoding import Encoding, RawEncoding, _from_coord, _snap, _to_coord
from .params import Coord

#: Seeded pool of feasible samples a failed decoding is repaired to.
POOL_SIZE = 2048
#: Coarse width scales tried per AnyNet decoding (log-spaced over the whole width range, plus 1).
N_SCALES = 32

class FeasibleEncoding(Encoding):
    """Coordinates that decode inside the budget and the structural constraints (see the module
    docstring). Subclasses give the shape of a proposal, its scaled candidates and a shallower
    variant: :class:`RegNetFeasible`, :class:`AnyNetFeasible`."""

    name = "feasible"
    size = Coord("size", "float", 0.0, 1.0)
    #: Depth factors tried, in order, when no width makes the proposal's shape feasible.
    DEPTH_FACTORS = (1.0, 0.85, 0.7, 0.55, 0.4, 0.25, 0.1, 0.0)
    _depth_hi = 1.0  # the largest total depth a proposal can have (set by subclasses)

    def __init__(self, space: DesignSpace, budget: Budget | Any = None, *,
                 pool_seed: int = 0) -> None:
        super().__init__(space, budget)
        self.pool_seed = int(pool_seed)
        self.metric, lo, hi = self._target_range()
        self._log_lo, self._log_hi = math.log(lo), math.log(hi)

    # ---------------------------------------------------------------- family hooks
    def _shape(self, x: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Per-proposal arrays that fix everything but the overall width."""
        raise NotImplementedError

    def _shallower(self, shape: dict[str, np.ndarray], t) -> dict[str, np.ndarray]:
        """The shape with its depth scaled by ``t`` (a number or one per proposal)."""
        raise NotImplementedError

    def _depth(self, shape: dict[str, np.ndarray]) -> np.ndarray:
        """The total depth of each proposal."""
        raise NotImplementedError

    def _deeper(self, shape: dict[str, np.ndarray], t) -> dict[str, np.ndarray]:
        """The shape with ``1 - t`` of its remaining depth range added (t = 1: unchanged)."""
        raise NotImplementedError

    #: Which way to move the depth of a shape that has no structurally valid width at all.
    _no_structure_direction = -1.0

    def _moved(self, shape: dict[str, np.ndarray], t: float, direction: np.ndarray):
        """Too-deep rows (direction > 0) made shallower, the others deeper, by factor t."""
        down, up = self._shallower(shape, t), self._deeper(shape, t)
        return {k: np.where(direction > 0, down[k], up[k]) for k in shape}

    def _rescaled(self, shape: dict[str, np.ndarray], too_deep: np.ndarray
                  ) -> dict[str, np.ndarray]:
        """Too-deep shapes deeper than the deepest feasible pool configuration D, scaled onto
        it: a depth d becomes ``D * d / d_max``."""
        d = self._depth(shape)
        top = float(self._max_depth)
        t = np.where(too_deep & (d > top), top / max(self._depth_hi, 1.0), 1.0)
        return self._shallower(shape, t)

    @functools.cached_property
    def _max_depth(self) -> float:
        values, _ = self._pool
        return float(np.max(self._depth({k: np.asarray(v, float) for k, v in values.items()})))

    def _coarse(self, shape: dict[str, np.ndarray]) -> tuple[dict[str, np.ndarray], int]:
        """k width candidates per proposal (candidate arrays of length n * k, proposal i's at
        i * k .. i * k + k - 1); the first candidates must include the shape at its own width,
        so that a feasible configuration decodes to itself."""
        raise NotImplementedError

    def _fine(self, shape: dict[str, np.ndarray], best: dict[str, np.ndarray]
              ) -> tuple[dict[str, np.ndarray], int]:
        """k finer candidates per proposal around ``best`` (one candidate per proposal)."""
        raise NotImplementedError

    # ---------------------------------------------------------------- size target
    def _target_range(self) -> tuple[str, float, float]:
        """(metric, lo, hi) the size coordinate spans: the first bounded metric of the budget,
        with an open end replaced by the space's own range (from a seeded sample)."""
        metric, (lo, hi) = next(self.budget.items(), ("flops", (None, None)))
        if lo is None or lo <= 0 or hi is None:
            seen_lo, seen_hi = _metric_range(self.space, metric)
            lo = seen_lo / 2 if lo is None or lo <= 0 else lo
            hi = max(seen_hi * 2, lo * 2) if hi is None else hi
        if hi < lo:
            raise ConfigError(f"empty {metric} budget {lo:g}..{hi:g}")
        return metric, float(lo), float(max(hi, lo))

    def target(self, size: np.ndarray) -> np.ndarray:
        """The complexity a size coordinate asks for (log-linear in the budget)."""
        return np.exp(self._log_lo + np.asarray(size, float) * (self._log_hi - self._log_lo))

    def size_of(self, metric_value: float) -> float:
        """The size coordinate of a configuration with this complexity."""
        if self._log_hi == self._log_lo:
            return 0.0
        s = (math.log(max(metric_value, 1e-300)) - self._log_lo) / (self._log_hi - self._log_lo)
        return float(min(max(s, 0.0), 1.0))

    # ---------------------------------------------------------------- decoding
    def decode_arrays(self, x):
        """Vectorised decode: ``(values, repaired)``; :attr:`last_repairs` counts the rows
        repaired in depth and to the pool."""
        x = {k: np.asarray(v) for k, v in x.items()}
        n = len(x["size"])
        shape = self._shape(x)
        target = self.target(np.asarray(x["size"], float))
        values = {p.name: np.zeros(n) for p in self.space.params}
        how = np.full(n, -1)
        todo = np.arange(n)
        # First the shape as proposed (so a feasible configuration decodes to itself). A shape
        # that no width makes feasible is then too deep (its narrowest candidate is above the
        # budget) or too shallow (its widest is below): too-deep shapes are first rescaled onto
        # the depths the budget allows (uniform proposals stay uniform there, no pile-up at the
        # largest feasible depth), then both are moved in depth step by step.
        direction = np.zeros(n)
        for step, t in enumerate([None, "rescale", *self.DEPTH_FACTORS[1:]]):
            sub = {k: v[todo] for k, v in shape.items()}
            if t == "rescale":
                sub = self._rescaled(sub, direction[todo] > 0)
            elif t is not None:
                sub = self._moved(sub, t, direction[todo])
            got, found, sign = self._fit(sub, target[todo])
            rows = todo[found]
            for name in values:
                values[name][rows] = got[name][found]
            how[rows] = step
            if t is None:
                direction[todo] = np.where(sign == 0, self._no_structure_direction, sign)
            todo = todo[~found]
            if not len(todo):
                break
        if len(todo):
            fix = self._repair(x, todo)
            for name in values:
                values[name][todo] = fix[name]
        self.last_repairs = {"depth": int(np.sum(how > 0)), "pool": int(len(todo))}
        return values, how != 0

    def _fit(self, shape: dict[str, np.ndarray], target: np.ndarray
             ) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
        """The feasible width candidate nearest the target, coarse then fine; and for the
        proposals without one, +1 if every structurally valid candidate is above the budget
        (too deep), -1 if every one is below (too shallow), 0 otherwise.

        The fine search runs only where the coarse candidates straddle the budget (the coarse
        width steps jumped over it); a shape whose every width is too large or too small needs
        another depth, not another width."""
        cand, k = self._coarse(shape)
        idx, found, near, side = self._pick(cand, k, target)
        got = {name: v[idx] for name, v in cand.items()}
        retry = np.flatnonzero(~found & (side == 0) & np.isfinite(near))
        if len(retry):
            best = {name: v[near[retry].astype(np.int64)] for name, v in cand.items()}
            fine, kf = self._fine({name: v[retry] for name, v in shape.items()}, best)
            idx2, found2, _, _ = self._pick(fine, kf, target[retry])
            for name in got:
                got[name][retry[found2]] = fine[name][idx2[found2]]
            found[retry[found2]] = True
        return got, found, np.where(found, 0.0, side)

    def _pick(self, cand: dict[str, np.ndarray], k: int, target: np.ndarray):
        """For n proposals with k candidates each: the index of each proposal's feasible
        candidate nearest its target in log complexity (the first on ties), whether it has one,
        the index of its structurally valid candidate nearest the target (budget ignored; NaN
        when there is none) and which side of the budget all its valid candidates are on
        (+1 all above, -1 all below, 0 otherwise)."""
        f, p, a, ok, _ = self.space.check_arrays(cand)
        feasible = ok & self.budget.mask(f, p, a)
        m = {"flops": f, "params": p, "acts": a}[self.metric].astype(float)
        n = len(target)
        dist = np.abs(np.log(np.maximum(m, 1.0)).reshape(n, k) - np.log(target)[:, None])
        rows = np.arange(n)
        ok2 = ok.reshape(n, k)
        near_d = np.where(ok2, dist, np.inf)
        near = np.argmin(near_d, axis=1)
        near = np.where(np.isfinite(near_d[rows, near]), rows * k + near, np.nan)
        fd = np.where(feasible.reshape(n, k), dist, np.inf)
        j = np.argmin(fd, axis=1)
        lo, hi = dict(self.budget.items()).get(self.metric, (None, None))
        mm = m.reshape(n, k)
        above = np.all(~ok2 | (mm > (np.inf if hi is None else hi)), axis=1) & ok2.any(1)
        below = np.all(~ok2 | (mm < (-np.inf if lo is None else lo)), axis=1) & ok2.any(1)
        return rows * k + j, np.isfinite(fd[rows, j]), near, above.astype(float) - below

    # ---------------------------------------------------------------- repair
    @functools.cached_property
    def _pool(self) -> tuple[dict[str, np.ndarray], np.ndarray]:
        """(values, normalised coordinates) of a seeded pool of feasible samples."""
        b = self.space.sample_arrays(POOL_SIZE, seed=self.pool_seed, budget=self.budget)
        coords = self._encode_arrays(b.values)
        return b.values, self._normalise(coords)

    def _normalise(self, x: Mapping[str, np.ndarray]) -> np.ndarray:
        cols = []
        for c in self.coords:
            v = np.asarray(x[c.name], dtype=float)
            if c.type == "categorical" or c.high == c.low:
                cols.append(np.zeros(len(v)))
                continue
            if c.log:
                v, lo, hi = np.log(v), math.log(c.low), math.log(c.high)
            else:
                lo, hi = c.low, c.high
            cols.append((v - lo) / (hi - lo))
        return np.stack(cols, axis=1)

    def _repair(self, x: Mapping[str, np.ndarray], rows: np.ndarray) -> dict[str, np.ndarray]:
        values, z = self._pool
        q = self._normalise({k: np.asarray(v)[rows] for k, v in x.items()})
        d2 = ((q[:, None, :] - z[None, :, :]) ** 2).sum(-1)
        nearest = np.argmin(d2, axis=1)
        return {k: v[nearest] for k, v in values.items()}

    def _encode_arrays(self, values: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Vectorised :meth:`encode` of valid configurations (the repair pool)."""
        values = {k: np.asarray(v, float) for k, v in values.items()}
        f, p, a, _, _ = self.space.check_arrays(values)
        m = {"flops": f, "params": p, "acts": a}[self.metric].astype(float)
        span = self._log_hi - self._log_lo
        size = (np.clip((np.log(np.maximum(m, 1e-300)) - self._log_lo) / span, 0.0, 1.0)
                if span > 0 else np.zeros(len(m)))
        return {**self._shape_coords(values), "size": size}

    def _shape_coords(self, values: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Vectorised coordinates of everything but ``size``."""
        raise NotImplementedError

    def _metric_of(self, values: Mapping[str, Any]) -> float:
        verdict = self.space.check(values)
        return float({"flops": verdict.flops, "params": verdict.params,
                      "acts": verdict.acts}[self.metric])


def _metric_range(space: DesignSpace, metric: str, n: int = 20_000) -> tuple[float, float]:
    """(min, max) of a complexity metric over a seeded sample of the space's valid draws."""
    rng = np.random.default_rng(12345)
    seen = []
    for _ in range(20):
        f, p, a, ok, _ = space.check_arrays(space.draw(rng, n))
        m = {"flops": f, "params": p, "acts": a}[metric][ok]
        if len(m):
            seen.append(m)
        if sum(len(s) for s in seen) >= 1000:
            break
    if not seen:
        raise ConfigError(f"space {space.name} produced no valid network in {20 * n:,} draws")
    allm = np.concatenate(seen).astype(float)
    return float(allm.min()), float(allm.max())


def _log_steps(half_width: float, k: int) -> np.ndarray:
    return np.exp(np.linspace(-half_width, half_width, k))


class RegNetFeasible(FeasibleEncoding):
    """The feasible encoding of a RegNet space: ``d, wm, b, g, slope, size`` (see the module
    docstring). Widths scale through ``w0`` (its whole grid) with ``wa = r * w0``; the fine
    search also moves ``wa`` by up to 40% around ``r * w0``."""

    def __init__(self, space, budget=None, **kw):
        self.S = int(space.num_stages)
        self._p = {p.name: p for p in space.params}
        d = self._p["d"]
        if d.high < self.S:
            raise ConfigError(f"space {space.name}: depth at most {d.high:g} cannot make "
                              f"{self.S} stages")
        self._w0 = self._p["w0"].values().astype(float)
        wa = self._p["wa"]
        self._wa_lo, self._wa_hi, self._wa_q = float(wa.low), float(wa.high), float(wa.q)
        self._d_lo = max(float(self.S), float(d.low))
        self._depth_hi = float(d.high)
        d_coord = Coord("d", d.coord().type, self._d_lo, float(d.high), step=d.q)
        self.coords = (d_coord, self._p["wm"].coord(), self._p["b"].coord(),
                       self._p["g"].coord(), Coord("slope", "float", 0.0, 1.0), self.size)
        super().__init__(space, budget, **kw)

    def _r(self, d: np.ndarray, wm: np.ndarray, slope: np.ndarray) -> np.ndarray:
        """r = wa / w0 at ``slope`` of the interval whose last block lands on level S - 1."""
        dm1 = np.maximum(d - 1.0, 1.0)
        lo = (wm ** (self.S - 1.5) - 1.0) / dm1
        hi = (wm ** (self.S - 0.5) - 1.0) / dm1
        r_min, r_max = self._wa_lo / self._w0[-1], self._wa_hi / self._w0[0]
        lo, hi = np.clip(lo, r_min, r_max), np.clip(hi, r_min, r_max)
        return np.exp(np.log(lo) + slope * (np.log(hi) - np.log(lo)))

    def _shape(self, x):
        d = np.clip(np.round(x["d"].astype(float)), self._d_lo, self._p["d"].high)
        wm = _snap(self._p["wm"], x["wm"].astype(float))
        slope = np.clip(x["slope"].astype(float), 0.0, 1.0)
        return {"d": d, "wm": wm, "slope": slope,
                "b": _from_coord(self._p["b"], x[self.coords[2].name]),
                "g": _from_coord(self._p["g"], x[self.coords[3].name])}

    def _shallower(self, shape, t):
        d = np.round(self._d_lo + (shape["d"] - self._d_lo) * t)
        return {**shape, "d": d}

    def _deeper(self, shape, t):
        d = np.round(shape["d"] + (self._depth_hi - shape["d"]) * (1.0 - t))
        return {**shape, "d": d}

    def _depth(self, shape):
        return np.asarray(shape["d"], float)

    def _cands(self, shape, w0, wa_factor):
        """Candidates at w0 (n, k) with wa = r * w0 * wa_factor (n, k), flattened."""
        n, k = w0.shape
        r = self._r(shape["d"], shape["wm"], shape["slope"])
        wa = np.round(r[:, None] * w0 * wa_factor / self._wa_q) * self._wa_q
        wa = np.round(np.clip(wa, self._wa_lo, self._wa_hi), 6)
        cand = {name: np.repeat(shape[name], k) for name in ("d", "wm", "b", "g")}
        cand.update(w0=w0.reshape(-1), wa=wa.reshape(-1))
        return cand, k

    def _coarse(self, shape):
        n = len(shape["d"])
        return self._cands(shape, np.tile(self._w0, (n, 1)), np.ones((n, len(self._w0))))

    def _fine(self, shape, best):
        w0 = _snap(self._p["w0"], best["w0"])
        grid = np.stack([w0 - 8, w0, w0 + 8], 1)
        grid = _snap(self._p["w0"], grid.reshape(-1)).reshape(-1, 3)
        f = _log_steps(0.35, 31)
        w0s = np.repeat(grid, len(f), axis=1)
        factors = np.tile(f, (len(w0), 3))
        return self._cands(shape, w0s, factors)

    def _shape_coords(self, values):
        d, wm = values["d"], values["wm"]
        lo, hi = self._r(d, wm, np.zeros(len(d))), self._r(d, wm, np.ones(len(d)))
        span = np.log(hi) - np.log(lo)
        slope = np.where(span > 0, (np.log(values["wa"] / values["w0"]) - np.log(lo))
                         / np.where(span > 0, span, 1.0), 0.0)
        return {"d": d, "wm": wm, self.coords[2].name: _to_coord(self._p["b"], values["b"]),
                self.coords[3].name: _to_coord(self._p["g"], values["g"]),
                "slope": np.clip(slope, 0.0, 1.0)}

    def encode(self, values):
        v = self.space.check_values(values)
        d, wm = np.array([float(v["d"])]), np.array([float(v["wm"])])
        lo = self._r(d, wm, np.zeros(1))[0]
        hi = self._r(d, wm, np.ones(1))[0]
        span = math.log(hi) - math.log(lo)
        r = v["wa"] / v["w0"]
        slope = 0.0 if span <= 0 else (math.log(r) - math.log(lo)) / span
        return {"d": v["d"], "wm": v["wm"], self.coords[2].name: self._p["b"].to_coord(v["b"]),
                self.coords[3].name: self._p["g"].to_coord(v["g"]),
                "slope": float(min(max(slope, 0.0), 1.0)),
                "size": self.size_of(self._metric_of(v))}


class AnyNetFeasible(FeasibleEncoding):
    """The feasible encoding of an AnyNetX space: the space's own coordinates (stage widths as a
    shape) plus ``size``; D/E sort their stage widths/depths (see the module docstring)."""

    def __init__(self, space, budget=None, **kw):
        self._raw = RawEncoding(space)
        self.coords = tuple(p.coord() for p in space.params) + (self.size,)
        self.S = int(space.num_stages)
        w = space.param("w1")
        self._w_lo, self._w_hi, self._w_q = float(w.low), float(w.high), float(w.q)
        self._depth_hi = float(space.param("d1").high) * self.S
        super().__init__(space, budget, **kw)

    def _shape(self, x):
        values, _ = self._raw.decode_arrays(x)
        for flag, prefix in ((self.space.monotone_w, "w"), (self.space.monotone_d, "d")):
            if flag:
                seq = np.sort(np.stack([values[f"{prefix}{i}"] for i in range(1, self.S + 1)],
                                       1), axis=1)
                for i in range(self.S):
                    values[f"{prefix}{i + 1}"] = seq[:, i]
        return values

    def _shallower(self, shape, t):
        out = dict(shape)
        for i in range(1, self.S + 1):  # keeps non-decreasing depths non-decreasing
            out[f"d{i}"] = np.maximum(1.0, np.round(shape[f"d{i}"] * t))
        return out

    def _deeper(self, shape, t):
        out = dict(shape)
        top = self._depth_hi / self.S
        for i in range(1, self.S + 1):
            out[f"d{i}"] = np.minimum(top, np.round(shape[f"d{i}"] + (top - shape[f"d{i}"])
                                                    * (1.0 - t)))
        return out

    _no_structure_direction = 1.0

    def _depth(self, shape):
        return sum(np.asarray(shape[f"d{i}"], float) for i in range(1, self.S + 1))

    def _widths(self, shape) -> np.ndarray:
        return np.stack([shape[f"w{i}"] for i in range(1, self.S + 1)], 1).astype(float)

    def _scaled(self, shape, ws, scales):
        """Candidates: widths ``ws`` (n, S) times ``scales`` (n, k), on the width grid."""
        n, k = scales.shape
        cw = np.repeat(ws, k, axis=0) * scales.reshape(-1)[:, None]
        cw = np.clip(np.round(cw / self._w_q) * self._w_q, self._w_lo, self._w_hi)
        cand = {name: np.repeat(v, k) for name, v in shape.items()}
        for i in range(self.S):
            cand[f"w{i + 1}"] = cw[:, i]
        return cand, k

    def _coarse(self, shape):
        ws = self._widths(shape)
        lo, hi = np.log(self._w_lo / ws.max(1)), np.log(self._w_hi / ws.min(1))
        grid = np.linspace(0.0, 1.0, N_SCALES)
        scales = np.exp(lo[:, None] + grid[None, :] * (hi - lo)[:, None])
        return self._scaled(shape, ws, np.concatenate([np.ones((len(ws), 1)), scales], 1))

    def _fine(self, shape, best):
        """Around the best coarse candidate: finer scales, then each stage's width moved by
        one or two grid steps (the coarse widths jump by a whole step of 8)."""
        ws = self._widths(best)
        scaled, k1 = self._scaled(best, ws, np.tile(_log_steps(0.2, 33), (len(ws), 1)))
        steps = np.array([-2, -1, 1, 2]) * self._w_q
        tweak = []
        for i in range(self.S):
            for dw in steps:
                t = ws.copy()
                t[:, i] = np.clip(t[:, i] + dw, self._w_lo, self._w_hi)
                if self.space.monotone_w:
                    t = np.sort(t, axis=1)
                tweak.append(t)
        tw = np.stack(tweak, 1)  # n, S * 4, S
        cand = {name: np.repeat(v, k1 + tw.shape[1]) for name, v in best.items()}
        allw = np.concatenate([scaled_w.reshape(len(ws), k1, self.S)
                               for scaled_w in [np.stack([scaled[f"w{i + 1}"]
                                                          for i in range(self.S)], 1)]]
                              + [tw], axis=1).reshape(-1, self.S)
        for i in range(self.S):
            cand[f"w{i + 1}"] = allw[:, i]
        return cand, k1 + tw.shape[1]

    def _shape_coords(self, values):
        return {c.name: _to_coord(p, values[p.name])
                for p, c in zip(self.space.params, self.coords)}

    def encode(self, values):
        v = self.space.check_values(values)
        return {**self._raw.encode(v), "size": self.size_of(self._metric_of(v))}


__all__ = ["AnyNetFeasible", "FeasibleEncoding", "N_SCALES", "POOL_SIZE", "RegNetFeasible"]
