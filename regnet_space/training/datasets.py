"""The data sets :func:`~regnet_space.training.data.load_data` knows: one registry, one reader each.

Adding a data set is one :func:`register` call here: its name and aliases, the reader (a function
``Request -> Loaded``), whether horizontal flips preserve its labels, the environment variable
naming its folder, the folder names looked for under ``$REGNET_SPACE_DATA``, a system-wide default
location, how to get it (appended to every "not found" message), how to recognise its folder
(for ``--data DIR``) and whether default locations may be searched at all.

Where a set is looked for, in order:

1. ``data_dir`` (``--data-dir``), or the folder given as the name (``--data DIR``);
2. the set's own environment variable (``$REGNET_SPACE_FASHION_MNIST``, ...);
3. ``$REGNET_SPACE_DATA/<subdir>`` then ``$REGNET_SPACE_DATA``;
4. the set's default location (Debian's ``/usr/share/datasets/fashion-mnist``).

A location the user names (1 or 2) is the only place looked: when it does not exist or does not
hold the set, that is an error, never a silent fallback to a default copy. ``$REGNET_SPACE_DATA``
must exist when set, but it is a root for several sets, so a set missing under it is looked for in
its default location next.

CIFAR-10's python batches are pickles: they are read with a restricted unpickler (numpy arrays
only) and only from a folder named explicitly (1 or 2), never found by searching. Image
folders likewise have no default location.

Example:
    >>> sorted(DATASETS)
    ['cifar10', 'fashion-mnist', 'imagefolder', 'mnist', 'synthetic']
    >>> get_dataset("FMNIST").name, get_dataset("cifar-10").flip, get_dataset("mnist").flip
    ('fashion-mnist', True, False)
    >>> loaded = get_dataset("synthetic").read(Request(train_size=20, test_size=10))
    >>> len(loaded.train), len(loaded.test), loaded.source
    (20, 10, 'synthetic')
"""

from __future__ import annotations

import functools
import gzip
import math
import os
import pickle
import re
import struct
import zlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F

from ..errors import ConfigError, DataError, DataNotFoundError, require
from .splits import Split

#: The data root several sets may live under (``$REGNET_SPACE_DATA/<subdir>``).
ENV_DATA = "REGNET_SPACE_DATA"
DEBIAN_FASHION_MNIST = Path("/usr/share/datasets/fashion-mnist")
DEBIAN_MNIST = Path("/usr/share/datasets/mnist")
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


# ----------------------------------------------------------------------------------- records
@dataclass(frozen=True)
class Request:
    """What :func:`load_data` asks a reader for; each reader uses the fields that apply to it.

    ``folder`` is the located folder (None for sets that need none); the sizes are the requested
    subsets (the synthetic set generates just enough images for them).
    """

    folder: Path | None = None
    resolution: int | None = None
    seed: int = 0
    train_size: int | None = None
    val_size: int | None = None
    test_size: int | None = None
    in_channels: int | None = None
    num_classes: int | None = None


@dataclass(frozen=True)
class Loaded:
    """What every reader returns: the full train and test splits, where they were read from, and
    the class names when the files carry them (else the registry's)."""

    train: Split
    test: Split
    source: str
    classes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Dataset:
    """One registry entry (see the module docstring for what each field is used for).

    ``detect_last`` marks a catch-all recogniser (any folder is an image tree), tried after the
    others whatever the registration order.
    """

    name: str
    aliases: tuple[str, ...]
    read: Callable[[Request], Loaded]
    flip: bool = True
    how: str = ""
    env: str | None = None
    subdirs: tuple[str, ...] = ()
    default: Path | None = None
    detect: Callable[[Path], bool] | None = None
    detect_last: bool = False
    search: bool = True
    needs_folder: bool = True
    classes: tuple[str, ...] = ()


#: Canonical name -> :class:`Dataset`, in the order folders are recognised.
DATASETS: dict[str, Dataset] = {}


def register(ds: Dataset) -> Dataset:
    """Add a data set to :data:`DATASETS` (its name and aliases must be new)."""
    taken = {a for d in DATASETS.values() for a in (d.name, *d.aliases)}
    clash = sorted(taken & {ds.name, *ds.aliases})
    if clash:
        raise ConfigError(f"data set name(s) {clash} are already registered")
    DATASETS[ds.name] = ds
    return ds


