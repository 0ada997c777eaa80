"""Quantized linear widths (Eq. 2-4): scalar vs vectorised, pycls facts, and e_fit."""

import numpy as np
import pytest

from regnet_space.regnet import (adjust_compatibility_arrays, generate_regnet,
                                 generate_regnet_arrays, quantized_linear_fit)
from regnet_space.config import adjust_compatibility


def test_regnetx_200mf_stages():
    r = generate_regnet(13, 24, 36.44, 2.49)
    assert (r.ws, r.ds, r.num_stages, r.total_stages) == ((24, 56, 152, 368), (1, 1, 4, 7), 4, 4)
    assert r.block_ws[:3] == (24, 56, 152) and len(r.block_ws) == 13
    assert not r.skips_level


def test_skipped_level_reported():
    # wm = 1.5 from w0 = 8: levels 8, 12 -> 16, 18 -> 16 collapse; one width level disappears
    r = generate_regnet(30, 8, 8.0, 1.5)
    assert r.total_stages > r.num_stages and r.skips_level


def test_vectorised_matches_scalar_bitwise():
    rng = np.random.default_rng(0)
    n = 3000
    d = rng.integers(1, 64, n)
    w0 = rng.integers(1, 32, n) * 8
    wa = np.round(rng.uniform(0, 256, n), 1)
    wm = np.round(rng.uniform(1.5, 3.0, n), 3)
    ds, ws, ns, ts = generate_regnet_arrays(d, w0, wa, wm)
    for i in range(n):
        r = generate_regnet(d[i], w0[i], wa[i], wm[i])
        k = r.num_stages
        assert (ns[i], ts[i]) == (k, r.total_stages)
        assert tuple(ws[i, :k]) == r.ws and tuple(ds[i, :k]) == r.ds
        assert ds[i, k:].sum() == 0


def test_float64_half_even_rounding_is_pycls():
    # w0 * wm^k / 8 landing exactly on .5 rounds to even (np.round), as pycls does
    r = generate_regnet(2, 8, 12.0, 2.5)   # u = 8, 20 -> k = 0, 1 -> 8, 20 -> 20/8 = 2.5 -> 2 -> 16
    assert r.ws == (8, 16)


def test_compatibility_arrays_match_scalar():
    rng = np.random.default_rng(1)
    w = rng.integers(8, 2048, 5000)
    b = rng.choice([0.25, 0.5, 1, 2, 4], 5000)
    g = rng.choice([1, 2, 4, 8, 16, 24, 32, 64, 112, 128], 5000)
    wa, ga = adjust_compatibility_arrays(w, b, g)
    for i in range(0, 5000, 7):
        assert (wa[i], ga[i]) == adjust_compatibility(int(w[i]), float(b[i]), int(g[i]))


def test_bad_parameters():
    with pytest.raises(ValueError, match="wm"):
        generate_regnet(10, 24, 36, 1.0)
    with pytest.raises(ValueError, match="w0"):
        generate_regnet(10, 0, 36, 2.0)
    with pytest.raises(ValueError, match="d"):
        generate_regnet(0, 24, 36, 2.0)


def test_efit_exact_on_grid_and_positive_off_it():
    # a RegNet whose (w0, wa, wm) are grid points of the fit is recovered with e_fit == 0
    from regnet_space.regnet import default_fit_grid
    w0s, was, wms = default_fit_grid()
    w0, wa, wm = w0s[3], was[30], wms[20]
    block_ws = generate_regnet(20, w0, wa, wm).block_ws
    fit = quantized_linear_fit(block_ws)
    assert fit.e_fit == 0.0 and fit.predicted == block_ws
    # a non-linear staircase can't be fit exactly
    bad = quantized_linear_fit([512, 16, 512, 16, 512])
    assert bad.e_fit > 0.5
    with pytest.raises(ValueError, match="positive widths"):
        quantized_linear_fit([])
