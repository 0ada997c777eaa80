"""``channels_last`` decides the activations' memory format, also for one-channel images.

With C = 1 both layouts hold the same bytes and pass both contiguity checks, so before
:func:`~regnet_space.training.device.as_format` the flag did nothing on Fashion-MNIST: PyTorch
picked the layout from whatever strides a batch happened to have.
"""

from __future__ import annotations

import pytest
import torch

from regnet_space.config import NetConfig
from regnet_space.training import evaluate, load_data
from regnet_space.training.device import as_format


def _recorder(records: list):
    from regnet_space.nn import build_model

    def build(cfg):
        m = build_model(cfg)
        for stage in list(m.children())[1:-1]:
            stage.register_forward_hook(lambda mod, i, o: records.append(
                (mod.training, o.is_contiguous(memory_format=torch.channels_last)
                 and not o.is_contiguous())))
        return m
    return build


@pytest.mark.parametrize("in_channels", [1, 3])
@pytest.mark.parametrize("channels_last", [True, False])
def test_flag_sets_the_format_of_training_and_held_out_activations(channels_last, in_channels):
    cfg = NetConfig.from_lists([1, 1], [16, 32], gs=8, stem="small", stem_w=16, resolution=16,
                               in_channels=in_channels, num_classes=4)
    data = load_data("synthetic", train_size=64, test_size=32, resolution=16,
                     in_channels=in_channels, num_classes=4)
    rec: list = []
    r = evaluate(cfg, data, epochs=1, device="cpu", threads=1, channels_last=channels_last,
                 builder=_recorder(rec), progress=False)
    assert r.status == "ok"
    assert {training for training, _ in rec} == {True, False}  # training and held-out passes
    assert {cl for _, cl in rec} == {channels_last}


def test_as_format_keeps_values_and_gives_canonical_strides():
    x = torch.arange(2 * 1 * 3 * 5, dtype=torch.float32).view(2, 1, 3, 5)
    nhwc_view = x.permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2)  # as augment makes it
    for src in (x, nhwc_view):
        a, b = as_format(src, False), as_format(src, True)
        assert torch.equal(a, x) and torch.equal(b, x)
        assert a.stride() == (15, 15, 5, 1) and b.stride() == (15, 1, 5, 1)
    rgb = torch.randn(2, 3, 4, 4)
    assert as_format(rgb, True).is_contiguous(memory_format=torch.channels_last)
    assert torch.equal(as_format(rgb, True), rgb)