def get_dataset(name: str) -> Dataset:
    """The registry entry of ``name`` or an alias (case-insensitive); a ConfigError listing the
    known names otherwise (see the module example)."""
    low = str(name).strip().lower()
    for ds in DATASETS.values():
        if low == ds.name or low in ds.aliases:
            return ds
    raise ConfigError(f"unknown data set {name!r}; known: {', '.join(DATASETS)} "
                      "(or a directory holding IDX files, CIFAR batches or an image tree)")


#: The largest split (uint8 bytes) generated or resized in memory: a typo in a size or a
#: resolution must be an error, not a process killed for memory.
MAX_SPLIT_BYTES = 8 << 30


def check_split_bytes(what: str, n: int, channels: int, resolution: int) -> None:
    """A ConfigError when ``n`` images of ``channels x resolution^2`` exceed MAX_SPLIT_BYTES.

    Example:
        >>> check_split_bytes("the training split", 60000, 1, 28)
        >>> check_split_bytes("the training split", 10**9, 3, 224)
        Traceback (most recent call last):
        ...
        regnet_space.errors.ConfigError: the training split would hold 1,000,000,000 images of 3x224x224 (140,190 GiB); at most 8 GiB fit: lower the subset sizes or the resolution
    """
    size = int(n) * int(channels) * int(resolution) ** 2
    if size > MAX_SPLIT_BYTES:
        raise ConfigError(f"{what} would hold {n:,} images of {channels}x{resolution}x{resolution} "
                          f"({size / (1 << 30):,.0f} GiB); at most {MAX_SPLIT_BYTES >> 30} GiB "
                          "fit: lower the subset sizes or the resolution")


def _one_line(e: BaseException) -> str:
    text = " ".join(str(e).split())
    return f"{type(e).__name__}: {text}" if text else type(e).__name__


# ----------------------------------------------------------------------------------- locating
def _named_folder(path, where: str, ds: Dataset) -> Path:
    folder = Path(path).expanduser()
    if not folder.exists():
        raise DataNotFoundError(f"{ds.name}: {folder} ({where}) does not exist. {ds.how}".strip())
    if not folder.is_dir():
        raise DataNotFoundError(f"{ds.name}: {folder} ({where}) is not a folder. {ds.how}".strip())
    return folder


def _holds(ds: Dataset, folder: Path) -> bool:
    return folder.is_dir() and (ds.detect is None or ds.detect(folder))


def locate(ds: Dataset, data_dir=None) -> Path | None:
    """The folder ``ds`` is read from (None for a set that needs none), following the search
    order of the module docstring; a :class:`DataNotFoundError` saying where it looked otherwise.

    Example:
        >>> locate(get_dataset("synthetic")) is None
        True
    """
    if not ds.needs_folder:
        return None
    if data_dir is not None and str(data_dir) != "":
        named = [(_named_folder(data_dir, "--data-dir", ds), "--data-dir")]
    elif ds.env and os.environ.get(ds.env):
        named = [(_named_folder(os.environ[ds.env], f"${ds.env}", ds), f"${ds.env}")]
    else:
        named = []
    if named:
        folder, where = named[0]
        cands = [(folder, where)]
        if ds.search:
            cands += [(folder / s, f"{where}/{s}") for s in ds.subdirs]
    elif not ds.search:
        hint = f"; or set ${ds.env}" if ds.env else ""
        raise DataNotFoundError(f"{ds.name} is read only from a folder you name (--data-dir "
                                f"DIR or --data DIR{hint}). {ds.how}".strip())
    else:
        cands = []
        if os.environ.get(ENV_DATA):
            base = _named_folder(os.environ[ENV_DATA], f"${ENV_DATA}", ds)
            cands += [(base / s, f"${ENV_DATA}/{s}") for s in ds.subdirs]
            cands.append((base, f"${ENV_DATA}"))
        if ds.default is not None:
            cands.append((ds.default, "default"))
    for folder, _ in cands:
        if _holds(ds, folder):
            return folder
    looked = "; ".join(f"{p} ({src})" for p, src in cands)
    hint = ""
    if named and not ds.search:  # a one-level-up mistake is common; name the folder, not search it
        near = [named[0][0] / s for s in ds.subdirs if _holds(ds, named[0][0] / s)]
        if near:
            hint = f" (did you mean {near[0]}?)"
    raise DataNotFoundError(f"{ds.name} not found; looked in: {looked}{hint}. {ds.how}".strip())


