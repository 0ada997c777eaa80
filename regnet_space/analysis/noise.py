"""How sure a single-model figure is: the seed-noise floor of a population table's errors.

A brief run's error is the model's error plus seed noise (the training seed's init, batch order
and augmentation) of about the size of the differences between models of one space. So a figure
about single models (the best model, the min error, best-of-k, a best region, a trend) is only
as sure as that noise allows. :func:`noise_floor` finds the noise of a table's ``error`` column:

1. from the table itself, when its rows were trained with several seeds (``seeds`` > 1 and
   ``error_sd``): the seed sd pooled over models, divided by sqrt(K) for the mean of K seeds;
2. else ``seed_sd`` given by the caller (``--seed-sd`` on ``compare``/``analyze``);
3. else the seed sd measured for the space under the default recipe (:data:`MEASURED`, from
   ``results/noise.csv``, or ``results/noise_cpu.csv`` for tables made before the validation
   split; a test recomputes both).

:func:`tied_with_best` counts the models that a single run cannot tell from the best: those
whose error is within ``z * sqrt(2) * sd`` of the minimum (the difference of two runs has sd
``sqrt(2) sd``; z = 1.96 for about 95%).

Example:
    >>> import pandas as pd
    >>> df = pd.DataFrame({"space": "regnetx", "error": [0.20, 0.21, 0.25], "status": "ok",
    ...                    "error_sd": [0.006, 0.008, 0.007], "seeds": 3})
    >>> f = noise_floor(df)
    >>> round(f.seed_sd, 4), f.seeds, round(f.sd, 4), f.source
    (0.007, 3, 0.0041, 'error_sd of 3 seeds per model (this table)')
    >>> tied_with_best([0.20, 0.21, 0.25], f.sd)
    2
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np
import pandas as pd

#: The first this many runs of ``results/noise.csv`` made the ``"val"`` figures (the study
#: appends runs; the figures stay those of these runs until they are re-made).
ROWS = 144

#: Seed sd of one run per space, pooled within models, for the two forms of the default recipe
#: (3 epochs on 10,000 Fashion-MNIST images, one thread): ``"val"``, ranked on 5,000 validation
#: images with the test error scored once (the default since 0.3; ``results/noise.csv``, recipe
#: ``3ep-10k``, AVX2), and ``"test"``, ranked on the test split after every epoch (before 0.3;
#: the committed populations; ``results/noise_cpu.csv``, AVX-512). Both are for ``error`` (the
#: test error). (form, space) -> (sd, models, runs); made by ``benchmarks/noise.py``;
#: ``tests/test_noise.py`` recomputes them from the CSVs.
MEASURED: dict[tuple[str, str], tuple[float, int, int]] = {
    ("val", "anynetx_a"): (0.0059, 12, 36),
    ("val", "anynetx_e"): (0.0056, 12, 36),
    ("val", "regnetx"): (0.0052, 12, 36),
    ("test", "regnetx"): (0.0075, 8, 24),
    ("test", "anynetx_a"): (0.0077, 8, 24),
    ("test", "anynetx_e"): (0.0069, 8, 24),
}
#: Where each form's figures come from: (file, recipe, the first this many rows; the study
#: appends, so a figure names the runs it was made from).
MEASURED_FROM = {"val": ("results/noise.csv", "3ep-10k", ROWS),
                 "test": ("results/noise_cpu.csv", "brief", 72)}

#: Used for a space not in :data:`MEASURED`: the largest measured seed sd.
FALLBACK_SD = 0.0077


@dataclass(frozen=True)
class NoiseFloor:
    """The noise of one table error: ``sd`` = ``seed_sd / sqrt(seeds)``; ``source`` says where
    ``seed_sd`` came from."""

    seed_sd: float
    seeds: int
    source: str

    @property
    def sd(self) -> float:
        return self.seed_sd / math.sqrt(max(self.seeds, 1))

    def describe(self) -> str:
        """One line, e.g. ``seed noise sd 0.0041 per model (one run 0.0071, mean of 3 seeds;
        ...)``."""
        runs = "one run" if self.seeds == 1 else f"mean of {self.seeds} seeds; one run " \
            f"{self.seed_sd:.4f}"
        return f"seed noise sd {self.sd:.4f} per model ({runs}; {self.source})"


def noise_floor(df: pd.DataFrame, seed_sd: float | None = None) -> NoiseFloor:
    """The seed-noise floor of ``df``'s ``error`` column (see the module docstring)."""
    ok = df[df["status"] == "ok"] if "status" in df.columns else df
    if "error_sd" in ok.columns and "seeds" in ok.columns:
        k = pd.to_numeric(ok["seeds"], errors="coerce")
        sd = pd.to_numeric(ok["error_sd"], errors="coerce")
        use = (k > 1) & sd.notna()
        if use.sum() >= 2:
            # pooled within-model variance: each model's variance weighted by its K - 1 dofs
            dof = (k[use] - 1).to_numpy(float)
            pooled = math.sqrt(float(np.sum(dof * sd[use].to_numpy(float) ** 2) / dof.sum()))
            kk = int(round(float(np.median(k[use]))))
            return NoiseFloor(pooled, kk, f"error_sd of {kk} seeds per model (this table)")
    if seed_sd is not None:
        if not (math.isfinite(seed_sd) and 0 <= seed_sd < 1):
            raise ValueError(f"seed_sd must be a fraction in [0, 1), got {seed_sd!r}")
        return NoiseFloor(float(seed_sd), 1, "given (--seed-sd)")
    space = str(ok["space"].iloc[0]) if "space" in ok.columns and len(ok) else ""
    # a table with a validation column was made by the default since the validation split
    form = "val" if "val_error" in ok.columns and ok["val_error"].notna().any() else "test"
    if (form, space) in MEASURED:
        sd, models, runs = MEASURED[(form, space)]
        how = "with its validation split" if form == "val" else "as before 0.3, ranked on test"
        return NoiseFloor(sd, 1, f"measured: {models} {space} models, {runs} runs of the "
                                 f"default recipe {how}, {MEASURED_FROM[form][0]}")
    return NoiseFloor(FALLBACK_SD, 1, "no measurement for this space: the largest measured "
                                      "seed sd of the default recipe")


def tied_with_best(errors: Sequence[float], sd: float, z: float = 1.96) -> int:
    """How many of ``errors`` lie within ``z * sqrt(2) * sd`` of the minimum (the best included):
    the models one run per model cannot tell from the best."""
    e = np.asarray(errors, float)
    e = e[np.isfinite(e)]
    if not e.size:
        return 0
    return int(np.sum(e <= e.min() + z * math.sqrt(2.0) * sd))


def inside(diff: float, sd: float, z: float = 1.96) -> bool:
    """Whether a difference between two single-model figures lies inside the noise:
    ``|diff| <= z * sqrt(2) * sd``.

    Example:
        >>> inside(0.01, 0.007), inside(0.03, 0.007)
        (True, False)
    """
    return abs(diff) <= z * math.sqrt(2.0) * sd


__all__ = ["FALLBACK_SD", "MEASURED", "MEASURED_FROM", "NoiseFloor", "inside", "noise_floor",
           "tied_with_best"]
