"""The torch builder and timm interop against the analytic complexity and independent oracles.

Oracles: timm's ``regnetx_*``/``regnety_*`` and ResNe(X)t models, torchvision's ResNet class, and
``torch.utils.flop_counter`` (conv + linear multiply-adds). Large models are constructed on the
``meta`` device: their parameters are real tensors with real shapes (numel is a true count), but
no memory is allocated and no initialisation arithmetic runs, so 48 zoo models take about a
second. One test counts a model on the CPU too, to show meta and CPU counts agree.
"""

from __future__ import annotations

import math
import pickle
import zlib

import numpy as np
import pytest

import torch
import timm
import torchvision

from regnet_space import complexity, get_space, space_names, zoo  # noqa: E402
from regnet_space.config import NetConfig  # noqa: E402
from regnet_space.nn import (  # noqa: E402
    SE, AnyNet, analytic_bias_flops, build_model, count_params, measure_flops, timm_stage_widths,
    to_timm,
)
from regnet_space.regnet import generate_regnet  # noqa: E402

META = torch.device("meta")


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    """Tiny models on a busy CI machine: intra-op threads only add contention."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)
REGNET_NAMES = list(zoo.REGNETS)


def meta_model(cfg: NetConfig, **kw) -> AnyNet:
    with META:
        return build_model(cfg, **kw)


def sample_configs(space, n, seed, *, params, pool=6, **kw) -> list[NetConfig]:
    """The n shallowest of ``pool * n`` draws of a registered space under a params budget.

    Building a module costs per layer, so preferring shallow draws keeps hundreds of builds fast
    while widths, b, g, blocks, stems and inputs still vary freely.
    """
    draws = get_space(space, **kw).sample(pool * n, seed=seed, params=params)
    for s in draws[:n]:  # the sampler's vectorised count equals the layer-by-layer walk
        assert (s.flops, s.params, s.acts) == tuple(complexity(s.config).as_dict().values())
    order = sorted(range(len(draws)), key=lambda i: draws[i].config.depth)
    return [draws[i].config for i in sorted(order[:n])]


def shapes(model_or_state_dict) -> list[tuple[int, ...]]:
    sd = model_or_state_dict
    sd = sd.state_dict() if isinstance(sd, torch.nn.Module) else sd
    return [tuple(t.shape) for t in sd.values()]


# ------------------------------------------------------------------------------ zoo vs timm
@pytest.mark.parametrize("name", REGNET_NAMES)
def test_zoo_regnet_params_and_widths_equal_timm(name):
    cfg = zoo.get_config(name)
    ref = timm.create_model(zoo.timm_name(name), pretrained=False, device="meta")
    ours = meta_model(cfg)
    analytic = complexity(cfg).params
    assert count_params(ref) == analytic == count_params(ours)
    assert timm_stage_widths(ref) == cfg.widths
    assert tuple(len(list(getattr(ref, f"s{i}").children())) for i in range(1, 5)) == cfg.depths
    # to_timm builds the same architecture as timm's named model, tensor for tensor
    exported = to_timm(cfg, device="meta")
    assert count_params(exported) == analytic
    assert timm_stage_widths(exported) == cfg.widths
    sd_ref, sd_exported = ref.state_dict(), exported.state_dict()
    assert list(sd_exported) == list(sd_ref)
    assert shapes(sd_exported) == shapes(sd_ref) == shapes(ours)


def test_meta_count_equals_cpu_count():
    cfg = zoo.get_config("RegNetY-400MF")
    cpu = build_model(cfg)
    assert count_params(cpu) == count_params(meta_model(cfg)) == 4344144 == complexity(cfg).params


@pytest.mark.parametrize("name", ["RegNetX-200MF", "RegNetY-800MF", "RegNetY-1.6GF"])
def test_zoo_flops_equal_flop_counter_and_timm(name):
    cfg = zoo.get_config(name)
    ours = measure_flops(cfg)
    assert ours["flops"] == complexity(cfg).flops - analytic_bias_flops(cfg)
    assert ours["other"] == 0 and ours["linear"] == cfg.widths[-1] * cfg.num_classes
    ref = timm.create_model(zoo.timm_name(name), pretrained=False)
    assert measure_flops(ref, 224) == ours


def test_flops_of_a_large_config_on_meta():
    cfg = zoo.get_config("RegNetY-32GF", resolution=32, stem="imagenet", num_classes=10)
    got = measure_flops(cfg, device="meta")
    assert got["flops"] == complexity(cfg).flops - analytic_bias_flops(cfg)
    assert measure_flops(zoo.get_config("RegNetX-200MF"), device="meta") == \
        measure_flops(zoo.get_config("RegNetX-200MF"), device="cpu")


def test_reference_check_values():
    x200 = zoo.get_config("RegNetX-200MF")
    assert measure_flops(x200)["flops"] == 199_040_872 - 1000
    y800 = zoo.get_config("RegNetY-800MF")
    assert count_params(meta_model(y800)) == 6_263_168
    assert measure_flops(y800)["flops"] == 797_183_328 - analytic_bias_flops(y800)


# ------------------------------------------------------------------------------ ResNe(X)t
def _torchvision_resnet(depths, groups, width_per_group):
    from torchvision.models.resnet import Bottleneck, ResNet
    return ResNet(Bottleneck, list(depths), groups=groups, width_per_group=width_per_group)


RESNETS = {  # name -> (depths, groups, width per group, oracle)
    "resnet50": ((3, 4, 6, 3), 1, 64, "tv:resnet50"),
    "resnet101": ((3, 4, 23, 3), 1, 64, "tv:resnet101"),
    "resnet152": ((3, 8, 36, 3), 1, 64, "tv:resnet152"),
    "resnext50_32x4d": ((3, 4, 6, 3), 32, 4, "tv:resnext50_32x4d"),
    # torchvision has no 32x4d ResNeXt-101 (it has 32x8d and 64x4d); timm does.
    "resnext101_32x4d": ((3, 4, 23, 3), 32, 4, "timm:resnext101_32x4d"),
    # Nobody ships a ResNeXt-152 32x4d: torchvision's generic ResNet class is the oracle.
    "resnext152_32x4d": ((3, 8, 36, 3), 32, 4, "generic"),
}


@pytest.mark.parametrize("name", list(RESNETS))
def test_resnets_equal_torchvision_and_timm(name):
    depths, groups, wpg, oracle = RESNETS[name]
    cfg = zoo.get_config(name)
    lib, _, model_name = oracle.partition(":")
    with META:
        if lib == "tv":
            ref = getattr(torchvision.models, model_name)()
        elif lib == "timm":
            ref = timm.create_model(model_name, pretrained=False)
        else:
            from torchvision.models.resnet import Bottleneck, ResNet
            ref = ResNet(Bottleneck, list(depths), groups=groups, width_per_group=wpg)
    assert count_params(meta_model(cfg)) == complexity(cfg).params == count_params(ref)
    assert shapes(meta_model(cfg)) == shapes(ref)  # same layers in the same order


@pytest.mark.parametrize("name", ["resnet50", "resnext50_32x4d"])
def test_resnet_flops_equal_torchvision(name):
    cfg = zoo.get_config(name, resolution=64, stem="resnet", num_classes=10)
    ref = getattr(torchvision.models, name)(num_classes=10)
    flops = measure_flops(cfg)
    assert flops == measure_flops(ref, 64)
    assert flops["flops"] == complexity(cfg).flops - cfg.num_classes


def test_resnet50_known_numbers():
    cfg = zoo.get_config("resnet50")
    assert count_params(meta_model(cfg)) == 25_557_032  # torchvision's documented count


# ------------------------------------------------------------------------------ random configs
def _cases():
    """(space name, get_space kwargs, n, params budget): every space and block, three inputs."""
    cases = []
    for name in space_names():
        cases.append((name, {}, 8, ":4M"))
        cases.append((name, dict(resolution=32, num_classes=10), 5, ":2M"))
    for block in ("X", "Y", "R", "V", "VR"):
        for name in ("anynetx_a", "regnetx"):
            cases.append((name, dict(block=block, resolution=28, in_channels=1, num_classes=10),
                          4, ":2M"))
            cases.append((name, dict(block=block, stem="resnet"), 3, ":5M"))
    return cases


CASES = _cases()


@pytest.mark.parametrize("space,kw,n,budget", CASES,
                         ids=[f"{c[0]}-{'-'.join(f'{k}={v}' for k, v in c[1].items())}"
                              for c in CASES])
def test_builder_params_equal_analytic_on_random_configs(space, kw, n, budget):
    configs = sample_configs(space, n, zlib.crc32(f"{space}{kw}".encode()), params=budget,
                             **kw)
    assert len(configs) == n
    for cfg in configs:
        assert count_params(meta_model(cfg)) == complexity(cfg).params, cfg.to_json()


def test_number_of_random_configs_is_hundreds():
    assert sum(c[2] for c in CASES) >= 200


def _flop_configs():
    out = []
    for i, (space, kw) in enumerate([
        ("regnety", dict(resolution=32, num_classes=10)),
        ("regnety_constrained", dict(resolution=64, num_classes=100)),
        ("regnetx", dict(resolution=64, num_classes=100)),
        ("anynetx_a", dict(resolution=28, in_channels=1, num_classes=10)),
        ("anynetx_b", dict(resolution=56, num_classes=10, block="Y")),
        ("anynetx_e", dict(resolution=64, stem="resnet", num_classes=10)),
        ("regnety", dict(resolution=64, stem="resnet", num_classes=10)),
        ("anynetx_c", dict(resolution=32, num_classes=10, block="VR")),
        ("anynetx_d", dict(resolution=32, num_classes=10, block="V")),
        ("regnetx", dict(resolution=32, num_classes=10, block="R")),
    ]):
        out += sample_configs(space, 3, 100 + i, params=":3M", pool=8, **kw)
    return out


def test_flop_counter_equals_analytic_minus_biases():
    configs = _flop_configs()
    assert len(configs) == 30
    assert {c.block for c in configs} == {"X", "Y", "R", "V", "VR"}
    assert {c.stem for c in configs} == {"imagenet", "resnet", "small"}
    for cfg in configs:
        got = measure_flops(cfg)
        assert got["other"] == 0
        assert got["flops"] == complexity(cfg).flops - analytic_bias_flops(cfg), cfg.to_json()


def test_measure_flops_real_model_equals_meta_and_restores_mode():
    cfg = sample_configs("regnety", 1, 3, params=":1M", resolution=32,
                         num_classes=10)[0]
    model = build_model(cfg).train()
    got = measure_flops(model)
    assert model.training
    assert got == measure_flops(cfg)
    assert measure_flops(model, resolution=64)["flops"] > got["flops"]


def test_measure_flops_rejects_other_inputs():
    with pytest.raises(ValueError, match="nn.Module or a NetConfig"):
        measure_flops("RegNetX-200MF")


# ------------------------------------------------------------------------------ forward
def _small(block, stem, resolution, in_channels=3):
    return NetConfig.from_lists([1, 2, 1], [16, 24, 32], ss=[1 if stem == "small" else 2, 2, 2],
                                bs=[1, 2, 1], gs=8, block=block, stem=stem, stem_w=8,
                                in_channels=in_channels, num_classes=7, resolution=resolution)


@pytest.mark.parametrize("block", ["X", "Y", "R", "V", "VR"])
@pytest.mark.parametrize("stem,res,c_in", [("imagenet", 64, 3), ("resnet", 64, 3), ("small", 28, 1)])
def test_forward_shape_and_finite(block, stem, res, c_in):
    cfg = _small(block, stem, res, c_in)
    torch.manual_seed(0)
    model = build_model(cfg)
    assert count_params(model) == complexity(cfg).params
    out = model(torch.randn(3, c_in, res, res))
    assert out.shape == (3, 7) and torch.isfinite(out).all()
    if stem == "small":  # gradients reach every parameter (one stem is enough)
        out.sum().backward()
        assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in model.parameters())
    model.eval()
    with torch.no_grad():
        assert model(torch.randn(1, c_in, res, res)).shape == (1, 7)


def test_block_structure_mirrors_reference():
    cfg = _small("Y", "imagenet", 64)
    m = build_model(cfg)
    b = m.s2.b1  # w_in 16 -> w 24, b = 2 -> w_b 12, g = 8 -> adjusted
    st = cfg.stages[1]
    assert (b.a.in_channels, b.a.out_channels) == (16, st.w_b)
    assert b.b.groups == st.w_b // st.g and b.b.stride == (2, 2)
    assert b.se.fc1.out_channels == round(0.25 * 16) and b.se.fc1.bias is not None
    assert b.proj is not None and m.s2.b2.proj is None
    se_convs = {id(c) for x in m.modules() if isinstance(x, SE) for c in (x.fc1, x.fc2)}
    convs = [c for c in m.modules() if isinstance(c, torch.nn.Conv2d)]
    assert all((c.bias is not None) == (id(c) in se_convs) for c in convs)
    bns = [x for x in m.modules() if isinstance(x, torch.nn.BatchNorm2d)]
    assert all(x.eps == 1e-5 and x.momentum == 0.1 for x in bns)
    assert isinstance(m.stem[0], torch.nn.Conv2d) and m.stem[0].stride == (2, 2)
    assert isinstance(build_model(_small("X", "resnet", 64)).stem[3], torch.nn.MaxPool2d)
    assert build_model(_small("X", "small", 28)).stem[0].stride == (1, 1)
    v = build_model(_small("V", "imagenet", 64)).s1.b1
    assert v.proj is None and not v.residual
    assert build_model(_small("VR", "imagenet", 64)).s1.b1.proj is not None


@torch.no_grad()
def test_init_follows_pycls_and_zero_init_last_bn():
    cfg = zoo.get_config("RegNetX-400MF", resolution=32, num_classes=10)
    torch.manual_seed(0)
    m = build_model(cfg)
    conv = m.s4.b2.b  # 3x3 group conv, many weights
    fan_out = 9 * conv.out_channels
    assert conv.weight.std().item() == pytest.approx(math.sqrt(2 / fan_out), rel=0.05)
    assert m.head.fc.weight.std().item() == pytest.approx(0.01, rel=0.05)
    assert float(m.head.fc.bias.detach().abs().sum()) == 0
    assert all(float(blk.c_bn.weight.detach().min()) == 1 for s in m.stages for blk in s)
    z = build_model(cfg, zero_init_last_bn=True)
    assert all(float(blk.c_bn.weight.detach().abs().max()) == 0 for s in z.stages for blk in s)
    assert float(z.s1.b1.a_bn.weight.min()) == 1
    vr = build_model(_small("VR", "imagenet", 64), zero_init_last_bn=True)
    assert float(vr.s1.b1.a_bn.weight.abs().max()) == 0
    v = build_model(_small("V", "imagenet", 64), zero_init_last_bn=True)
    assert float(v.s1.b1.a_bn.weight.min()) == 1  # no residual: never zeroed


def test_build_model_rejects_non_config():
    with pytest.raises(ValueError, match="NetConfig"):
        build_model({"stages": []})


# ------------------------------------------------------------------------------ to_timm
def _random_timm_configs():
    out = []
    for i, space in enumerate(("regnetx", "regnety", "anynetx_c")):
        out += sample_configs(space, 7, 7 + i, params=":8M", pool=3)
    return out


def test_to_timm_random_configs_equal_params_and_widths():
    configs = _random_timm_configs()
    assert len(configs) == 21 and {c.block for c in configs} == {"X", "Y"}
    assert any(len(set(c.bs)) > 1 or c.bs[0] != 1 for c in configs)  # b != 1 exercised
    for cfg in configs:
        m = to_timm(cfg, device="meta")
        assert count_params(m) == complexity(cfg).params, cfg.to_json()
        assert timm_stage_widths(m) == cfg.widths
        assert [len(list(getattr(m, f"s{i}").children())) for i in range(1, 5)] == list(cfg.depths)
        assert shapes(m) == shapes(meta_model(cfg))


def _copy_into(dst, src):
    """Copy src's state dict into dst by position (same layer order, same shapes)."""
    dst_sd = dst.state_dict()
    assert [tuple(v.shape) for v in dst_sd.values()] == shapes(src)
    dst.load_state_dict(dict(zip(dst_sd, src.state_dict().values())))