def resolve(name, data_dir=None) -> tuple[Dataset, Path | None, str]:
    """``(entry, folder, label)`` for a data set name or a folder given as the name.

    A folder is recognised by the first entry whose ``detect`` accepts it (IDX files, then CIFAR
    batches, else an image tree); its label is the folder's name.

    Example:
        >>> ds, folder, label = resolve("fake")
        >>> ds.name, folder, label
        ('synthetic', None, 'synthetic')
    """
    text = os.fspath(name) if isinstance(name, os.PathLike) else str(name)
    if isinstance(name, os.PathLike) or "/" in text or os.sep in text:
        if data_dir is not None:
            raise ConfigError(f"the data set is given as a folder ({text}) and data_dir as "
                              f"{data_dir}: name the folder once")
        folder = Path(text).expanduser()
        if not folder.is_dir():
            what = "is not a folder" if folder.exists() else "does not exist"
            raise DataNotFoundError(f"data folder {folder} {what}")
        for ds in sorted(DATASETS.values(), key=lambda d: d.detect_last):
            if ds.detect is not None and ds.detect(folder):
                return ds, folder, folder.name
        raise DataNotFoundError(f"{folder} holds no data set this package reads")
    ds = get_dataset(text)
    return ds, locate(ds, data_dir), ds.name


# ----------------------------------------------------------------------------------- IDX
def read_idx(path: str | Path) -> np.ndarray:
    """An IDX file (``.gz`` or plain) as a read-only numpy array (the MNIST / Fashion-MNIST format).

    Decoded files are cached in memory for the process (keyed by path, size and mtime), so a
    sweep or a test suite decompresses each file once. A damaged file (bad gzip stream, truncated,
    a header that does not match the data) raises :class:`~regnet_space.errors.DataError`.

    Example:
        >>> import tempfile
        >>> path = Path(tempfile.mkdtemp()) / "x-idx1-ubyte"
        >>> _ = path.write_bytes(bytes([0, 0, 0x08, 1, 0, 0, 0, 3, 7, 8, 9]))
        >>> read_idx(path).tolist()
        [7, 8, 9]
    """
    path = Path(path).resolve()
    try:
        st = path.stat()
    except FileNotFoundError:
        raise DataNotFoundError(f"IDX file {path} does not exist") from None
    return _read_idx_cached(str(path), st.st_size, st.st_mtime_ns)


_IDX_TYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


@functools.lru_cache(maxsize=8)
def _read_idx_cached(path: str, size: int, mtime: int) -> np.ndarray:
    path = Path(path)
    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rb") as f:
                raw = f.read()
        else:
            raw = path.read_bytes()
    except (OSError, EOFError, zlib.error) as e:  # BadGzipFile is an OSError, a cut stream EOF
        raise DataError(f"{path} cannot be read ({_one_line(e)}); the file is damaged or "
                        "truncated: get it again") from None
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0:
        raise DataError(f"{path} is not an IDX file (bad magic number)")
    if raw[2] not in _IDX_TYPES:
        raise DataError(f"{path}: unknown IDX data type 0x{raw[2]:02x}; known: "
                        f"{', '.join(f'0x{k:02x}' for k in _IDX_TYPES)}")
    ndim, head = raw[3], 4 + 4 * raw[3]
    if ndim == 0:
        raise DataError(f"{path}: the IDX header gives no dimensions")
    if len(raw) < head:
        raise DataError(f"{path}: IDX header cut short: {ndim} dimensions need {head} bytes, the "
                        f"file has {len(raw)} (truncated?)")
    shape = struct.unpack(f">{ndim}I", raw[4:head])
    dtype = np.dtype(_IDX_TYPES[raw[2]])
    have, want = len(raw) - head, math.prod(shape) * dtype.itemsize
    if have != want:
        raise DataError(f"{path}: IDX header says shape {shape} ({want:,} bytes of data) but the "
                        f"file holds {have:,} bytes (truncated?)")
    return np.frombuffer(raw, dtype=dtype, offset=head).reshape(shape)


def _find_idx(folder: Path, stem: str) -> Path | None:
    for name in (stem + ".gz", stem, stem.replace("-idx", ".idx")):
        if (folder / name).is_file():
            return folder / name
    return None


