"""Encodings: the feasible encoding decodes (almost) every point inside the budget and the
structural constraints, every feasible configuration stays reachable, and Optuna samplers that
search it waste (almost) no trial."""

import numpy as np
import pytest

from regnet_space.errors import ConfigError
from regnet_space.spaces import get_space, space_names
from regnet_space.spaces.encoding import RawEncoding, get_encoding

#: (resolution, budgets) checked for every space: the populations' regime at 28 px, a tight and a
#: larger one, and the paper's 400 MF regime at 224 px.
REGIMES = [(28, "2M:5M"), (28, "10M:20M"), (224, "360M:400M")]


def _space(name, res):
    return get_space(name, resolution=res, in_channels=1 if res == 28 else 3,
                     num_classes=10 if res == 28 else 1000)


@pytest.mark.parametrize("name", space_names())
@pytest.mark.parametrize("res,budget", REGIMES)
def test_ten_thousand_random_points_decode_feasible(name, res, budget):
    space = _space(name, res)
    enc = get_encoding(space, budget)
    x = enc.random_coords(np.random.default_rng(0), 10_000)
    values, repaired = enc.decode_arrays(x)
    *_, feasible = space.check_arrays(values, budget)
    assert feasible.mean() >= 0.99, (name, budget, feasible.mean())
    # every value is on the space's grid (a tool proposing it would get exactly this network)
    for p in space.params:
        allowed = p.values()
        assert np.isin(np.round(values[p.name], 6), np.round(allowed, 6)).all(), p.name


@pytest.mark.parametrize("name", ["regnetx", "regnety", "regnetx_pycls", "anynetx_a",
                                  "anynetx_c", "anynetx_d", "anynetx_e"])
@pytest.mark.parametrize("res,budget", [(28, "2M:5M"), (224, "360M:400M")])
def test_every_design_sample_is_reachable(name, res, budget):
    space = _space(name, res)
    enc = get_encoding(space, budget)
    for s in space.sample(60, seed=7, flops=budget):
        x = enc.encode(s.values)
        assert all(c.contains(x[c.name]) for c in enc.coords), x
        dec = enc.decode(x)
        assert dec.values == s.values and not dec.repaired, (s.values, dec)


def test_raw_encoding_round_trips_and_is_the_paper_box():
    space = get_space("regnetx")
    enc = RawEncoding(space)
    assert enc.names == ("d", "w0", "wa", "wm", "b_index", "g_log2")
    for s in space.sample(20, seed=0, flops="360M:400M"):
        assert enc.decode(enc.encode(s.values)).values == s.values
    # the raw box is mostly infeasible under a narrow budget: why the feasible encoding exists
    x = enc.random_coords(np.random.default_rng(0), 5000)
    values, _ = enc.decode_arrays(x)
    *_, feasible = space.check_arrays(values, "360M:400M")
    assert feasible.mean() < 0.05


def test_monotone_spaces_decode_sorted_and_size_follows_the_target():
    space = _space("anynetx_e", 28)
    enc = get_encoding(space, "2M:5M")
    x = enc.random_coords(np.random.default_rng(1), 400)
    values, _ = enc.decode_arrays(x)
    ws = np.stack([values[f"w{i}"] for i in range(1, 5)], 1)
    ds = np.stack([values[f"d{i}"] for i in range(1, 5)], 1)
    assert (np.diff(ws, axis=1) >= 0).all() and (np.diff(ds, axis=1) >= 0).all()
    f, *_ = space.check_arrays(values)
    # a larger size coordinate asks for a larger network: strongly correlated
    assert np.corrcoef(x["size"], np.log(f))[0, 1] > 0.7


def test_bad_coordinates_and_names_are_clear_errors():
    enc = get_encoding(_space("regnetx", 28), "2M:5M")
    with pytest.raises(ConfigError, match="missing"):
        enc.decode({"d": 10})
    with pytest.raises(ConfigError, match="not a number"):
        enc.decode(dict(d="x", wm=2, b_index=0, g_log2=3, slope=0.5, size=0.5))
    with pytest.raises(ConfigError, match="unknown encoding"):
        get_encoding(_space("regnetx", 28), "2M:5M", "magic")
    # a real miss is refused, naming the coordinate and its range (never clamped silently)...
    for name, value in (("d", 500), ("wm", 9.0), ("b_index", 7), ("g_log2", -3),
                        ("slope", 2.0), ("size", -1.0)):
        x = {**dict(d=10, wm=2.0, b_index=0, g_log2=3, slope=0.5, size=0.5), name: value}
        with pytest.raises(ConfigError, match=rf"^{name} = .* is outside its range"):
            enc.decode(x)
    # ...while float noise at a bound (a tool's exp(log(x))) is clipped
    c = next(c for c in enc.coords if c.name == "size")
    d = enc.decode(dict(d=10, wm=2.0, b_index=0, g_log2=3, slope=0.5, size=c.high + 1e-12))
    assert get_space("regnetx", resolution=28, in_channels=1,
                     num_classes=10).check(d.values, "2M:5M").feasible


@pytest.mark.parametrize("sampler", ["random", "tpe", "cmaes", "nsga2", "qmc"])
def test_optuna_samplers_propose_feasible_configurations(sampler):
    import optuna

    from regnet_space.search.optuna import make_sampler, objective

    optuna.logging.set_verbosity(optuna.logging.ERROR)
    space = _space("regnetx", 28)
    study = optuna.create_study(sampler=make_sampler(sampler, space, "2M:5M", seed=0))
    fn = objective(space, budget="2M:5M", evaluate=lambda cfg, **kw: 0.5)
    study.optimize(fn, n_trials=25)
    statuses = [t.user_attrs["status"] for t in study.trials]
    assert statuses.count("ok") >= 24, statuses
    raw = optuna.create_study(sampler=make_sampler(sampler, space, "2M:5M", seed=0,
                                                   encoding="raw"))
    raw.optimize(objective(space, budget="2M:5M", evaluate=lambda cfg, **kw: 0.5,
                           encoding="raw"), n_trials=25)
    assert [t.user_attrs["status"] for t in raw.trials].count("ok") < 12
