"""Data sets as tensors, with seeded explicit splits and on-device augmentation.

The evaluator trains small networks briefly, so a whole data set fits in memory: every split is
one ``uint8`` tensor ``(N, C, H, W)`` plus ``int64`` labels, loaded once, moved to the training
device once (:meth:`Data.on`) and augmented there, a batch at a time, with no per-sample Python.

Sources (:func:`load_data` names):

* ``fashion-mnist``: the four standard IDX files (``train-images-idx3-ubyte[.gz]``...), as Debian's
  ``dataset-fashion-mnist`` package installs them in ``/usr/share/datasets/fashion-mnist``.
  Looked up in: ``data_dir``, ``$REGNET_SPACE_FASHION_MNIST``, ``$REGNET_SPACE_DATA/fashion-mnist``,
  ``$REGNET_SPACE_DATA``, then the Debian path. ``mnist`` reads the same format.
* ``cifar10``: the standard python batches folder (``data_batch_1..5``, ``test_batch``; the
  ``cifar-10-batches-py`` folder of ``cifar-10-python.tar.gz``). ``$REGNET_SPACE_CIFAR10`` or
  ``$REGNET_SPACE_DATA/cifar-10-batches-py``.
* ``imagefolder``: any ``root/<class>/<image>`` tree (ImageNet style), or one with ``train/`` and
  ``val/`` (or ``test/``) sub-trees. Images are resized (shorter side) and centre-cropped to
  ``resolution`` (default 224) once, at load time. A directory given as the name is recognised
  (IDX files, CIFAR batches, else an image tree).
* ``synthetic``: class templates plus noise, generated from the seed (mechanics tests, demos).

Splits and subsets are explicit and seeded: ``train_size``, ``val_size`` (carved from the training
split, disjoint from the training subset) and ``test_size`` pick class-balanced subsets (class
counts differ by at most one when the classes are large enough). Normalisation uses the per-channel
mean and std of the training subset.

Augmentation (:func:`augment`): pad-4 random crop (zero padding, as torchvision's
``RandomCrop(padding=4)``) and a random horizontal flip, both vectorised over the batch. The flip is
on for Fashion-MNIST too: garments are left-right symmetric classes (a flipped left shoe is a right
shoe, still a sneaker), so it preserves labels; pycls's CIFAR recipe uses the same pair. The
synthetic set is not flipped (its random templates are not symmetric).

Example:
    >>> data = load_data("synthetic", train_size=64, test_size=32, seed=0)
    >>> data.train.x.shape, data.train.x.dtype, data.num_classes
    (torch.Size([64, 1, 28, 28]), torch.uint8, 10)
"""

from __future__ import annotations

import functools
import gzip
import os
import pickle
import struct
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import torch
import torch.nn.functional as F

from ..errors import DataNotFoundError
from ..errors import ConfigError

DEBIAN_FASHION_MNIST = Path("/usr/share/datasets/fashion-mnist")
DEBIAN_MNIST = Path("/usr/share/datasets/mnist")
ENV_DATA = "REGNET_SPACE_DATA"
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff", ".ppm",
                    ".pgm")

FASHION_MNIST_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
                         "Sneaker", "Bag", "Ankle boot")
CIFAR10_CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship",
                   "truck")
IDX_FILES = {
    "train_x": "train-images-idx3-ubyte", "train_y": "train-labels-idx1-ubyte",
    "test_x": "t10k-images-idx3-ubyte", "test_y": "t10k-labels-idx1-ubyte",
}

#: Canonical data set names and their aliases.
DATASETS = {
    "fashion-mnist": ("fashion-mnist", "fashion_mnist", "fashionmnist", "fmnist"),
    "mnist": ("mnist",),
    "cifar10": ("cifar10", "cifar-10", "cifar_10"),
    "imagefolder": ("imagefolder", "image-folder", "image_folder", "folder"),
    "synthetic": ("synthetic", "fake", "random"),
}


def dataset_names() -> list[str]:
    return list(DATASETS)


def canonical_name(name: str) -> str:
    """The canonical data set name of ``name`` or an alias; a ConfigError listing the known ones."""
    low = str(name).strip().lower()
    for key, aliases in DATASETS.items():
        if low in aliases:
            return key
    raise ConfigError(f"unknown data set {name!r}; known: {', '.join(DATASETS)} "
                     "(or a directory holding IDX files, CIFAR batches or an image tree)")