def is_idx_dir(folder: Path) -> bool:
    """Whether ``folder`` holds the four MNIST-style IDX files (gzipped or not)."""
    return all(_find_idx(folder, s) for s in IDX_FILES.values())


def read_idx_folder(req: Request) -> Loaded:
    """The train and test splits of an MNIST-format folder (four IDX files)."""
    folder = req.folder
    arr = {k: read_idx(_find_idx(folder, s)) for k, s in IDX_FILES.items()}
    splits = {}
    for part in ("train", "test"):
        x, y = arr[f"{part}_x"], arr[f"{part}_y"]
        if x.ndim != 3 or x.dtype != np.uint8:
            raise DataError(f"{folder}: {part} images must be unsigned bytes of shape (N, H, W), "
                            f"got {x.dtype} {x.shape}")
        if y.ndim != 1 or y.dtype.kind not in "iu":
            raise DataError(f"{folder}: {part} labels must be integers of shape (N,), got "
                            f"{y.dtype} {y.shape}")
        if len(x) != len(y):
            raise DataError(f"{folder}: {len(x)} {part} images but {len(y)} labels")
        splits[part] = Split(torch.from_numpy(x.copy()).unsqueeze(1),
                             torch.from_numpy(y.astype(np.int64)))
    return Loaded(splits["train"], splits["test"], str(folder))


# ----------------------------------------------------------------------------------- CIFAR-10
def is_cifar_dir(folder: Path) -> bool:
    """Whether ``folder`` looks like CIFAR-10's python batches folder."""
    return (folder / "data_batch_1").is_file() and (folder / "test_batch").is_file()


#: The only globals a CIFAR-10 batch needs: numpy arrays (and their dtypes, scalars and the
#: byte codec Python 3 pickles of arrays use); dicts, lists, bytes and numbers need none.
_PICKLE_GLOBALS = frozenset([(f"numpy.{core}.{mod}", name) for core in ("core", "_core") for mod, name
                             in (("multiarray", "_reconstruct"), ("multiarray", "scalar"),
                                 ("numeric", "_frombuffer"))]
                            + [("numpy", "ndarray"), ("numpy", "dtype"), ("_codecs", "encode")])


class _BatchUnpickler(pickle.Unpickler):
    """An unpickler that resolves only :data:`_PICKLE_GLOBALS`: a file that names anything
    else (``os.system``, ``builtins.eval``...) is refused before any of it runs."""

    def find_class(self, module: str, name: str):
        if (module, name) not in _PICKLE_GLOBALS:
            raise pickle.UnpicklingError(f"refused global {module}.{name} (a CIFAR-10 batch "
                                         "holds only dicts, lists and numpy arrays)")
        return super().find_class(module, name)


def _unpickle(path: Path) -> dict:
    try:
        with open(path, "rb") as f:
            d = _BatchUnpickler(f, encoding="bytes").load()
    except Exception as e:  # a damaged pickle can raise nearly any exception type
        raise DataError(f"{path} is not a CIFAR-10 python batch ({_one_line(e)})") from None
    if not isinstance(d, dict):
        raise DataError(f"{path} is not a CIFAR-10 python batch (a {type(d).__name__}, not a "
                        "dict)")
    return {(k.decode(errors="replace") if isinstance(k, bytes) else k): v for k, v in d.items()}


def _cifar_batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    d = _unpickle(path)
    missing = [k for k in ("data", "labels") if k not in d]
    if missing:
        raise DataError(f"{path} is not a CIFAR-10 python batch: no {' or '.join(missing)} entry")
    try:
        x = np.asarray(d["data"], dtype=np.uint8)
        y = np.asarray(d["labels"], dtype=np.int64)
    except (TypeError, ValueError, OverflowError) as e:
        raise DataError(f"{path}: unreadable data or labels ({_one_line(e)})") from None
    if x.ndim != 2 or x.shape[1] != 3072:
        raise DataError(f"{path}: expected data of shape (N, 3072), got {x.shape}")
    if y.shape != (len(x),) or (len(y) and y.min() < 0):
        raise DataError(f"{path}: expected {len(x)} labels >= 0, got shape {y.shape}")
    return x.reshape(-1, 3, 32, 32), y