@pytest.mark.parametrize("block,stem,res", [("Y", "imagenet", 64), ("X", "small", 32)])
def test_to_timm_forward_equals_builder(block, stem, res):
    cfg = NetConfig.from_lists([1, 2, 2, 1], [16, 32, 48, 64], bs=[1, 2, 1, 0.5], gs=8,
                               block=block, stem=stem, stem_w=16, num_classes=5,
                               resolution=res)
    torch.manual_seed(0)
    ours = build_model(cfg)
    for p in ours.modules():  # non-trivial BN statistics so the comparison means something
        if isinstance(p, torch.nn.BatchNorm2d):
            p.running_mean.uniform_(-0.1, 0.1)
            p.running_var.uniform_(0.5, 1.5)
            p.weight.data.uniform_(0.5, 1.5)
    theirs = to_timm(cfg)
    _copy_into(theirs, ours)
    ours.eval(), theirs.eval()
    x = torch.randn(2, 3, res, res)
    with torch.no_grad():
        a, b = ours(x), theirs(x)
    assert a.shape == (2, 5)
    torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5)
    assert measure_flops(theirs, res) == measure_flops(cfg)
    if stem == "small":
        assert theirs.stem.conv.stride == (1, 1)
        assert [f["reduction"] for f in theirs.feature_info] == [1, 2, 4, 8, 16]