# ----------------------------------------------------------------------------------- containers
@dataclass(frozen=True)
class Split:
    """One split: images ``x`` (uint8, N x C x H x W, raw 0..255) and labels ``y`` (int64, N)."""

    x: torch.Tensor
    y: torch.Tensor

    def __post_init__(self) -> None:
        if self.x.dim() != 4 or self.x.dtype != torch.uint8:
            raise ConfigError(f"images must be a uint8 N x C x H x W tensor, got {self.x.dtype} "
                             f"{tuple(self.x.shape)}")
        if self.y.dim() != 1 or len(self.y) != len(self.x):
            raise ConfigError(f"labels must be a vector of {len(self.x)} entries, got {tuple(self.y.shape)}")

    def __len__(self) -> int:
        return len(self.y)

    def take(self, idx: torch.Tensor) -> "Split":
        return Split(self.x[idx].contiguous(), self.y[idx].contiguous())


@dataclass(frozen=True)
class DeviceData:
    """A :class:`Data` on one device: what the training loop indexes (see :meth:`Data.on`).

    ``train_x`` is already zero-padded by ``pad`` pixels on each side (uint8), so a random crop is
    one gather; ``mean``/``std`` are float32 tensors of shape (1, C, 1, 1) in 0..255 units.
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


@dataclass
class Data:
    """A data set in memory: train / optional validation / test splits and how to augment them.

    ``mean`` and ``std`` are per-channel statistics of the training subset in 0..1 units.
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
    """Per-channel mean and std (0..1 units, float64 accumulation) of uint8 images N x C x H x W."""
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


# ----------------------------------------------------------------------------------- augmentation
def batch_indices(n: int, batch_size: int, generator: torch.Generator,
                  device: torch.device) -> torch.Tensor:
    """One epoch of shuffled indices as a (steps, batch) tensor; the last partial batch is dropped
    (pycls's loader does the same), except that a split smaller than a batch is one batch."""
    perm = torch.randperm(n, generator=generator, device=device)
    b = min(batch_size, n)
    steps = n // b
    return perm[: steps * b].view(steps, b)


def augment(dev: DeviceData, idx: torch.Tensor, generator: torch.Generator | None,
            *, train: bool = True) -> torch.Tensor:
    """A normalised float32 batch of training images ``idx`` with random crop and flip.

    One gather does batch selection and the crop (offsets drawn per image in [0, 2 * pad]), one
    ``where`` the flip. The result is channels-last in memory (a permuted gather), which is what
    the convolutions want.
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
    """uint8 0..255 -> float32 standardised with the training subset's per-channel mean and std."""
    return (x.float() - dev.mean) / dev.std


