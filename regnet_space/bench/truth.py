"""What the benchmark takes as true, and how one query departs from it: seeds, noise, curves, time.

A trained table holds runs, and a run is one seed's draw: two seeds of one architecture differ by
about as much as two architectures of one space (see :mod:`regnet_space.analysis.noise`). So the
benchmark separates the **truth** of an architecture, the quantity regret is measured on, from the
**answer** a searcher gets, as NAS-Bench-201 and syne-tune's blackboxes do:

* **truth**: the mean over the table's seeds of the architecture (one seed: that run), or the
  surrogate's prediction of the mean for an architecture the table lacks;
* **answer** (``noise="seed"``, the default): one of the architecture's recorded seeds, chosen
  by the benchmark's random generator (reproducible per search seed), when the table holds two or
  more; otherwise the truth plus a draw of the measured noise (:class:`NoiseModel`); with
  ``noise="none"`` the truth itself.

Every answer is a learning curve, one value per epoch of the recipe (multi-fidelity): a recorded
seed's own curve when the table has curves, else the truth plus the mean gap between an epoch's
error and the final error (:class:`CurveModel`). A curve's draw of noise is one standard normal
``z`` per query scaled by the per-epoch seed sd, so a curve stays a curve.

Every epoch costs simulated seconds from :class:`CostModel`: a least-squares fit (non-negative
coefficients) of the measured seconds per epoch on flops and activations. The fit is used for
every architecture, trained or not, because timings on a shared machine are noisy; its R^2 is
reported.

Example:
    >>> fit_noise(np.array([[0.20, 0.22], [0.30, 0.30]])).sd[-1] > 0
    True
    >>> CurveModel.from_curves(np.array([[[0.5, 0.3, 0.2]]])).gaps
    (0.3, 0.1, 0.0)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import ConfigError

#: How answers depart from the truth: ``seed`` (a recorded seed, else modelled noise) or ``none``.
NOISE_MODES = ("seed", "none")


@dataclass(frozen=True)
class NoiseModel:
    """Seed sd of one run at each epoch (the last entry is the final error's).

    ``source`` says where it came from: the table's repeated seeds (pooled within
    architectures, by degrees of freedom) or a published measurement.

    Example:
        >>> NoiseModel((0.01, 0.005), "given").final
        0.005
    """

    sd: tuple[float, ...]
    source: str
    dof: int = 0

    @property
    def final(self) -> float:
        return float(self.sd[-1])

    def describe(self) -> str:
        return f"seed sd {self.final:.4f} per run at the last epoch ({self.source})"


def fit_noise(groups: np.ndarray, *, fallback: float | None = None,
              fallback_source: str = "") -> NoiseModel:
    """Pooled within-architecture seed sd from ``groups``: (n_arch, n_seeds[, n_epochs]) with NaN
    for missing seeds. Needs at least 2 degrees of freedom (e.g. two architectures with two seeds);
    otherwise ``fallback`` (a final-epoch sd, used for every epoch) or a ConfigError.

    Example:
        >>> round(fit_noise(np.array([[0.1, 0.3], [0.5, 0.7]])).final, 4)  # sd 0.1414 in each
        0.1414
    """
    g = np.asarray(groups, dtype=float)
    if g.ndim == 2:
        g = g[:, :, None]
    n = np.sum(np.isfinite(g[:, :, -1]), axis=1)
    use = n >= 2
    dof = int(np.sum(n[use] - 1))
    if dof >= 2:
        sub = g[use]
        dev = sub - np.nanmean(sub, axis=1, keepdims=True)
        ss = np.nansum(dev ** 2, axis=(0, 1))
        sd = np.sqrt(ss / dof)
        return NoiseModel(tuple(float(x) for x in sd),
                          f"pooled over {int(use.sum())} architectures with 2+ seeds in the table",
                          dof)
    if fallback is None:
        raise ConfigError("the table has too few repeated seeds to measure its noise (need 2 "
                          "degrees of freedom); give a seed sd")
    return NoiseModel(tuple([float(fallback)] * g.shape[2]), fallback_source or "given", 0)


@dataclass(frozen=True)
class CurveModel:
    """Mean gap between the error after each epoch and the final error (the last gap is 0):
    the curve of an architecture whose own curve the table lacks is ``truth + gaps``.

    Example:
        >>> CurveModel((0.1, 0.0), 4, "x").curve(0.2)
        array([0.3, 0.2])
    """

    gaps: tuple[float, ...]
    runs: int
    source: str
    #: per-epoch seed sd of the curves it was fitted on (None: unknown)
    sd: tuple[float, ...] | None = None

    @classmethod
    def from_curves(cls, curves: np.ndarray, source: str = "the table's curves") -> "CurveModel":
        """From (n_arch, n_seeds, n_epochs) curves (NaN where missing): the mean of
        ``curve[e] - curve[-1]`` over every complete run."""
        c = np.asarray(curves, dtype=float).reshape(-1, np.asarray(curves).shape[-1])
        c = c[np.all(np.isfinite(c), axis=1)]
        if not len(c):
            raise ConfigError("no complete learning curve in the table")
        gaps = (c - c[:, -1:]).mean(axis=0)
        full = np.asarray(curves, dtype=float)
        sd = None
        if full.ndim == 3 and full.shape[1] >= 2:
            try:
                sd = fit_noise(full).sd
            except ConfigError:
                sd = None
        return cls(tuple(float(round(x, 10)) for x in gaps), len(c), source, sd)

    def extra_sd(self, final_sd: float) -> np.ndarray:
        """Per-epoch noise beyond the final epoch's, ``sqrt(max(sd_e^2 - sd_E^2, 0))``: early
        epochs of real curves vary more between seeds than final errors do, and independently
        of them, so a pruner's early decisions are noisy. Zero when unknown."""
        if self.sd is None:
            return np.zeros(self.epochs)
        sd = np.asarray(self.sd, dtype=float)
        return np.sqrt(np.maximum(sd ** 2 - sd[-1] ** 2, 0.0))

    @classmethod
    def flat(cls, epochs: int) -> "CurveModel":
        """No curve data: every epoch answers the final error (a single-fidelity table)."""
        return cls(tuple([0.0] * int(epochs)), 0, "none: the table has no curves")

    @property
    def epochs(self) -> int:
        return len(self.gaps)

    def curve(self, final: float) -> np.ndarray:
        return float(final) + np.asarray(self.gaps)


