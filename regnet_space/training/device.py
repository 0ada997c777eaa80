"""A data set on the training device, and the batch pipeline that runs there.

The training loop never touches a per-sample Python object: :class:`DeviceData` holds every
split as one device tensor, :func:`batch_indices` shuffles an epoch into a (steps, batch) index
tensor, and :func:`augment` turns a batch of indices into a normalised float batch with a pad-4
random crop (zero padding, as torchvision's ``RandomCrop(padding=4)``) and a random horizontal
flip, both vectorised over the batch.

Example:
    >>> import torch
    >>> from regnet_space.training.data import from_tensors
    >>> x = torch.randint(0, 256, (8, 1, 6, 6), dtype=torch.uint8)
    >>> dev = from_tensors(x, torch.arange(8) % 2, x[:2], torch.arange(2)).on("cpu")
    >>> g = torch.Generator().manual_seed(0)
    >>> steps = batch_indices(8, 4, g, torch.device("cpu"))
    >>> steps.shape, augment(dev, steps[0], g).shape
    (torch.Size([2, 4]), torch.Size([4, 1, 6, 6]))
"""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class DeviceData:
    """A :class:`~regnet_space.training.data.Data` on one device: what the training loop indexes
    (made by :meth:`Data.on <regnet_space.training.data.Data.on>`; see the module example).

    ``train_x`` is already zero-padded by ``pad`` pixels on each side (uint8), so a random crop is
    one gather; ``eval_splits`` maps ``val`` / ``test`` to ``(x, y)`` device tensors;
    ``mean``/``std`` are float32 tensors of shape (1, C, 1, 1) in 0..255 units.
    """

    device: torch.device
    train_x: torch.Tensor
    train_y: torch.Tensor
    eval_splits: dict
    mean: torch.Tensor
    std: torch.Tensor
    pad: int
    flip: bool
    resolution: int


def batch_indices(n: int, batch_size: int, generator: torch.Generator,
                  device: torch.device) -> torch.Tensor:
    """One epoch of shuffled indices as a (steps, batch) tensor.

    The last partial batch is dropped (pycls's loader does the same), except that a split smaller
    than a batch is one batch.

    Example:
        >>> batch_indices(10, 4, torch.Generator().manual_seed(0), torch.device("cpu")).shape
        torch.Size([2, 4])
    """
    perm = torch.randperm(n, generator=generator, device=device)
    b = min(batch_size, n)
    steps = n // b
    return perm[: steps * b].view(steps, b)


def augment(dev: DeviceData, idx: torch.Tensor, generator: torch.Generator | None,
            *, train: bool = True) -> torch.Tensor:
    """A normalised float32 batch of training images ``idx`` with random crop and flip.

    One gather does batch selection and the crop (offsets drawn per image in [0, 2 * pad]), one
    ``where`` the flip. The result is channels-last in memory (a permuted gather), which is what
    the convolutions want. ``train=False`` gives the images themselves, normalised. See the module
    example.
    """
    x = dev.train_x
    r, p = dev.resolution, dev.pad
    b = len(idx)
    if train and p:
        off = torch.randint(0, 2 * p + 1, (2, b), generator=generator, device=x.device)
        ar = torch.arange(r, device=x.device)
        rows = (off[0, :, None] + ar)[:, :, None]  # b, r, 1
        cols = (off[1, :, None] + ar)[:, None, :]  # b, 1, r
        out = x[idx[:, None, None], :, rows, cols]  # b, r, r, C
    else:
        out = x[idx][:, :, p:p + r, p:p + r].permute(0, 2, 3, 1) if p else x[idx].permute(0, 2, 3, 1)
    out = out.permute(0, 3, 1, 2)  # N C H W view with channels-last strides
    if train and dev.flip:
        mask = torch.rand(b, generator=generator, device=x.device) < 0.5
        out = torch.where(mask[:, None, None, None], out.flip(3), out)
    return normalize(out, dev)


def normalize(x: torch.Tensor, dev: DeviceData) -> torch.Tensor:
    """uint8 0..255 -> float32 standardised with the training subset's per-channel mean and std.

    Example:
        >>> from regnet_space.training.data import from_tensors
        >>> x = torch.full((2, 1, 4, 4), 100, dtype=torch.uint8)
        >>> x[1] = 200
        >>> dev = from_tensors(x, torch.tensor([0, 1]), x, torch.tensor([0, 1])).on("cpu")
        >>> normalize(x, dev)[:, 0, 0, 0].tolist()
        [-1.0, 1.0]
    """
    return (x.float() - dev.mean) / dev.std


def as_format(x: torch.Tensor, channels_last: bool) -> torch.Tensor:
    """``x`` (N x C x H x W) in the memory format that the convolutions will then use.

    ``Tensor.contiguous(memory_format=...)`` alone is not enough for one-channel images: with
    C = 1 both layouts hold the same bytes, both contiguity checks pass, and PyTorch picks the
    convolution layout from the strides it happens to see (an augmented batch comes out of
    :func:`augment` with channels-last strides, a held-out batch with contiguous ones). Here the
    strides are rewritten to the canonical ones of the requested format, so ``channels_last``
    means the same for Fashion-MNIST as for RGB data.

    Example:
        >>> x = torch.zeros(2, 1, 4, 4).permute(0, 1, 3, 2)  # any layout of one-channel images
        >>> as_format(x, False).stride(), as_format(x, True).stride()
        ((16, 16, 4, 1), (16, 1, 4, 1))
    """
    if x.dim() != 4:
        return x
    n, c, h, w = x.shape
    if channels_last:
        x = x.contiguous(memory_format=torch.channels_last)
        canon = (h * w * c, 1, w * c, c)
    else:
        x = x.contiguous()
        canon = (c * h * w, h * w, w, 1)
    # for C = 1 both layouts are dense with identical bytes, so only the strides change
    return x if x.stride() == canon or n == 0 else x.as_strided(x.shape, canon)


__all__ = ["DeviceData", "as_format", "augment", "batch_indices", "normalize"]