@torch.no_grad()
def test_to_timm_passes_kwargs_through():
    cfg = zoo.get_config("RegNetY-200MF", resolution=32, num_classes=10)
    default = to_timm(cfg)
    assert float(default.s1.b1.conv3.bn.weight.abs().max()) == 0  # timm's zero_init_last=True
    pycls_init = to_timm(cfg, zero_init_last=False, drop_rate=0.1)
    assert float(pycls_init.s1.b1.conv3.bn.weight.min()) == 1
    assert pycls_init.drop_rate == 0.1
    out = pycls_init(torch.randn(2, 3, 32, 32))
    assert out.shape == (2, 10) and torch.isfinite(out).all()
    assert isinstance(default, timm.models.regnet.RegNet)
    assert isinstance(pickle.loads(pickle.dumps(default)), timm.models.regnet.RegNet)
    dilated = to_timm(zoo.get_config("RegNetX-200MF"), output_stride=16, device="meta")
    assert dilated.s4.b1.conv2.conv.stride == (1, 1)
    assert count_params(dilated) == complexity(zoo.get_config("RegNetX-200MF")).params


@pytest.mark.parametrize("cfg,match", [
    (NetConfig.from_lists([1, 1, 1, 1], [8, 16, 24, 32], block="R"), "block is 'R'"),
    (NetConfig.from_lists([1, 1, 1, 1], [8, 16, 24, 32], block="V"), "block is 'V'"),
    (NetConfig.from_lists([1, 1, 1, 1], [8, 16, 24, 32], block="VR"), "block is 'VR'"),
    (zoo.get_config("resnext50_32x4d"), "stem is 'resnet'"),
    (NetConfig.from_lists([1, 1, 1], [8, 16, 24], gs=8), "3 stages"),
    (NetConfig.from_lists([1, 1, 1, 1, 1], [8, 16, 24, 32, 40], gs=8), "5 stages"),
    (NetConfig.from_lists([1, 1, 1, 1], [8, 16, 24, 32], ss=[1, 2, 2, 2], gs=8), "strides"),
])
def test_to_timm_rejects_what_timm_cannot_express(cfg, match):
    with pytest.raises(ValueError, match=match) as e:
        to_timm(cfg)
    assert "Allowed: X or Y blocks, exactly 4 stages" in str(e.value)


