"""Data sets as tensors, with seeded explicit splits and on-device augmentation.

The evaluator trains small networks briefly, so a whole data set fits in memory: every split is
one ``uint8`` tensor ``(N, C, H, W)`` plus ``int64`` labels, loaded once, moved to the training
device once (:meth:`Data.on`) and augmented there, a batch at a time, with no per-sample Python.

This module is the entry point (:func:`load_data`, :class:`Data`); the pieces live in
:mod:`.datasets` (the registry of data sets and their readers: where each is looked for, how to
get it), :mod:`.splits` (:class:`Split`, seeded class-balanced subsets) and :mod:`.device`
(:class:`DeviceData`, :func:`augment`). Their public names are importable from here too.

Sources (:func:`load_data` names, see :mod:`.datasets` for where each is looked for):

* ``fashion-mnist``: the four standard IDX files (``train-images-idx3-ubyte[.gz]``...), as Debian's
  ``dataset-fashion-mnist`` package installs them in ``/usr/share/datasets/fashion-mnist``.
  ``mnist`` reads the same format.
* ``cifar10``: the standard python batches folder (``data_batch_1..5``, ``test_batch``; the
  ``cifar-10-batches-py`` folder of ``cifar-10-python.tar.gz``), only from a folder named
  explicitly: the batches are pickles, and loading a pickle runs whatever code it contains.
* ``imagefolder``: any ``root/<class>/<image>`` tree (ImageNet style), or one with ``train/`` and
  ``val/`` (or ``test/``) sub-trees. Images are resized (shorter side) and centre-cropped to
  ``resolution`` (default 224) once, at load time. A directory given as the name is recognised
  (IDX files, CIFAR batches, else an image tree).
* ``synthetic``: class templates plus noise, generated from the seed (mechanics tests, demos).

Splits and subsets are explicit and seeded: ``train_size``, ``val_size`` (carved from the training
split, disjoint from the training subset) and ``test_size`` pick class-balanced subsets (class
counts differ by at most one when the classes are large enough). Normalisation uses the per-channel
mean and std of the training subset.

Augmentation (:func:`augment`): pad-4 random crop and a random horizontal flip. The flip is on
where it preserves labels (each registry entry says): Fashion-MNIST's garments and CIFAR-10's
objects are left-right symmetric classes (pycls's CIFAR recipe uses the same pair); digits and the
synthetic set's random templates are not.

Example:
    >>> data = load_data("synthetic", train_size=64, test_size=32, seed=0)
    >>> data.train.x.shape, data.train.x.dtype, data.num_classes
    (torch.Size([64, 1, 28, 28]), torch.uint8, 10)
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F

from ..errors import ConfigError, DataError, DataNotFoundError
from .datasets import (CIFAR10_CLASSES, DATASETS, DEBIAN_FASHION_MNIST, DEBIAN_MNIST, ENV_DATA,
                       FASHION_MNIST_CLASSES, IDX_FILES, IMAGE_EXTENSIONS, Dataset, Loaded,
                       Request, check_split_bytes, get_dataset, read_idx, resolve, synthetic)
from .device import DeviceData, augment, batch_indices, normalize
from .splits import Split, balanced_subset, check_size, make_splits


def dataset_names() -> list[str]:
    """The canonical data set names, in registry order.

    Example:
        >>> dataset_names()
        ['fashion-mnist', 'mnist', 'cifar10', 'imagefolder', 'synthetic']
    """
    return list(DATASETS)


def canonical_name(name: str) -> str:
    """The canonical data set name of ``name`` or an alias; a ConfigError listing the known ones.

    Example:
        >>> canonical_name("CIFAR-10")
        'cifar10'
    """
    return get_dataset(name).name


# ----------------------------------------------------------------------------------- containers
@dataclass
class Data:
    """A data set in memory: train / optional validation / test splits and how to augment them.

    ``mean`` and ``std`` are per-channel statistics of the training subset in 0..1 units.

    Example:
        >>> d = load_data("synthetic", train_size=40, val_size=10, test_size=20)
        >>> d, d.eval_split
        (Data('synthetic', 1x28x28, 10 classes, train=40, val=10, test=20), 'val')
    """

    name: str
    train: Split
    test: Split
    num_classes: int
    val: Split | None = None
    classes: tuple[str, ...] = ()
    mean: tuple[float, ...] = ()
    std: tuple[float, ...] = ()
    flip: bool = True
    crop_pad: int = 4
    source: str = ""
    seed: int = 0
    _cache: dict = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        shapes = {tuple(s.x.shape[1:]) for s in self.splits().values()}
        if len(shapes) != 1:
            raise ConfigError(f"all splits must share image shape, got {sorted(shapes)}")
        c, h, w = shapes.pop()
        if h != w:
            raise ConfigError(f"images must be square, got {h}x{w}")
        if not self.mean:
            self.mean, self.std = channel_stats(self.train.x)

    @property
    def in_channels(self) -> int:
        return int(self.train.x.shape[1])

    @property
    def resolution(self) -> int:
        return int(self.train.x.shape[2])

    @property
    def eval_split(self) -> str:
        """The held-out split candidates are ranked by: ``val`` when there is one, else ``test``."""
        return "val" if self.val is not None and len(self.val) else "test"

    def splits(self) -> dict[str, Split]:
        out = {"train": self.train}
        if self.val is not None:
            out["val"] = self.val
        out["test"] = self.test
        return out

    def describe(self) -> dict:
        """A JSON-able summary (stored with every EvalResult)."""
        return {"name": self.name, "resolution": self.resolution, "in_channels": self.in_channels,
                "num_classes": self.num_classes,
                **{f"{k}_size": len(v) for k, v in self.splits().items()},
                "eval_split": self.eval_split, "flip": self.flip, "crop_pad": self.crop_pad,
                "seed": self.seed, "source": self.source}

    def __repr__(self) -> str:
        sizes = ", ".join(f"{k}={len(v)}" for k, v in self.splits().items())
        return (f"Data({self.name!r}, {self.in_channels}x{self.resolution}x{self.resolution}, "
                f"{self.num_classes} classes, {sizes})")

    def on(self, device: torch.device | str) -> DeviceData:
        """The splits on ``device`` (cached: a sweep moves the data set once)."""
        device = torch.device(device)
        key = str(device)
        if key not in self._cache:
            p = self.crop_pad
            x = self.train.x.to(device)
            if p:
                x = F.pad(x, (p, p, p, p))  # zero padding of raw pixels, like RandomCrop(padding=p)
            evals = {k: (v.x.to(device), v.y.to(device))
                     for k, v in self.splits().items() if k != "train"}
            shape = (1, self.in_channels, 1, 1)
            mean = torch.tensor(self.mean, dtype=torch.float32, device=device).view(shape) * 255
            std = torch.tensor(self.std, dtype=torch.float32, device=device).view(shape) * 255
            self._cache[key] = DeviceData(device, x.contiguous(), self.train.y.to(device), evals,
                                          mean, std, p, self.flip, self.resolution)
        return self._cache[key]


def channel_stats(x: torch.Tensor) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Per-channel mean and std (0..1 units, float64 accumulation) of uint8 images N x C x H x W.

    Example:
        >>> x = torch.tensor([0, 255], dtype=torch.uint8).view(2, 1, 1, 1)
        >>> channel_stats(x)
        ((0.5,), (0.5,))
    """
    c = x.shape[1]
    flat = x.transpose(0, 1).reshape(c, -1)
    s = torch.zeros(c, dtype=torch.float64)
    s2 = torch.zeros(c, dtype=torch.float64)
    for chunk in torch.split(flat, 1 << 24, dim=1):
        v = chunk.to(torch.float64)
        s += v.sum(1)
        s2 += (v * v).sum(1)
    n = max(flat.shape[1], 1)
    mean = s / n
    std = (s2 / n - mean * mean).clamp_min(0).sqrt()
    std = torch.where(std > 0, std, torch.ones_like(std) * 255)
    return tuple(float(m) / 255 for m in mean), tuple(float(v) / 255 for v in std)


