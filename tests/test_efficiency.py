"""The headline efficiency curve: exact order statistics with a bootstrap band over models."""

from __future__ import annotations

from itertools import product
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from regnet_space.analysis.efficiency import efficiency_curve
from regnet_space.errors import ConfigError

ROOT = Path(__file__).resolve().parent.parent
TABLES = sorted(p for p in (ROOT / "results").glob("*.csv")
                if "status" in pd.read_csv(p, nrows=1).columns
                and "error" in pd.read_csv(p, nrows=1).columns)


def test_committed_tables_exist():
    names = {p.name for p in TABLES}
    assert {"regnetx.csv", "anynetx_a.csv", "anynetx_e.csv"} <= names


@pytest.mark.parametrize("path", TABLES, ids=[p.name for p in TABLES])
def test_curve_and_band_are_non_increasing_in_k_for_every_committed_table(path):
    df = pd.read_csv(path)
    e = df.loc[df["status"] == "ok", "error"].to_numpy(float)
    tab = efficiency_curve(e, seed=0, resamples=300)
    for col in ("exact", "low", "high"):
        assert (np.diff(tab[col].to_numpy()) <= 1e-12).all(), (col, tab[col].tolist())
    assert (tab["low"] <= tab["exact"] + 1e-12).all() and (tab["exact"] <= tab["high"] + 1e-12).all()
    assert tab["exact"].iloc[0] == pytest.approx(e.mean())  # the best of 1 is a random model


def test_exact_values_by_enumeration():
    # oracle: enumerate every ordered k-tuple drawn with replacement from the population
    e = np.array([0.3, 0.1, 0.2, 0.2, 0.5])
    tab = efficiency_curve(e, ks=[1, 2, 3], seed=0, resamples=50)
    for k, got in zip(tab["k"], tab["exact"]):
        want = np.mean([min(t) for t in product(e, repeat=int(k))])
        assert got == pytest.approx(want, abs=1e-12)


def test_band_covers_the_truth_of_the_distribution_sampled_from():
    # errors uniform on [0, 1]: E[min of k] = 1 / (k + 1); a 95% band should cover it mostly
    rng = np.random.default_rng(1)
    hits = []
    for rep in range(40):
        e = rng.uniform(size=64)
        tab = efficiency_curve(e, ks=[1, 4], seed=rep, resamples=200)
        truth = 1 / (tab["k"].to_numpy() + 1)
        hits.append(((tab["low"] <= truth) & (truth <= tab["high"])).to_numpy())
    cover = np.mean(hits, axis=0)
    assert (cover >= 0.8).all(), cover  # nominal 0.95; the percentile bootstrap runs a bit low


def test_weights_are_sampling_probabilities():
    e = np.array([0.1, 0.2, 0.3])
    w = np.array([1.0, 0.0, 1.0])
    tab = efficiency_curve(e, ks=[1, 2], weights=w, seed=0, resamples=50)
    assert tab["exact"].tolist() == pytest.approx([0.2, 0.75 * 0.1 + 0.25 * 0.3])
    same = efficiency_curve(e, ks=[1, 2], weights=w, seed=0, resamples=50)
    pd.testing.assert_frame_equal(tab, same)  # seeded


@pytest.mark.parametrize("kw", [dict(resamples=1), dict(level=1.0), dict(level=0)])
def test_bad_arguments_are_refused(kw):
    with pytest.raises(ConfigError):
        efficiency_curve([0.1, 0.2], **kw)
    with pytest.raises(ConfigError):
        efficiency_curve([])
