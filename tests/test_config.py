"""NetConfig validation, JSON round trip, and group-width compatibility invariants."""

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from regnet_space.config import NetConfig, Stage, adjust_compatibility


def test_reference_compatibility_examples():
    # docs/conventions.md, compatibility: RegNetX-12GF stage 1 and RegNetX-8.0GF stage 1
    assert adjust_compatibility(168, 1, 112) == (224, 112)
    assert adjust_compatibility(80, 1, 120) == (80, 80)


@given(w=st.integers(1, 2048), b=st.sampled_from([1, 2, 4]), g=st.sampled_from([1, 2, 4, 8, 16, 24, 32, 48, 64, 112, 128]))
@settings(max_examples=500, deadline=None)
def test_compatibility_invariants(w, b, g):
    w2, g2 = adjust_compatibility(w, b, g)
    w_b = w2 // b
    assert w2 % b == 0 and w_b % g2 == 0          # the group conv is well formed
    assert g2 <= max(1, int(w / b))               # g never exceeds the bottleneck width
    if int(w / b) >= 3:
        assert abs(w2 - w) <= w / 3 + b           # final width within ~1/3 of the sampled one
    assert adjust_compatibility(w2, b, g2) == (w2, g2)  # idempotent: construction is stable


@given(w=st.integers(8, 1024), inv=st.sampled_from([2, 4]), g=st.sampled_from([1, 2, 4, 8, 16, 32]))
@settings(max_examples=200, deadline=None)
def test_inverted_bottleneck_is_integral_and_stable(w, inv, g):
    b = 1 / inv
    w2, g2 = adjust_compatibility(w, b, g)
    assert (w2 * inv) % g2 == 0
    assert adjust_compatibility(w2, b, g2) == (w2, g2)


def test_json_round_trip_and_hash():
    cfg = NetConfig.from_lists([1, 2], [24, 56], bs=[1, 2], gs=8, block="Y", resolution=32,
                               in_channels=1, num_classes=10, stem="small")
    again = NetConfig.from_json(cfg.to_json())
    assert again == cfg and hash(again) == hash(cfg)
    # w_b = 56 / 2 = 28 -> 28 / 8 = 3.5 rounds half-to-even to 4 -> w_b = 32, w = 64
    assert json.loads(cfg.to_json())["stages"][1] == {"d": 2, "w": 64, "s": 2, "b": 2, "g": 8}
    assert cfg.se_ratio == 0.25 and NetConfig.from_lists([1], [8]).se_ratio == 0.0


def test_construction_applies_compatibility():
    cfg = NetConfig.from_lists([1], [168], gs=112)
    assert cfg.widths == (224,) and cfg.gs == (112,)
    r = NetConfig.from_lists([1], [96], bs=2, block="R", gs=1)
    assert r.gs == (48,) and r.stages[0].groups == 1   # R: a single group over w_b
    v = NetConfig.from_lists([1], [40], bs=4, gs=2, block="V")
    assert v.stages[0].b == 1 and v.gs == (40,)


