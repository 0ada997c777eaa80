"""The published result tables in Markdown: what the README shows, made by the report's code.

``regnet-space compare`` writes them to ``OUT/tables.md`` next to ``OUT/index.html`` with the
report's seed and resample counts, so the README's tables are copied from the committed report
folder (``results/report/tables.md``) and a test recomputes them from the committed populations:
they cannot disagree.

* :func:`population_table`: per population the trial counts, error statistics and the expected
  best error of k random models (exact, from the order statistics) with a bootstrap 95% CI.
* :func:`dominance_table`: the EDF dominance test of every pair, the better population first.
* :func:`result_tables`: both, plain and complexity-normalized, with the settings in a heading.

Example:
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> pops = {k: pd.DataFrame({"error": rng.normal(m, 0.01, 64), "status": "ok"})
    ...         for k, m in (("A", 0.30), ("B", 0.32))}
    >>> print(dominance_table(pops, repeats=100).splitlines()[2].split(" | ")[:2])
    ['| A vs B', '**A dominates B**']
"""

from __future__ import annotations

from dataclasses import replace
from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from . import confidence as ci
from .noise import noise_floor, tied_with_best
from .stats import expected_min, ok_rows

#: Resamples of every CI here: the report's EDF_REPEATS.
REPEATS = 1000


def best_of_k(errors: Sequence[float], k: int, *, repeats: int = REPEATS, seed: int = 0,
              level: float = 0.95) -> tuple[float, float, float]:
    """(expected best error of k random models, CI low, CI high): exact from the order
    statistics, with a bootstrap CI over the models (``repeats`` resamples, seeded)."""
    e = np.asarray(errors, float)
    point = float(expected_min(e, [k])[0])
    rng = np.random.default_rng(seed)
    boots = np.array([expected_min(e[rng.integers(0, e.size, e.size)], [k])[0]
                      for _ in range(int(repeats))])
    tail = 50.0 * (1.0 - level)
    low, high = np.percentile(boots, [tail, 100.0 - tail])
    return point, float(low), float(high)


def population_table(pops: Mapping[str, pd.DataFrame], *, ks: Sequence[int] = (4, 16),
                     repeats: int = REPEATS, seed: int = 0, seed_sd: float | None = None) -> str:
    """One Markdown row per population: trials, ok, error > 0.8 (near chance on 10 classes),
    min / median / mean error, best of k [95% CI] for each k, the seed-noise sd of one table
    error (:func:`~regnet_space.analysis.noise.noise_floor`) and how many models lie within the
    noise of the best (:func:`~regnet_space.analysis.noise.tied_with_best`)."""
    head = ["space", "trials", "ok", "error > 0.8", "min error", "median", "mean",
            *[f"best of {k} [95% CI]" for k in ks], "seed noise sd", "tied with best"]
    rows = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for label, df in pops.items():
        e = ok_rows(df)["error"].to_numpy(float)
        cells = [label, str(len(df)), str(e.size), str(int((e > 0.8).sum())), f"{e.min():.4f}",
                 f"{np.median(e):.4f}", f"{e.mean():.4f}"]
        for k in ks:
            p, lo, hi = best_of_k(e, k, repeats=repeats, seed=seed)
            cells.append(f"{p:.4f} [{lo:.4f}, {hi:.4f}]")
        floor = noise_floor(df, seed_sd)
        cells += [f"{floor.sd:.4f}", str(tied_with_best(e, floor.sd))]
        rows.append("| " + " | ".join(cells) + " |")
    return "\n".join(rows)


def _winner_first(d: ci.Dominance) -> ci.Dominance:
    if not d.verdict.startswith("b_"):
        return d
    return replace(d, label_a=d.label_b, label_b=d.label_a, n_a=d.n_b, n_b=d.n_a,
                   frac_above=d.frac_below, frac_below=d.frac_above, mean_diff=-d.mean_diff,
                   mean_diff_low=-d.mean_diff_high, mean_diff_high=-d.mean_diff_low,
                   area=-d.area, area_low=-d.area_high, area_high=-d.area_low,
                   verdict="a_" + d.verdict[2:])


def dominance_table(pops: Mapping[str, pd.DataFrame],
                    weights: Mapping[str, np.ndarray | None] | None = None, *,
                    repeats: int = REPEATS, seed: int = 0) -> str:
    """:func:`~regnet_space.analysis.confidence.pairwise_dominance` as Markdown, the better
    population of each pair first."""
    head = ["pair (first vs second)", "verdict",
            "first's EDF significantly above / below the second's",
            "mean error difference [95% CI]", "area between EDFs [95% CI]"]
    rows = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for d in map(_winner_first, ci.pairwise_dominance(pops, weights, repeats=repeats,
                                                      seed=seed)):
        verdict = ci.VERDICTS[d.verdict].format(a=d.label_a, b=d.label_b)
        rows.append(f"| {d.label_a} vs {d.label_b} | **{verdict}** | {d.frac_above:.0%} / "
                    f"{d.frac_below:.0%} of errors {d.lo:.3f}-{d.hi:.3f} | {d.mean_diff:+.4f} "
                    f"[{d.mean_diff_low:+.4f}, {d.mean_diff_high:+.4f}] | {d.area:+.4f} "
                    f"[{d.area_low:+.4f}, {d.area_high:+.4f}] |")
    return "\n".join(rows)


def result_tables(pops: Mapping[str, pd.DataFrame],
                  weights: Mapping[str, np.ndarray | None] | None = None, *,
                  normalize: str = "flops", seed: int = 0, repeats: int = REPEATS,
                  seed_sd: float | None = None) -> str:
    """The Markdown of ``tables.md``: the population table, then the dominance table of the
    plain EDFs and, with ``weights``, of the ``normalize``-normalized ones."""
    floors = "; ".join(f"{k}: {noise_floor(df, seed_sd).describe()}" for k, df in pops.items())
    parts = [f"<!-- written by regnet-space compare (seed {seed}, {repeats} resamples per CI); "
             "the README copies these tables -->",
             "### Populations", "", population_table(pops, repeats=repeats, seed=seed,
                                                     seed_sd=seed_sd), "",
             "Min error and best of k are single-model figures: each carries the seed noise "
             "(\"seed noise sd\"), and a best of k also picks the luckiest seed, so it is "
             "optimistic by up to that much. \"Tied with best\": models whose error lies within "
             "1.96 x sqrt(2) x sd of the minimum, which one run per model cannot tell from the "
             f"best. Noise: {floors}."]
    if len(pops) > 1:
        parts += ["", "### Dominance of the error EDFs", "",
                  dominance_table(pops, repeats=repeats, seed=seed)]
        if weights and any(w is not None for w in weights.values()):
            parts += ["", f"### Dominance of the {normalize}-normalized error EDFs", "",
                      dominance_table(pops, weights, repeats=repeats, seed=seed)]
    return "\n".join(parts) + "\n"


__all__ = ["REPEATS", "best_of_k", "dominance_table", "population_table", "result_tables"]