def resize_split(s: Split, resolution: int) -> Split:
    """Resize images to ``resolution`` (bilinear, antialiased when shrinking), in chunks.

    Example:
        >>> s = Split(torch.zeros(2, 1, 8, 8, dtype=torch.uint8), torch.tensor([0, 1]))
        >>> resize_split(s, 4).x.shape
        torch.Size([2, 1, 4, 4])
    """
    if s.x.shape[-1] == resolution:
        return s
    out = []
    for chunk in torch.split(s.x, 4096):
        r = F.interpolate(chunk.float(), size=(resolution, resolution), mode="bilinear",
                          align_corners=False, antialias=resolution < chunk.shape[-1])
        out.append(r.round().clamp(0, 255).to(torch.uint8))
    return Split(torch.cat(out), s.y)


# ----------------------------------------------------------------------------------- entry point
def load_data(name: str = "fashion-mnist", *, data_dir: str | os.PathLike | None = None,
              train_size: int | None = None, val_size: int | None = None,
              test_size: int | None = None, seed: int = 0, resolution: int | None = None,
              flip: bool | None = None, crop_pad: int = 4, in_channels: int | None = None,
              num_classes: int | None = None) -> Data:
    """Load a data set by name (or a directory) with seeded, class-balanced subsets.

    Args:
        name: ``fashion-mnist``, ``mnist``, ``cifar10``, ``imagefolder``, ``synthetic`` (aliases
            accepted), or a directory holding one of these formats.
        data_dir: the folder holding the set; when given it is the only place looked (see
            :mod:`.datasets` for the search order otherwise). ``cifar10`` (pickles: loading them
            runs the code they contain) and ``imagefolder`` need a folder named here, by ``name``
            or by the set's environment variable.
        train_size, val_size, test_size: subset sizes (None = all; val defaults to none). The
            validation split is carved out of the training split; when present, the evaluator
            ranks by it and reports the test error separately.
        seed: the data seed (subset choice, synthetic images). Separate from the training seed,
            so that several training seeds see the same subsets.
        resolution: resize to this size (default: the set's own; 224 for an image folder).
        flip, crop_pad: augmentation (default: the registry's flip for the set; pad 4).
        in_channels, num_classes: shape of the synthetic set (1 and 10 by default).

    Raises:
        DataNotFoundError: the set is not on this machine (the message says where we looked), or
            a named folder does not exist.
        DataError: a file of the set cannot be read (damaged, truncated, wrong layout).
        ConfigError: an unknown name or bad sizes.

    Example:
        >>> load_data("synthetic", train_size=20, test_size=10, resolution=8, num_classes=2)
        Data('synthetic', 1x8x8, 2 classes, train=20, test=10)
    """
    if resolution is not None:
        resolution = check_size("resolution", resolution)
        if not resolution:
            raise ConfigError("resolution must be >= 1")
    if isinstance(crop_pad, bool) or not isinstance(crop_pad, int) or crop_pad < 0:
        raise ConfigError(f"crop_pad must be a non-negative integer, got {crop_pad!r}")
    sizes = {k: check_size(k, v) for k, v in
             (("train_size", train_size), ("val_size", val_size), ("test_size", test_size))}
    ds, folder, label = resolve(name, data_dir)
    if ds.needs_folder and (in_channels is not None or num_classes is not None):
        raise ConfigError("in_channels and num_classes are only settable for the synthetic set")
    loaded = ds.read(Request(folder, resolution=resolution, seed=int(seed), **sizes,
                             in_channels=in_channels, num_classes=num_classes))
    train, test = loaded.train, loaded.test
    for part, s in (("training", train), ("test", test)):
        if not len(s):
            raise DataError(f"{loaded.source}: the {part} split holds no images")
    classes = loaded.classes or ds.classes
    n_classes = int(max(train.y.max(), test.y.max())) + 1
    if int(min(train.y.min(), test.y.min())) < 0:
        raise DataError(f"{loaded.source}: labels must be >= 0")
    if classes and len(classes) >= n_classes:
        n_classes = len(classes)
    tr, val, te = make_splits(train, test, seed=seed, **sizes)
    if resolution is not None:  # after subsetting: the subsets depend on labels only
        parts = {"train": tr, "val": val, "test": te}
        for k, s in parts.items():
            if s is not None and s.x.shape[-1] != resolution:
                check_split_bytes(f"the {k} split", len(s), s.x.shape[1], resolution)
        tr, te = resize_split(tr, resolution), resize_split(te, resolution)
        val = None if val is None else resize_split(val, resolution)
    return Data(label, tr, te, n_classes, val=val, classes=tuple(classes),
                flip=ds.flip if flip is None else bool(flip), crop_pad=crop_pad,
                source=loaded.source, seed=int(seed))