# ----------------------------------------------------------------------------------- subsets
def balanced_subset(y: torch.Tensor, n: int | None, generator: torch.Generator,
                    exclude: torch.Tensor | None = None) -> torch.Tensor:
    """Indices of a seeded, class-balanced subset of ``n`` labels (all when n is None).

    The classes are interleaved round-robin in a random order, so the first n indices hold
    floor(n / k) or one more of each class while the classes last; the result is sorted.
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


def _check_size(name: str, v: Any) -> int | None:
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or int(v) < 0:
        raise ConfigError(f"{name} must be a non-negative integer or None, got {v!r}")
    return int(v)


def make_splits(train: Split, test: Split, *, train_size=None, val_size=None, test_size=None,
                seed: int = 0) -> tuple[Split, Split | None, Split]:
    """Seeded class-balanced subsets: val carved from train first, then train from the rest."""
    train_size = _check_size("train_size", train_size)
    val_size = _check_size("val_size", val_size)
    test_size = _check_size("test_size", test_size)
    if train_size == 0:
        raise ConfigError("train_size must be >= 1")
    if test_size == 0:
        raise ConfigError("test_size must be >= 1")
    g = torch.Generator().manual_seed(int(seed))
    val = None
    val_idx = torch.zeros(0, dtype=torch.long)
    if val_size:
        if val_size >= len(train):
            raise ConfigError(f"val_size={val_size} leaves no training images (train has {len(train)})")
        val_idx = balanced_subset(train.y, val_size, g)
        val = train.take(val_idx)
    tr = train.take(balanced_subset(train.y, train_size, g, exclude=val_idx))
    te = test.take(balanced_subset(test.y, test_size, g)) if test_size is not None else test
    return tr, val, te


# ----------------------------------------------------------------------------------- readers
def read_idx(path: str | Path) -> np.ndarray:
    """An IDX file (``.gz`` or plain) as a read-only numpy array (the MNIST / Fashion-MNIST format).

    Decoded files are cached in memory for the process (keyed by path, size and mtime), so a
    sweep or a test suite decompresses each file once.
    """
    path = Path(path).resolve()
    st = path.stat()
    return _read_idx_cached(str(path), st.st_size, st.st_mtime_ns)


@functools.lru_cache(maxsize=8)
def _read_idx_cached(path: str, size: int, mtime: int) -> np.ndarray:
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as f:
        raw = f.read()
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0:
        raise ConfigError(f"{path} is not an IDX file (bad magic number)")
    dtypes = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
    if raw[2] not in dtypes:
        raise ConfigError(f"{path}: unknown IDX data type 0x{raw[2]:02x}")
    ndim = raw[3]
    shape = struct.unpack(f">{ndim}I", raw[4:4 + 4 * ndim])
    data = np.frombuffer(raw, dtype=dtypes[raw[2]], offset=4 + 4 * ndim)
    if data.size != int(np.prod(shape)):
        raise ConfigError(f"{path}: IDX header says {shape} but holds {data.size} values (truncated?)")
    return data.reshape(shape)


def _find_idx(folder: Path, stem: str) -> Path | None:
    for name in (stem + ".gz", stem, stem.replace("-idx", ".idx")):
        if (folder / name).is_file():
            return folder / name
    return None


def _is_idx_dir(folder: Path) -> bool:
    return all(_find_idx(folder, s) for s in IDX_FILES.values())


def _is_cifar_dir(folder: Path) -> bool:
    return (folder / "data_batch_1").is_file() and (folder / "test_batch").is_file()


def _candidates(data_dir, env_var: str, subdirs: Sequence[str], default: Path | None):
    out = []
    if data_dir:
        out.append((Path(data_dir).expanduser(), "data_dir"))
    if os.environ.get(env_var):
        out.append((Path(os.environ[env_var]).expanduser(), f"${env_var}"))
    if os.environ.get(ENV_DATA):
        base = Path(os.environ[ENV_DATA]).expanduser()
        out += [(base / s, f"${ENV_DATA}/{s}") for s in subdirs]
        out.append((base, f"${ENV_DATA}"))
    if default is not None:
        out.append((default, "default"))
    return out


def _locate(kind: str, data_dir, env_var, subdirs, default, test, how: str) -> Path:
    cands = _candidates(data_dir, env_var, subdirs, default)
    if data_dir:  # an explicit folder is the only place looked
        cands = [(c, src) for c, src in cands if src == "data_dir"]
        cands += [(cands[0][0] / s, f"data_dir/{s}") for s in subdirs]
    for folder, _ in cands:
        if folder.is_dir() and test(folder):
            return folder
    looked = "; ".join(f"{p} ({src})" for p, src in cands)
    raise DataNotFoundError(f"{kind} not found; looked in: {looked}. {how}")


def load_idx_set(name: str, data_dir=None) -> tuple[Split, Split, str]:
    if name == "fashion-mnist":
        env, subdirs, default = "REGNET_SPACE_FASHION_MNIST", ("fashion-mnist", "fashion_mnist"), DEBIAN_FASHION_MNIST
        how = ("Install it with `apt-get install dataset-fashion-mnist` (files go to "
               f"{DEBIAN_FASHION_MNIST}), or pass --data-dir / set REGNET_SPACE_FASHION_MNIST to a "
               "folder holding train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, "
               "t10k-images-idx3-ubyte.gz and t10k-labels-idx1-ubyte.gz.")
    else:
        env, subdirs, default = "REGNET_SPACE_MNIST", ("mnist",), DEBIAN_MNIST
        how = ("Pass --data-dir or set REGNET_SPACE_MNIST to a folder holding the four MNIST IDX "
               "files (train-images-idx3-ubyte.gz, ...).")
    folder = _locate(name, data_dir, env, subdirs, default, _is_idx_dir, how)
    arr = {k: read_idx(_find_idx(folder, s)) for k, s in IDX_FILES.items()}
    for part in ("train", "test"):
        if len(arr[f"{part}_x"]) != len(arr[f"{part}_y"]):
            raise ConfigError(f"{folder}: {part} images and labels differ in count")

    def split(part):
        x = torch.from_numpy(arr[f"{part}_x"].astype(np.uint8, copy=True)).unsqueeze(1)
        return Split(x, torch.from_numpy(arr[f"{part}_y"].astype(np.int64)))

    return split("train"), split("test"), str(folder)


def _unpickle(path: Path) -> dict:
    with open(path, "rb") as f:
        d = pickle.load(f, encoding="bytes")
    return {(k.decode() if isinstance(k, bytes) else k): v for k, v in d.items()}


def load_cifar10(data_dir=None) -> tuple[Split, Split, str, tuple[str, ...]]:
    """CIFAR-10 from its python batches folder (``data_batch_1..5``, ``test_batch``)."""
    how = ("Download cifar-10-python.tar.gz from https://www.cs.toronto.edu/~kriz/cifar.html, "
           "extract it and pass --data-dir PATH/cifar-10-batches-py (or set REGNET_SPACE_CIFAR10).")
    folder = _locate("cifar10", data_dir, "REGNET_SPACE_CIFAR10",
                     ("cifar-10-batches-py", "cifar10", "cifar-10"), None, _is_cifar_dir, how)

    def read(names):
        xs, ys = [], []
        for n in names:
            d = _unpickle(folder / n)
            x = np.asarray(d["data"], dtype=np.uint8)
            if x.ndim != 2 or x.shape[1] != 3072:
                raise ConfigError(f"{folder / n}: expected data of shape (N, 3072), got {x.shape}")
            xs.append(x.reshape(-1, 3, 32, 32))
            ys.append(np.asarray(d["labels"], dtype=np.int64))
        return Split(torch.from_numpy(np.concatenate(xs)), torch.from_numpy(np.concatenate(ys)))

    train_names = sorted((p.name for p in folder.glob("data_batch_*")), key=lambda s: int(s.split("_")[-1]))
    classes = CIFAR10_CLASSES
    if (folder / "batches.meta").is_file():
        meta = _unpickle(folder / "batches.meta")
        names = meta.get("label_names")
        if names:
            classes = tuple(n.decode() if isinstance(n, bytes) else str(n) for n in names)
    return read(train_names), read(["test_batch"]), str(folder), classes


def _list_images(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.suffix.lower() in IMAGE_EXTENSIONS and p.is_file())


def _read_image(path: Path, resolution: int, mode: str) -> np.ndarray:
    from PIL import Image

    with Image.open(path) as im:
        im = im.convert(mode)
        w, h = im.size
        s = resolution / min(w, h)
        nw, nh = max(resolution, round(w * s)), max(resolution, round(h * s))
        if (nw, nh) != (w, h):
            im = im.resize((nw, nh), Image.BILINEAR)
        left, top = (nw - resolution) // 2, (nh - resolution) // 2
        im = im.crop((left, top, left + resolution, top + resolution))
        a = np.asarray(im, dtype=np.uint8)
    return a[None] if a.ndim == 2 else a.transpose(2, 0, 1)


def _read_tree(root: Path, classes: list[str], resolution: int, mode: str) -> Split:
    files, labels = [], []
    for i, c in enumerate(classes):
        if (root / c).is_dir():
            found = _list_images(root / c)
            files += found
            labels += [i] * len(found)
    if not files:
        raise DataNotFoundError(f"no images ({', '.join(IMAGE_EXTENSIONS)}) under {root}")
    with ThreadPoolExecutor(max_workers=min(8, os.cpu_count() or 1)) as pool:
        arrays = list(pool.map(lambda p: _read_image(p, resolution, mode), files))
    return Split(torch.from_numpy(np.stack(arrays)), torch.tensor(labels, dtype=torch.int64))


def load_imagefolder(root, resolution: int = 224, *, test_fraction: float = 0.2,
                     seed: int = 0) -> tuple[Split, Split, str, tuple[str, ...]]:
    """An ImageNet-style tree resized to ``resolution`` (shorter side, then centre crop).

    ``root/train/<class>/...`` with ``root/val/<class>/...`` (or ``test``), or a single
    ``root/<class>/...`` tree of which a seeded, class-stratified ``test_fraction`` is held out.
    Grayscale trees (every sampled image in mode L) give 1 channel, others RGB.
    """
    if root is None:
        raise DataNotFoundError("imagefolder needs a folder: pass --data-dir ROOT (or "
                                "--data /path/to/tree), holding ROOT/<class>/<image> or "
                                "ROOT/train/<class>/... and ROOT/val/<class>/...")
    root = Path(root).expanduser()
    if not root.is_dir():
        raise DataNotFoundError(f"image folder {root} does not exist")
    held = next((root / n for n in ("val", "test") if (root / n).is_dir()), None)
    base = root / "train" if (root / "train").is_dir() and held is not None else root
    classes = sorted(p.name for p in base.iterdir() if p.is_dir())
    if not classes:
        raise DataNotFoundError(f"{base} holds no class folders (expected {base}/<class>/<image>)")
    sample = _list_images(base)[:16]
    if not sample:
        raise DataNotFoundError(f"no images ({', '.join(IMAGE_EXTENSIONS)}) under {base}")
    from PIL import Image

    modes = set()
    for p in sample:
        with Image.open(p) as im:
            modes.add(im.mode)
    mode = "L" if modes <= {"L", "1"} else "RGB"
    train = _read_tree(base, classes, resolution, mode)
    if base is not root:
        test = _read_tree(held, classes, resolution, mode)
    else:  # one tree: hold out a stratified fraction
        g = torch.Generator().manual_seed(int(seed) + 7919)
        test_idx = []
        for c in range(len(classes)):
            idx = torch.nonzero(train.y == c).flatten()
            k = int(round(len(idx) * test_fraction)) if len(idx) > 1 else 0
            test_idx.append(idx[torch.randperm(len(idx), generator=g)[:k]])
        test_idx = torch.sort(torch.cat(test_idx)).values
        if not len(test_idx):
            raise ConfigError(f"{root}: too few images to hold out a test split")
        keep = torch.ones(len(train), dtype=torch.bool)
        keep[test_idx] = False
        train, test = train.take(torch.nonzero(keep).flatten()), train.take(test_idx)
    return train, test, str(root), tuple(classes)


def synthetic(n_train: int = 2000, n_test: int = 500, *, resolution: int = 28, in_channels: int = 1,
              num_classes: int = 10, seed: int = 0) -> tuple[Split, Split]:
    """A learnable toy set: smooth per-class templates plus pixel noise, as uint8 images."""
    g = torch.Generator().manual_seed(int(seed) + 104729)
    low = max(2, resolution // 4)
    templates = torch.randn(num_classes, in_channels, low, low, generator=g)
    templates = F.interpolate(templates, size=(resolution, resolution), mode="bilinear",
                              align_corners=False)

    def make(n):
        y = torch.arange(n) % num_classes
        y = y[torch.randperm(n, generator=g)]
        noise = torch.randn(n, in_channels, resolution, resolution, generator=g)
        x = 128 + 50 * templates[y] + 40 * noise
        return Split(x.round().clamp(0, 255).to(torch.uint8), y)

    return make(n_train), make(n_test)


# ----------------------------------------------------------------------------------- entry point
def resize_split(s: Split, resolution: int) -> Split:
    """Resize images to ``resolution`` (bilinear, antialiased when shrinking), in chunks."""
    if s.x.shape[-1] == resolution:
        return s
    out = []
    for chunk in torch.split(s.x, 4096):
        r = F.interpolate(chunk.float(), size=(resolution, resolution), mode="bilinear",
                          align_corners=False, antialias=resolution < chunk.shape[-1])
        out.append(r.round().clamp(0, 255).to(torch.uint8))
    return Split(torch.cat(out), s.y)


def load_data(name: str = "fashion-mnist", *, data_dir: str | os.PathLike | None = None,
              train_size: int | None = None, val_size: int | None = None,
              test_size: int | None = None, seed: int = 0, resolution: int | None = None,
              flip: bool | None = None, crop_pad: int = 4, in_channels: int | None = None,
              num_classes: int | None = None) -> Data:
    """Load a data set by name (or a directory) with seeded, class-balanced subsets.

    Args:
        name: ``fashion-mnist``, ``mnist``, ``cifar10``, ``imagefolder``, ``synthetic`` (aliases
            accepted), or a directory holding one of these formats.
        data_dir: where to look first (see the module docstring for the search order).
        train_size, val_size, test_size: subset sizes (None = all; val defaults to none). The
            validation split is carved out of the training split; when present, the evaluator
            ranks by it and reports the test error separately.
        seed: the data seed (subset choice, synthetic images). Separate from the training seed,
            so that several training seeds see the same subsets.
        resolution: resize to this size (default: the set's own; 224 for an image folder).
        flip, crop_pad: augmentation (default: flip for all but the synthetic set; pad 4).
        in_channels, num_classes: shape of the synthetic set (1 and 10 by default).

    Raises:
        DataNotFoundError: the set is not on this machine (the message says where we looked).
        ConfigError: an unknown name or bad sizes.
    """
    if resolution is not None:
        resolution = _check_size("resolution", resolution)
        if not resolution:
            raise ConfigError("resolution must be >= 1")
    if isinstance(crop_pad, bool) or not isinstance(crop_pad, int) or crop_pad < 0:
        raise ConfigError(f"crop_pad must be a non-negative integer, got {crop_pad!r}")
    key = None
    if isinstance(name, os.PathLike) or ("/" in str(name) or os.sep in str(name)):
        folder = Path(name).expanduser()
        if not folder.is_dir():
            raise DataNotFoundError(f"data folder {folder} does not exist")
        data_dir = folder
        key = ("fashion-mnist" if _is_idx_dir(folder) else
               "cifar10" if _is_cifar_dir(folder) else "imagefolder")
        label = folder.name
    else:
        key = canonical_name(name)
        label = key
    if key != "synthetic" and (in_channels is not None or num_classes is not None):
        raise ConfigError("in_channels and num_classes are only settable for the synthetic set")
    classes: tuple[str, ...] = ()
    default_flip = True
    if key in ("fashion-mnist", "mnist"):
        train, test, source = load_idx_set(key, data_dir)
        classes = FASHION_MNIST_CLASSES if key == "fashion-mnist" else tuple(map(str, range(10)))
        if key == "mnist":
            default_flip = False  # digits are not mirror-symmetric
    elif key == "cifar10":
        train, test, source, classes = load_cifar10(data_dir)
    elif key == "imagefolder":
        train, test, source, classes = load_imagefolder(data_dir, resolution or 224, seed=seed)
    else:
        n_tr = 2000 if train_size is None else max(train_size, 1) + (val_size or 0)
        n_te = 500 if test_size is None else max(test_size, 1)
        nc = 10 if num_classes is None else _check_size("num_classes", num_classes)
        ch = 1 if in_channels is None else _check_size("in_channels", in_channels)
        if not nc or not ch:
            raise ConfigError("num_classes and in_channels must be >= 1")
        train, test = synthetic(n_tr, n_te, resolution=resolution or 28, in_channels=ch,
                                num_classes=nc, seed=seed)
        classes = tuple(str(i) for i in range(nc))
        source, default_flip = "synthetic", False
    if resolution is not None:
        train, test = resize_split(train, resolution), resize_split(test, resolution)
    n_classes = int(max(train.y.max(), test.y.max())) + 1
    if classes and len(classes) >= n_classes:
        n_classes = len(classes)
    tr, val, te = make_splits(train, test, train_size=train_size, val_size=val_size,
                              test_size=test_size, seed=seed)
    return Data(label, tr, te, n_classes, val=val, classes=classes,
                flip=default_flip if flip is None else bool(flip), crop_pad=crop_pad,
                source=source, seed=int(seed))


def from_tensors(x_train, y_train, x_test, y_test, *, name: str = "tensors", num_classes=None,
                 flip: bool = True, crop_pad: int = 4) -> Data:
    """A :class:`Data` from in-memory uint8 image tensors (N x C x H x W) and integer labels."""
    tr = Split(torch.as_tensor(x_train), torch.as_tensor(y_train, dtype=torch.int64))
    te = Split(torch.as_tensor(x_test), torch.as_tensor(y_test, dtype=torch.int64))
    k = num_classes or int(max(tr.y.max(), te.y.max())) + 1
    return Data(name, tr, te, k, flip=flip, crop_pad=crop_pad)


__all__ = ["Data", "DataNotFoundError", "DeviceData", "Split", "augment", "balanced_subset",
           "batch_indices", "canonical_name", "channel_stats", "dataset_names", "from_tensors", "load_cifar10",
           "load_data", "load_idx_set", "load_imagefolder", "make_splits", "normalize", "read_idx",
           "resize_split", "synthetic"]