def test_to_timm_rejects_reserved_kwargs_and_non_configs():
    cfg = zoo.get_config("RegNetX-200MF")
    with pytest.raises(ValueError, match="with_input"):
        to_timm(cfg, num_classes=10)
    with pytest.raises(ValueError, match="NetConfig"):
        to_timm("RegNetX-200MF")


def test_to_timm_sidesteps_float32_width_generation():
    """timm's own float32 generation disagrees with pycls's float64 on .5 ties; to_timm does not.

    (d, w0, wa, wm) = (14, 200, 133.6, 2.18): 200 * 2.18 / 8 = 54.5 exactly in decimal; float64
    rounds it to 55 (width 440), timm's float32 to 54 (432). Found by scanning 200k pycls-style
    draws, 25 of which (0.0125%) disagree with timm's generate_regnet.
    """
    from timm.models.regnet import RegNet, RegNetCfg
    from timm.models.regnet import generate_regnet as timm_generate

    ours = generate_regnet(14, 200, 133.6, 2.18)
    assert ours.ws == (200, 440, 952, 2072)
    assert sorted(set(timm_generate(133.6, 200, 2.18, 14, 8)[0])) == [200, 432, 952, 2072]
    cfg = NetConfig.from_lists(ours.ds, ours.ws, gs=8)
    assert timm_stage_widths(to_timm(cfg, device="meta")) == cfg.widths == (200, 440, 952, 2072)
    plain = RegNet(RegNetCfg(depth=14, w0=200, wa=133.6, wm=2.18, group_size=8), device="meta")
    assert timm_stage_widths(plain) == (200, 432, 952, 2072)