def read_cifar10(req: Request) -> Loaded:
    """CIFAR-10 from its python batches folder (``data_batch_1..5``, ``test_batch``).

    Security: the batches are pickles, read with an unpickler that resolves only numpy arrays
    (a file naming any other global is refused before it runs); still, this reader is reached
    only for a folder named explicitly (``--data-dir``, ``--data DIR``, ``$REGNET_SPACE_CIFAR10``).
    """
    folder = req.folder
    numbered = [(int(m.group(1)), p.name) for p in folder.iterdir()
                if (m := re.fullmatch(r"data_batch_(\d+)", p.name)) and p.is_file()]

    def split(names):
        parts = [_cifar_batch(folder / n) for n in names]
        return Split(torch.from_numpy(np.concatenate([x for x, _ in parts])),
                     torch.from_numpy(np.concatenate([y for _, y in parts])))

    classes: tuple[str, ...] = ()
    if (folder / "batches.meta").is_file():
        names = _unpickle(folder / "batches.meta").get("label_names")
        if isinstance(names, (list, tuple)) and names:
            classes = tuple(n.decode(errors="replace") if isinstance(n, bytes) else str(n)
                            for n in names)
    return Loaded(split([n for _, n in sorted(numbered)]), split(["test_batch"]), str(folder),
                  classes)


# ----------------------------------------------------------------------------------- image trees
def _list_images(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.suffix.lower() in IMAGE_EXTENSIONS and p.is_file())


def _read_image(path: Path, resolution: int, mode: str) -> np.ndarray:
    Image = require("PIL.Image", pip="pillow", purpose="reading an image folder")
    try:
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
    except (OSError, ValueError, Image.DecompressionBombError) as e:
        raise DataError(f"{path} is not a readable image ({_one_line(e)})") from None
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


def read_imagefolder(req: Request, *, test_fraction: float = 0.2) -> Loaded:
    """An ImageNet-style tree resized to ``req.resolution`` (default 224; shorter side, then
    centre crop), read once.

    ``root/train/<class>/...`` with ``root/val/<class>/...`` (or ``test``), or a single
    ``root/<class>/...`` tree of which a seeded, class-stratified ``test_fraction`` is held out.
    Grayscale trees (every sampled image in mode L) give 1 channel, others RGB.
    """
    root, resolution = req.folder, req.resolution or 224
    held = next((root / n for n in ("val", "test") if (root / n).is_dir()), None)
    base = root / "train" if (root / "train").is_dir() and held is not None else root
    classes = sorted(p.name for p in base.iterdir() if p.is_dir())
    if not classes:
        raise DataNotFoundError(f"{base} holds no class folders (expected {base}/<class>/<image>)")
    sample = _list_images(base)[:16]
    if not sample:
        raise DataNotFoundError(f"no images ({', '.join(IMAGE_EXTENSIONS)}) under {base}")
    Image = require("PIL.Image", pip="pillow", purpose="reading an image folder")
    modes = set()
    for p in sample:
        try:
            with Image.open(p) as im:
                modes.add(im.mode)
        except (OSError, ValueError, Image.DecompressionBombError) as e:
            raise DataError(f"{p} is not a readable image ({_one_line(e)})") from None
    mode = "L" if modes <= {"L", "1"} else "RGB"
    train = _read_tree(base, classes, resolution, mode)
    if base is not root:
        test = _read_tree(held, classes, resolution, mode)
    else:  # one tree: hold out a stratified fraction
        g = torch.Generator().manual_seed(int(req.seed) + 7919)
        test_idx = []
        for c in range(len(classes)):
            idx = torch.nonzero(train.y == c).flatten()
            k = int(round(len(idx) * test_fraction)) if len(idx) > 1 else 0
            test_idx.append(idx[torch.randperm(len(idx), generator=g)[:k]])
        test_idx = torch.sort(torch.cat(test_idx)).values
        if not len(test_idx):
            raise DataError(f"{root}: too few images to hold out a test split (give each class "
                            "at least 2 images, or a val/ tree)")
        keep = torch.ones(len(train), dtype=torch.bool)
        keep[test_idx] = False
        train, test = train.take(torch.nonzero(keep).flatten()), train.take(test_idx)
    return Loaded(train, test, str(root), tuple(classes))