def from_tensors(x_train, y_train, x_test, y_test, *, name: str = "tensors", num_classes=None,
                 flip: bool = True, crop_pad: int = 4) -> Data:
    """A :class:`Data` from in-memory uint8 image tensors (N x C x H x W) and integer labels.

    Example:
        >>> x = torch.zeros(4, 1, 8, 8, dtype=torch.uint8)
        >>> from_tensors(x, torch.arange(4), x[:2], torch.arange(2))
        Data('tensors', 1x8x8, 4 classes, train=4, test=2)
    """
    tr = Split(torch.as_tensor(x_train), torch.as_tensor(y_train, dtype=torch.int64))
    te = Split(torch.as_tensor(x_test), torch.as_tensor(y_test, dtype=torch.int64))
    if num_classes is not None and (isinstance(num_classes, bool) or
                                    not isinstance(num_classes, int) or num_classes < 1):
        raise ConfigError(f"num_classes must be an integer >= 1 or None, got {num_classes!r}")
    k = num_classes or int(max(tr.y.max(), te.y.max())) + 1
    for what, y in (("y_train", tr.y), ("y_test", te.y)):
        bad = (y < 0) | (y >= k)
        if bool(bad.any()):  # cross-entropy would fail mid-training, or train on a wrong class
            raise ConfigError(f"{what} holds label(s) outside 0..{k - 1} (num_classes {k}), e.g. "
                              f"{int(y[bad][0])}")
    return Data(name, tr, te, k, flip=flip, crop_pad=crop_pad)


__all__ = ["CIFAR10_CLASSES", "DATASETS", "DEBIAN_FASHION_MNIST", "DEBIAN_MNIST", "ENV_DATA",
           "FASHION_MNIST_CLASSES", "IDX_FILES", "IMAGE_EXTENSIONS", "Data", "DataError",
           "DataNotFoundError", "Dataset", "DeviceData", "Loaded", "Split", "augment",
           "balanced_subset", "batch_indices", "canonical_name", "channel_stats", "dataset_names",
           "from_tensors", "load_data", "make_splits", "normalize", "read_idx", "resize_split",
           "synthetic"]
