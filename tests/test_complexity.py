"""Exact complexity: pycls check values; the vectorised form equals the layer-by-layer walk."""

import pytest

from regnet_space.complexity import Complexity, complexity, complexity_of
from regnet_space.config import NetConfig
from regnet_space.spaces import get_space, space_names
from regnet_space.zoo import get_config


@pytest.mark.parametrize("name, flops, params, acts", [
    ("RegNetX-200MF", 199_040_872, 2_684_792, 2_164_056),
    ("RegNetY-800MF", 797_183_328, 6_263_168, 5_249_888),
])
def test_reference_check_values(name, flops, params, acts):
    cfg = get_config(name)
    assert complexity(cfg) == Complexity(flops, params, acts)
    f, p, a = complexity_of([cfg])
    assert (f[0], p[0], a[0]) == (flops, params, acts)


def test_hand_counted_tiny_net():
    # small stem 1 -> 8 at 4x4, one X block 8 -> 16 (w_b 16, g 8: 2 groups, stride 2), fc 16 -> 3
    cfg = NetConfig.from_lists([1], [16], gs=8, stem="small", stem_w=8, resolution=4,
                               in_channels=1, num_classes=3)
    stem = Complexity(9 * 1 * 8 * 16, 9 * 8 + 16, 8 * 16)
    a = Complexity(8 * 16 * 16, 8 * 16 + 32, 16 * 16)            # 1x1 at 4x4
    b = Complexity(9 * 16 * 16 * 4 // 2, 9 * 16 * 16 // 2 + 32, 16 * 4)  # 3x3 /2 -> 2x2
    c = Complexity(16 * 16 * 4, 16 * 16 + 32, 16 * 4)
    proj = Complexity(8 * 16 * 4, 8 * 16 + 32, 16 * 4)
    head = Complexity(16 * 3 + 3, 16 * 3 + 3, 3)
    assert complexity(cfg) == stem + a + b + c + proj + head


@pytest.mark.parametrize("name", space_names())
@pytest.mark.parametrize("res, block", [(224, None), (32, "Y"), (28, "R"), (64, "V"), (40, "VR")])
def test_vectorised_equals_layer_walk(name, res, block):
    space = get_space(name, resolution=res, block=block, in_channels=1 if res == 28 else 3,
                      num_classes=10 if res < 224 else 1000)
    batch = space.sample_arrays(40, seed=7)
    for i in range(len(batch)):
        cfg = space.decode(batch.row(i))
        assert complexity(cfg) == Complexity(int(batch.flops[i]), int(batch.params[i]),
                                             int(batch.acts[i])), cfg


def test_resnet_stem_and_mixed_stage_counts():
    cfgs = [get_config("resnet50"), get_config("resnext50_32x4d")]
    f, p, a = complexity_of(cfgs)
    assert [complexity(c) for c in cfgs] == [Complexity(int(x), int(y), int(z)) for x, y, z in zip(f, p, a)]
    three = NetConfig.from_lists([1, 2, 3], [16, 32, 64], gs=8)
    two = NetConfig.from_lists([2, 1], [16, 48], gs=16)
    f, p, a = complexity_of([three, two])   # rows with different stage counts share one array
    assert (int(f[1]), int(p[1]), int(a[1])) == tuple(complexity(two).as_dict().values())
    mixed = [three, three.with_input(32), get_config("RegNetY-200MF"), two]
    f, p, a = complexity_of(mixed)   # grouped internally by block, stem and input
    assert [complexity(c) for c in mixed] == [Complexity(int(x), int(y), int(z)) for x, y, z in zip(f, p, a)]
