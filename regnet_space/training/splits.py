"""One split of a data set as tensors, and the seeded class-balanced subsets carved from it.

A :class:`Split` is images ``x`` (``uint8``, N x C x H x W, raw 0..255) and labels ``y``
(``int64``, N). :func:`make_splits` picks explicit, seeded subsets: the validation split is carved
from the training split first (disjoint from the training subset), then the training and test
subsets; every subset is class-balanced (class counts differ by at most one while the classes
last).

Example:
    >>> import torch
    >>> s = Split(torch.zeros(20, 1, 4, 4, dtype=torch.uint8), torch.arange(20) % 4)
    >>> tr, val, te = make_splits(s, s, train_size=8, val_size=4, test_size=4, seed=0)
    >>> len(tr), len(val), len(te), torch.bincount(tr.y).tolist()
    (8, 4, 4, [2, 2, 2, 2])
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from ..errors import ConfigError


@dataclass(frozen=True)
class Split:
    """One split: images ``x`` (uint8, N x C x H x W, raw 0..255) and labels ``y`` (int64, N).

    Example:
        >>> s = Split(torch.zeros(3, 1, 2, 2, dtype=torch.uint8), torch.tensor([0, 1, 0]))
        >>> len(s), len(s.take(torch.tensor([0, 2])))
        (3, 2)
    """

    x: torch.Tensor
    y: torch.Tensor

    def __post_init__(self) -> None:
        if self.x.dim() != 4 or self.x.dtype != torch.uint8:
            raise ConfigError(f"images must be a uint8 N x C x H x W tensor, got {self.x.dtype} "
                              f"{tuple(self.x.shape)}")
        if self.y.dim() != 1 or len(self.y) != len(self.x):
            raise ConfigError(f"labels must be a vector of {len(self.x)} entries, got "
                              f"{tuple(self.y.shape)}")

    def __len__(self) -> int:
        return len(self.y)

    def take(self, idx: torch.Tensor) -> "Split":
        """The images and labels at ``idx`` (copied, contiguous)."""
        return Split(self.x[idx].contiguous(), self.y[idx].contiguous())


def check_size(name: str, v: Any) -> int | None:
    """``v`` as a non-negative int (None passes through); a ConfigError naming ``name`` otherwise.

    Example:
        >>> check_size("train_size", 100), check_size("val_size", None)
        (100, None)
        >>> check_size("test_size", -1)
        Traceback (most recent call last):
        ...
        regnet_space.errors.ConfigError: test_size must be a non-negative integer or None, got -1
    """
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or int(v) < 0:
        raise ConfigError(f"{name} must be a non-negative integer or None, got {v!r}")
    return int(v)


def balanced_subset(y: torch.Tensor, n: int | None, generator: torch.Generator,
                    exclude: torch.Tensor | None = None) -> torch.Tensor:
    """Indices of a seeded, class-balanced subset of ``n`` labels (all when n is None).

    The classes are interleaved round-robin in a random order, so the first n indices hold
    floor(n / k) or one more of each class while the classes last; the result is sorted.

    Example:
        >>> y = torch.arange(100) % 10
        >>> idx = balanced_subset(y, 25, torch.Generator().manual_seed(0))
        >>> counts = torch.bincount(y[idx])
        >>> len(idx), counts.min().item(), counts.max().item()
        (25, 2, 3)
    """
    pool = torch.arange(len(y))
    if exclude is not None and len(exclude):
        keep = torch.ones(len(y), dtype=torch.bool)
        keep[exclude] = False
        pool = pool[keep]
    if n is None or n >= len(pool):
        if n is not None and n > len(pool):
            raise ConfigError(f"asked for {n} images but only {len(pool)} are available")
        return pool
    perm = pool[torch.randperm(len(pool), generator=generator)]
    lab = y[perm]
    order = torch.argsort(lab, stable=True)
    sorted_lab = lab[order]
    starts = torch.searchsorted(sorted_lab, sorted_lab, side="left")
    rank = torch.empty_like(order)
    rank[order] = torch.arange(len(order)) - starts  # rank of each draw within its class
    key = rank * len(perm) + torch.arange(len(perm))
    chosen = perm[torch.argsort(key)[:n]]
    return torch.sort(chosen).values


def make_splits(train: Split, test: Split, *, train_size=None, val_size=None, test_size=None,
                seed: int = 0) -> tuple[Split, Split | None, Split]:
    """Seeded class-balanced subsets ``(train, val or None, test)``: val is carved from train
    first, then train from the rest (see the module example)."""
    train_size = check_size("train_size", train_size)
    val_size = check_size("val_size", val_size)
    test_size = check_size("test_size", test_size)
    if train_size == 0:
        raise ConfigError("train_size must be >= 1")
    if test_size == 0:
        raise ConfigError("test_size must be >= 1")
    g = torch.Generator().manual_seed(int(seed))
    val = None
    val_idx = torch.zeros(0, dtype=torch.long)
    if val_size:
        if val_size >= len(train):
            raise ConfigError(f"val_size={val_size} leaves no training images (train has "
                              f"{len(train)})")
        val_idx = balanced_subset(train.y, val_size, g)
        val = train.take(val_idx)
    tr = train.take(balanced_subset(train.y, train_size, g, exclude=val_idx))
    te = test.take(balanced_subset(test.y, test_size, g)) if test_size is not None else test
    return tr, val, te


__all__ = ["Split", "balanced_subset", "check_size", "make_splits"]