#: Per-epoch curves of the default recipe (3 epochs on 10,000 images, validation split), measured
#: on the noise study's models with 3 seeds each (``results/bench/noise_<space>.curves.csv``,
#: recomputed by tests/test_bench_truth.py): space -> (gaps to the final error, seed sd per
#: epoch, runs). A table without curves of its own (the populations) borrows them, so pruning
#: algorithms can run on it.
MEASURED_CURVES: dict[str, tuple[tuple[float, ...], tuple[float, ...], int]] = {
    "regnetx": ((0.1316, 0.0314, 0.0), (0.0592, 0.0093, 0.0055), 36),
    "anynetx_a": ((0.1589, 0.0387, 0.0), (0.0751, 0.0446, 0.0066), 36),
    "anynetx_e": ((0.1359, 0.0293, 0.0), (0.0986, 0.0085, 0.0057), 36),
}


def measured_curves(space: str) -> CurveModel | None:
    """The :data:`MEASURED_CURVES` of ``space`` as a :class:`CurveModel` (None if unmeasured)."""
    if space not in MEASURED_CURVES:
        return None
    gaps, sd, runs = MEASURED_CURVES[space]
    return CurveModel(gaps, runs, f"measured gaps of the default recipe ({runs} runs of "
                      f"results/bench/noise_{space}.curves.csv)", sd)


@dataclass(frozen=True)
class CostModel:
    """Simulated seconds per training epoch: ``c0 + c1 * Mflops + c2 * Macts`` (non-negative
    least squares on the measured epoch times), with the fit's R^2 and how many runs it saw.

    Example:
        >>> m = CostModel((1.0, 2.0, 0.0), 1.0, 3, "x")
        >>> float(m.epoch_seconds(3e6, 0.0))
        7.0
    """

    coef: tuple[float, float, float]
    r2: float
    runs: int
    source: str

    @classmethod
    def fit(cls, seconds: np.ndarray, flops: np.ndarray, acts: np.ndarray,
            source: str = "") -> "CostModel":
        """Fit on per-run seconds per epoch; a table without timings gets 1 s per epoch."""
        from scipy.optimize import nnls

        t = np.asarray(seconds, dtype=float)
        f = np.asarray(flops, dtype=float) / 1e6
        a = np.asarray(acts, dtype=float) / 1e6
        keep = np.isfinite(t) & (t > 0) & np.isfinite(f) & np.isfinite(a)
        if keep.sum() < 3:
            return cls((1.0, 0.0, 0.0), math.nan, 0, "no timings: 1 s per epoch")
        X = np.stack([np.ones(keep.sum()), f[keep], a[keep]], axis=1)
        coef, _ = nnls(X, t[keep])
        pred = X @ coef
        ss = float(np.sum((t[keep] - t[keep].mean()) ** 2))
        r2 = 1.0 - float(np.sum((t[keep] - pred) ** 2)) / ss if ss > 0 else math.nan
        return cls(tuple(float(c) for c in coef), r2, int(keep.sum()), source)

    def epoch_seconds(self, flops: Any, acts: Any) -> np.ndarray:
        c0, c1, c2 = self.coef
        return c0 + c1 * np.asarray(flops, float) / 1e6 + c2 * np.asarray(acts, float) / 1e6

    def describe(self) -> str:
        c0, c1, c2 = self.coef
        return (f"{c0:.2f} s + {c1:.2f} s/Mflop + {c2:.2f} s/Mact per epoch "
                f"(R^2 {self.r2:.2f} on {self.runs} runs, {self.source})")