@pytest.mark.parametrize("kwargs, match", [
    (dict(stages=[{"d": 0, "w": 8}]), "stage depth d must be in"),
    (dict(stages=[{"d": 1, "w": 0}]), "stage width w must be in"),
    (dict(stages=[{"d": 1, "w": 8, "b": -1}]), "bottleneck ratio b must be a finite number > 0"),
    (dict(stages=[{"d": 1, "w": 8, "g": 0}]), "group width g must be in"),
    (dict(stages=[{"d": 1.5, "w": 8}]), "stage depth d must be an integer"),
    (dict(stages=[Stage(1, 8)], block="Z"), "block must be one of X, Y, R, V, VR"),
    (dict(stages=[Stage(1, 8)], stem="foo"), "stem must be one of imagenet, resnet, small"),
    (dict(stages=[Stage(1, 8)], resolution=0), "resolution must be in"),
    (dict(stages=[Stage(1, 8)], num_classes=0), "num_classes must be in"),
    (dict(stages=[Stage(1, 8)], block="X", se_ratio=0.25), "se_ratio must be 0 for X blocks"),
    (dict(stages=[Stage(1, 8)], block="Y", se_ratio=2), r"se_ratio must be in \(0, 1\]"),
    (dict(stages=[]), "stages must hold 1..16 stages"),
    (dict(stages="abc"), "stages must be a sequence"),
    (dict(stages={"d": 1, "w": 8}), "stages must be a sequence"),
    (dict(stages=[{"d": 1, "w": 8, "colour": 2}]),
     r"stage 1: unknown key\(s\) \['colour'\]; a stage takes d, w \(required\), s, b, g"),
    (dict(stages=[{"d": 1, "w": 8}, {"w": 8}]), r"stage 2: missing key\(s\) \['d'\]"),
    (dict(stages=[3]), "stage 1 must be an object with keys d, w"),
    (dict(stages=[{"d": 1, "w": 8, "b": "2"}]), "stage 1: bottleneck ratio b must be a number"),
    (dict(stages=[{"d": True, "w": 8}]), "stage 1: stage depth d must be an integer"),
    (dict(stages=[Stage(1, 8)], block="Y", se_ratio="big"), "se_ratio must be a number"),
    (dict(stages=[Stage(1, 8)], block="Y", se_ratio=float("nan")), "se_ratio must be in"),
    (dict(stages=[Stage(1, 8)], stem_w=float("inf")), "stem_w must be an integer"),
])
def test_bad_values_name_the_field(kwargs, match):
    with pytest.raises(ValueError, match=match):
        NetConfig(**kwargs)


def test_bad_json_and_dicts():
    with pytest.raises(ValueError, match="not valid JSON"):
        NetConfig.from_json("{nope")
    with pytest.raises(ValueError, match=r"unknown NetConfig field\(s\) \['colour'\]"):
        NetConfig.from_dict({"stages": [{"d": 1, "w": 8}], "colour": 1})
    with pytest.raises(ValueError, match="needs 'stages'"):
        NetConfig.from_dict({})
    with pytest.raises(ValueError, match="ds and ws must have the same length"):
        NetConfig.from_lists([1, 2], [8])
    with pytest.raises(ValueError, match="gs must have 2 entries"):
        NetConfig.from_lists([1, 2], [8, 16], gs=[1, 2, 3])


def test_with_input_switches_stem():
    cfg = NetConfig.from_lists([1], [8])
    small = cfg.with_input(28, in_channels=1, num_classes=10)
    assert (small.stem, small.resolution, small.in_channels, small.num_classes) == ("small", 28, 1, 10)
    assert small.with_input(224).stem == "imagenet"
    assert cfg.with_input(28, stem="imagenet").stem == "imagenet"


def test_every_bad_json_config_is_a_config_error():
    """Any JSON value in any field fails with a ConfigError (never a TypeError or KeyError), and
    exactly the values that mean something are accepted: se_ratio None (the block's default)
    and 0 (no squeeze-excitation). Any other acceptance is a bug this test names."""
    from regnet_space.errors import ConfigError

    values = [None, True, -1, 0, 1e400, "x", [], {}, [1], {"d": 1}]
    base = {"stages": [{"d": 1, "w": 8}]}
    accepted = []
    for key in ("block", "stem", "stem_w", "se_ratio", "in_channels", "num_classes",
                "resolution", "stages"):
        for v in values:
            try:
                NetConfig.from_dict({**base, key: v})
                accepted.append((key, repr(v)))
            except ConfigError:
                pass
    for key in ("d", "w", "s", "b", "g"):
        for v in values:
            try:
                NetConfig.from_dict({"stages": [{"d": 1, "w": 8, key: v}]})
                accepted.append((f"stage.{key}", repr(v)))
            except ConfigError:
                pass
    assert accepted == [("se_ratio", "None"), ("se_ratio", "0")]