# ----------------------------------------------------------------------------------- synthetic
def synthetic(n_train: int = 2000, n_test: int = 500, *, resolution: int = 28, in_channels: int = 1,
              num_classes: int = 10, seed: int = 0) -> Loaded:
    """A learnable toy set: smooth per-class templates plus pixel noise, as uint8 images.

    Example:
        >>> s = synthetic(30, 10, resolution=8, in_channels=3, num_classes=3)
        >>> s.train.x.shape, s.classes
        (torch.Size([30, 3, 8, 8]), ('0', '1', '2'))
    """
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

    return Loaded(make(n_train), make(n_test), "synthetic",
                  tuple(str(i) for i in range(num_classes)))


def read_synthetic(req: Request) -> Loaded:
    """:func:`synthetic` sized for the requested subsets (2000 / 500 images by default)."""
    nc = 10 if req.num_classes is None else req.num_classes
    ch = 1 if req.in_channels is None else req.in_channels
    for name, v in (("num_classes", nc), ("in_channels", ch)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
            raise ConfigError(f"{name} must be an integer >= 1, got {v!r}")
    n_train = 2000 if req.train_size is None else max(req.train_size, 1) + (req.val_size or 0)
    n_test = 500 if req.test_size is None else max(req.test_size, 1)
    for what, n in (("the synthetic training split", n_train), ("the synthetic test split", n_test)):
        check_split_bytes(what, n, int(ch), req.resolution or 28)
    return synthetic(n_train, n_test, resolution=req.resolution or 28, in_channels=int(ch),
                     num_classes=int(nc), seed=req.seed)


# ----------------------------------------------------------------------------------- the registry
_IDX_LIST = ", ".join(f"{s}.gz" for s in IDX_FILES.values())

register(Dataset(
    "fashion-mnist", ("fashion_mnist", "fashionmnist", "fmnist"), read_idx_folder,
    flip=True,  # garments are left-right symmetric classes: a flipped left shoe is a right shoe
    how=(f"Install it with `apt-get install dataset-fashion-mnist` (files go to "
         f"{DEBIAN_FASHION_MNIST}), or pass --data-dir / set REGNET_SPACE_FASHION_MNIST to a "
         f"folder holding {_IDX_LIST}."),
    env="REGNET_SPACE_FASHION_MNIST", subdirs=("fashion-mnist", "fashion_mnist"),
    default=DEBIAN_FASHION_MNIST, detect=is_idx_dir, classes=FASHION_MNIST_CLASSES))
register(Dataset(
    "mnist", (), read_idx_folder,
    flip=False,  # digits are not mirror-symmetric
    how=f"Pass --data-dir or set REGNET_SPACE_MNIST to a folder holding {_IDX_LIST}.",
    env="REGNET_SPACE_MNIST", subdirs=("mnist",), default=DEBIAN_MNIST, detect=is_idx_dir,
    classes=tuple(map(str, range(10)))))
register(Dataset(
    "cifar10", ("cifar-10", "cifar_10"), read_cifar10, flip=True,
    how=("Download cifar-10-python.tar.gz from https://www.cs.toronto.edu/~kriz/cifar.html, "
         "extract it and pass --data-dir PATH/cifar-10-batches-py (or set REGNET_SPACE_CIFAR10). "
         "The batches are pickles: loading them runs any code they contain, so use trusted "
         "files only."),
    env="REGNET_SPACE_CIFAR10", subdirs=("cifar-10-batches-py",), detect=is_cifar_dir,
    search=False, classes=CIFAR10_CLASSES))
register(Dataset(
    "imagefolder", ("image-folder", "image_folder", "folder"), read_imagefolder, flip=True,
    how=("Pass --data-dir ROOT (or --data ROOT) holding ROOT/<class>/<image>, or "
         "ROOT/train/<class>/... and ROOT/val/<class>/..."),
    detect=lambda folder: folder.is_dir(), detect_last=True, search=False))
register(Dataset(
    "synthetic", ("fake", "random"), read_synthetic,
    flip=False,  # its random templates are not mirror-symmetric
    needs_folder=False))


__all__ = ["DATASETS", "DEBIAN_FASHION_MNIST", "ENV_DATA", "MAX_SPLIT_BYTES", "Dataset", "Loaded",
           "Request", "check_split_bytes",
           "get_dataset", "is_cifar_dir", "is_idx_dir", "locate", "read_cifar10", "read_idx",
           "read_idx_folder", "read_imagefolder", "read_synthetic", "register", "resolve",
           "synthetic"]