@dataclass(frozen=True)
class Draw:
    """One query's answer: ``curve`` (the error after each epoch, what the searcher sees),
    ``truth`` (the architecture's final-epoch truth, what it is scored on), ``seconds`` (simulated
    cost of each epoch), ``kind`` (an index into :data:`regnet_space.bench.oracle.KINDS`),
    ``seed`` (the table's seed index answered, -1 for modelled noise or none), and the
    architecture's ``flops``, ``params`` and ``acts``."""

    curve: np.ndarray
    truth: float
    seconds: np.ndarray
    kind: int
    seed: int
    flops: float
    params: float
    acts: float

    @property
    def value(self) -> float:
        """The answer after the last epoch."""
        return float(self.curve[-1])


def read_curves(table: Any, ok: "pd.DataFrame", curves: Any) -> tuple[Any, Any]:
    """(curves (rows, epochs) or None, mean seconds per epoch per row or None) for the ``ok``
    rows: from the export's long curve table (joined on ``trial``) or from list columns
    ``eval_error``/``epoch_time`` (the noise study's format)."""
    import json
    from pathlib import Path

    import pandas as pd

    if curves is None:
        return None, None
    if isinstance(curves, str) and curves == "auto":
        curves = None
        if isinstance(table, (str, Path)):
            from ..analysis.table import curves_path

            cand = Path(curves_path(str(table)))
            curves = cand if cand.exists() else None
        if curves is None and "eval_error" in ok.columns:
            lists = [json.loads(x) if isinstance(x, str) else None for x in ok["eval_error"]]
            times = ([json.loads(x) if isinstance(x, str) else None for x in ok["epoch_time"]]
                     if "epoch_time" in ok.columns else [None] * len(ok))
            E = max((len(x) for x in lists if x), default=0)
            if E and all(x and len(x) == E for x in lists):
                secs = np.array([np.mean(t) if t else np.nan for t in times], dtype=float)
                return np.array(lists, dtype=float), secs
            return None, None
        if curves is None:
            return None, None
    if isinstance(curves, pd.DataFrame):
        long = curves
    else:
        long = (pd.read_parquet(curves) if str(curves).lower().endswith(".parquet")
                else pd.read_csv(curves))
    need = {"trial", "epoch", "val_error"}
    if not need <= set(long.columns):
        raise ConfigError(f"the curve table needs columns {sorted(need)}, it has "
                          f"{list(long.columns)}")
    if "trial" not in ok.columns:
        raise ConfigError("the table has no trial column to join its curves on")
    wide = long.pivot_table(index="trial", columns="epoch", values="val_error", aggfunc="mean")
    trials = pd.to_numeric(ok["trial"], errors="coerce")
    missing = sorted(set(trials) - set(wide.index))
    if missing:
        raise ConfigError(f"the curve table has no curve for trial(s) {missing[:5]} of the "
                          f"table's ok rows")
    arr = wide.loc[trials].to_numpy(float)
    if not np.isfinite(arr).all():
        raise ConfigError("the curve table has missing epochs for some ok rows")
    secs = None
    if "epoch_time" in long.columns:
        secs = long.groupby("trial")["epoch_time"].mean().reindex(trials).to_numpy(float)
    return arr, secs


__all__ = ["CostModel", "CurveModel", "Draw", "MEASURED_CURVES", "NOISE_MODES", "NoiseModel",
           "fit_noise", "measured_curves", "read_curves"]
