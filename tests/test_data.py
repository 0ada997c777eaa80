"""Data sets as tensors: readers (IDX, CIFAR batches, image folders, synthetic), seeded balanced
splits, normalisation statistics and the vectorised on-device augmentation."""

import gzip
import pickle
import struct
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

import torch

from regnet_space.errors import ConfigError, DataError
from regnet_space.training.data import (DEBIAN_FASHION_MNIST, DataNotFoundError, augment,
                                        balanced_subset, batch_indices, canonical_name,
                                        from_tensors, load_data, read_idx)
from regnet_space.training.datasets import (DATASETS, Dataset, Loaded, Request, get_dataset,
                                            register, synthetic)

HAVE_FMNIST = (DEBIAN_FASHION_MNIST / "train-images-idx3-ubyte.gz").is_file()


def _write_idx(path: Path, arr: np.ndarray) -> None:
    header = bytes([0, 0, 0x08, arr.ndim]) + struct.pack(f">{arr.ndim}I", *arr.shape)
    with gzip.open(path, "wb") as f:
        f.write(header + arr.astype(np.uint8).tobytes())


@pytest.fixture
def fake_idx(tmp_path):
    rng = np.random.default_rng(0)
    for stem, n in (("train", 60), ("t10k", 20)):
        _write_idx(tmp_path / f"{stem}-images-idx3-ubyte.gz", rng.integers(0, 256, (n, 28, 28)))
        _write_idx(tmp_path / f"{stem}-labels-idx1-ubyte.gz", np.arange(n) % 10)
    return tmp_path


def test_idx_reader_and_search_order(fake_idx, monkeypatch):
    x = read_idx(fake_idx / "train-images-idx3-ubyte.gz")
    assert x.shape == (60, 28, 28) and x.dtype == np.uint8
    d = load_data("fashion-mnist", data_dir=fake_idx)
    assert d.train.x.shape == (60, 1, 28, 28) and len(d.test) == 20 and d.num_classes == 10
    assert d.source == str(fake_idx)
    monkeypatch.setenv("REGNET_SPACE_FASHION_MNIST", str(fake_idx))
    assert load_data("fmnist").source == str(fake_idx)           # env var before the Debian path
    monkeypatch.delenv("REGNET_SPACE_FASHION_MNIST")
    monkeypatch.setenv("REGNET_SPACE_DATA", str(fake_idx.parent))
    (fake_idx.parent / "fashion-mnist").symlink_to(fake_idx)
    assert load_data("fashion_mnist").source.endswith("fashion-mnist")
    assert load_data(str(fake_idx)).name == fake_idx.name        # a directory is recognised
    bad = fake_idx / "train-labels-idx1-ubyte.gz"
    bad.write_bytes(gzip.compress(b"\x01\x02\x03\x04"))
    with pytest.raises(ValueError, match="not an IDX file"):
        read_idx(bad)


def test_missing_data_says_where_it_looked_and_how_to_get_it(tmp_path, monkeypatch):
    monkeypatch.setenv("REGNET_SPACE_DATA", str(tmp_path))
    with pytest.raises(DataNotFoundError) as e:
        load_data("fashion-mnist", data_dir=tmp_path / "nowhere")
    msg = str(e.value)
    assert "nowhere" in msg and "apt-get install dataset-fashion-mnist" in msg and "\n" not in msg
    with pytest.raises(DataNotFoundError, match="cifar-10-python.tar.gz"):
        load_data("cifar10")
    with pytest.raises(DataNotFoundError, match="--data-dir"):
        load_data("imagefolder")
    with pytest.raises(ValueError, match="unknown data set 'imagenet-21k'; known: fashion-mnist"):
        load_data("imagenet-21k")
    assert canonical_name("CIFAR-10") == "cifar10"


def test_cifar10_python_batches(tmp_path):
    rng = np.random.default_rng(1)
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    for name, n in [(f"data_batch_{i}", 20) for i in range(1, 6)] + [("test_batch", 30)]:
        batch = {b"batch_label": name.encode(), b"labels": [int(v) for v in rng.integers(0, 10, n)],
                 b"data": rng.integers(0, 256, (n, 3072), dtype=np.uint8),
                 b"filenames": [b"x.png"] * n}
        with open(folder / name, "wb") as f:
            pickle.dump(batch, f)
    with open(folder / "batches.meta", "wb") as f:
        pickle.dump({b"label_names": [f"c{i}".encode() for i in range(10)], b"num_vis": 3072}, f)
    d = load_data("cifar10", data_dir=folder)
    assert d.train.x.shape == (100, 3, 32, 32) and len(d.test) == 30 and d.classes[3] == "c3"
    # the pickle's row layout is channel-major: 1024 R, then G, then B values
    with open(folder / "data_batch_1", "rb") as f:
        first = pickle.load(f, encoding="bytes")[b"data"][0]
    assert torch.equal(d.train.x[0, 1].flatten(), torch.from_numpy(first[1024:2048]))
    assert load_data(str(folder)).name == "cifar-10-batches-py"
    d16 = load_data("cifar10", data_dir=folder, resolution=16)
    assert d16.resolution == 16 and d16.in_channels == 3
    # pickles run code when loaded: only the folder named is read, never a folder below it
    with pytest.raises(DataNotFoundError, match="did you mean .*cifar-10-batches-py"):
        load_data("cifar10", data_dir=tmp_path)


def test_image_folder_tree_resized(tmp_path):
    from PIL import Image

    rng = np.random.default_rng(2)
    for split, n in (("train", 4), ("val", 2)):
        for c in ("cat", "dog", "emu"):
            (tmp_path / split / c).mkdir(parents=True)
            for i in range(n):
                arr = rng.integers(0, 256, (40, 50, 3), dtype=np.uint8)
                Image.fromarray(arr).save(tmp_path / split / c / f"{i}.png")
    d = load_data("imagefolder", data_dir=tmp_path, resolution=24)
    assert d.train.x.shape == (12, 3, 24, 24) and len(d.test) == 6
    assert d.classes == ("cat", "dog", "emu") and d.num_classes == 3
    assert torch.bincount(d.test.y).tolist() == [2, 2, 2]
    # a single tree (no train/val) holds out a stratified fraction
    one = load_data(str(tmp_path / "train"), resolution=8)
    assert len(one.train) + len(one.test) == 12 and one.resolution == 8
    assert sorted(set(one.test.y.tolist())) == [0, 1, 2]


def test_balanced_seeded_subsets_and_val_split():
    y = torch.arange(1000) % 10
    g = torch.Generator().manual_seed(0)
    idx = balanced_subset(y, 95, g)
    counts = torch.bincount(y[idx], minlength=10)
    assert len(idx) == 95 and counts.max() - counts.min() <= 1
    d1 = load_data("synthetic", train_size=200, val_size=50, test_size=100, seed=3)
    d2 = load_data("synthetic", train_size=200, val_size=50, test_size=100, seed=3)
    assert torch.equal(d1.train.x, d2.train.x) and torch.equal(d1.val.y, d2.val.y)
    assert len(d1.train) == 200 and len(d1.val) == 50 and d1.eval_split == "val"
    assert torch.bincount(d1.val.y).tolist() == [5] * 10
    d3 = load_data("synthetic", train_size=200, test_size=100, seed=4)
    assert not torch.equal(d1.train.x, d3.train.x)
    with pytest.raises(ValueError, match="train_size"):
        load_data("synthetic", train_size=-5)
    with pytest.raises(ValueError, match="only"):
        from_tensors(torch.zeros(4, 1, 8, 8, dtype=torch.uint8), torch.arange(4),
                     torch.zeros(2, 1, 8, 8, dtype=torch.uint8), torch.arange(2))  # ok
        balanced_subset(torch.arange(4), 9, g)


def test_fashion_mnist_real_files_balanced_and_normalised():
    d = load_data("fashion-mnist", train_size=1000, test_size=500, seed=0)
    assert d.train.x.shape == (1000, 1, 28, 28) and d.num_classes == 10
    assert torch.bincount(d.train.y).tolist() == [100] * 10
    assert torch.bincount(d.test.y).tolist() == [50] * 10
    assert d.classes[9] == "Ankle boot" and d.flip
    m, s = d.mean[0], d.std[0]                     # Fashion-MNIST: ~0.286 / ~0.353
    assert 0.25 < m < 0.33 and 0.30 < s < 0.40
    dev = d.on("cpu")
    x = (d.train.x.float() - dev.mean) / dev.std
    assert abs(float(x.mean())) < 1e-4 and abs(float(x.std()) - 1) < 1e-3


def test_vectorised_crop_and_flip_match_a_per_sample_reference():
    x = torch.randint(0, 256, (16, 2, 8, 8), dtype=torch.uint8)
    d = from_tensors(x, torch.arange(16) % 4, x[:4], torch.arange(4), flip=True, crop_pad=2)
    dev = d.on("cpu")
    idx = torch.tensor([3, 0, 7, 7, 15])
    g = torch.Generator().manual_seed(5)
    out = augment(dev, idx, g)
    assert out.shape == (5, 2, 8, 8) and out.dtype == torch.float32
    assert out.is_contiguous(memory_format=torch.channels_last)
    # replay the same random draws per sample
    g = torch.Generator().manual_seed(5)
    off = torch.randint(0, 5, (2, 5), generator=g)
    flip = torch.rand(5, generator=g) < 0.5
    padded = torch.nn.functional.pad(x, (2, 2, 2, 2))
    for k, i in enumerate(idx.tolist()):
        ref = padded[i, :, off[0, k]:off[0, k] + 8, off[1, k]:off[1, k] + 8]
        if flip[k]:
            ref = ref.flip(2)
        ref = (ref.float() - dev.mean[0]) / dev.std[0]
        assert torch.equal(out[k], ref)
    plain = augment(dev, idx, None, train=False)   # no augmentation: the images themselves
    assert torch.equal(plain, (x[idx].float() - dev.mean) / dev.std)
    order = batch_indices(10, 4, torch.Generator().manual_seed(0), torch.device("cpu"))
    assert order.shape == (2, 4) and len(set(order.flatten().tolist())) == 8


def _write_cifar(folder: Path, n: int = 10) -> Path:
    rng = np.random.default_rng(3)
    folder.mkdir(parents=True)
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        batch = {b"labels": [int(v) for v in rng.integers(0, 10, n)],
                 b"data": rng.integers(0, 256, (n, 3072), dtype=np.uint8)}
        with open(folder / name, "wb") as f:
            pickle.dump(batch, f)
    return folder


@pytest.mark.parametrize("damage, match", [
    (lambda p: p.write_bytes(b"garbage, not gzip"), "cannot be read .*BadGzipFile"),
    (lambda p: p.write_bytes(p.read_bytes()[:-9]), "cannot be read .*truncated"),
    (lambda p: p.write_bytes(gzip.compress(b"\0\0\x08\x03\0\0")), "IDX header cut short"),
    (lambda p: p.write_bytes(gzip.compress(gzip.decompress(p.read_bytes())[:-100])),
     r"header says shape \(60, 28, 28\)"),
    (lambda p: p.write_bytes(gzip.compress(b"\0\0\x07\x01\0\0\0\x01\0")), "unknown IDX data type"),
])
def test_damaged_idx_files_are_data_errors(fake_idx, damage, match):
    damage(fake_idx / "train-images-idx3-ubyte.gz")
    with pytest.raises(DataError, match=match) as e:
        load_data("fashion-mnist", data_dir=fake_idx)
    assert "\n" not in str(e.value) and "train-images" in str(e.value)


def test_idx_files_that_disagree_are_data_errors(fake_idx):
    _write_idx(fake_idx / "t10k-labels-idx1-ubyte.gz", np.arange(19) % 10)
    with pytest.raises(DataError, match="20 test images but 19 labels"):
        load_data("fashion-mnist", data_dir=fake_idx)
    _write_idx(fake_idx / "t10k-labels-idx1-ubyte.gz", np.zeros((20, 2)))
    with pytest.raises(DataError, match=r"labels must be integers of shape \(N,\)"):
        load_data("fashion-mnist", data_dir=fake_idx)
    with pytest.raises(DataNotFoundError, match="does not exist"):
        read_idx(fake_idx / "nothing.gz")


@pytest.mark.parametrize("content, match", [
    (b"not a pickle", "is not a CIFAR-10 python batch .*UnpicklingError"),
    (pickle.dumps([1, 2, 3]), "a list, not a dict"),
    (pickle.dumps({b"data": np.zeros((2, 3072), np.uint8)}), "no labels entry"),
    (pickle.dumps({b"data": np.zeros((2, 100), np.uint8), b"labels": [0, 1]}),
     r"shape \(N, 3072\)"),
    (pickle.dumps({b"data": np.zeros((2, 3072), np.uint8), b"labels": [0]}), "expected 2 labels"),
    (pickle.dumps({b"data": np.zeros((2, 3072), np.uint8), b"labels": ["a", "b"]}),
     "unreadable data or labels"),
])
def test_bad_cifar_batches_are_data_errors(tmp_path, content, match):
    folder = _write_cifar(tmp_path / "cifar-10-batches-py")
    (folder / "data_batch_3").write_bytes(content)
    with pytest.raises(DataError, match=match) as e:
        load_data("cifar10", data_dir=folder)
    assert "\n" not in str(e.value)


def test_cifar10_is_read_only_from_a_folder_named_explicitly(tmp_path, monkeypatch):
    folder = _write_cifar(tmp_path / "cifar-10-batches-py")
    monkeypatch.delenv("REGNET_SPACE_CIFAR10", raising=False)
    monkeypatch.setenv("REGNET_SPACE_DATA", str(tmp_path))  # a data root is never searched
    with pytest.raises(DataNotFoundError, match="read only from a folder you name"):
        load_data("cifar10")
    monkeypatch.setenv("REGNET_SPACE_CIFAR10", str(folder))
    assert load_data("cifar10").source == str(folder)
    monkeypatch.setenv("REGNET_SPACE_CIFAR10", str(tmp_path / "gone"))
    with pytest.raises(DataNotFoundError, match=r"gone \(\$REGNET_SPACE_CIFAR10\) does not exist"):
        load_data("cifar10")


def test_named_locations_never_fall_back_to_the_default_copy(fake_idx, tmp_path, monkeypatch):
    monkeypatch.delenv("REGNET_SPACE_DATA", raising=False)
    monkeypatch.setenv("REGNET_SPACE_FASHION_MNIST", str(tmp_path / "typo"))
    with pytest.raises(DataNotFoundError, match=r"typo \(\$REGNET_SPACE_FASHION_MNIST\) does not "
                                                "exist. Install it with"):
        load_data("fashion-mnist")
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.setenv("REGNET_SPACE_FASHION_MNIST", str(empty))
    with pytest.raises(DataNotFoundError, match="fashion-mnist not found; looked in: .*empty"):
        load_data("fashion-mnist")
    monkeypatch.delenv("REGNET_SPACE_FASHION_MNIST")
    monkeypatch.setenv("REGNET_SPACE_DATA", str(tmp_path / "no-root"))
    with pytest.raises(DataNotFoundError, match=r"no-root \(\$REGNET_SPACE_DATA\) does not exist"):
        load_data("fashion-mnist")
    monkeypatch.delenv("REGNET_SPACE_DATA")
    file = fake_idx / "train-images-idx3-ubyte.gz"
    with pytest.raises(DataNotFoundError, match=r"\(--data-dir\) is not a folder"):
        load_data("fashion-mnist", data_dir=file)
    with pytest.raises(DataNotFoundError, match="data folder .*missing does not exist"):
        load_data(str(tmp_path / "missing"))
    with pytest.raises(ConfigError, match="name the folder once"):
        load_data(str(fake_idx), data_dir=fake_idx)
    # the data root is shared by several sets: a set missing under it is looked for by default
    monkeypatch.setenv("REGNET_SPACE_DATA", str(empty))
    monkeypatch.setitem(DATASETS, "fashion-mnist", replace(DATASETS["fashion-mnist"],
                                                           default=fake_idx))
    assert load_data("fashion-mnist").source == str(fake_idx)


def test_a_new_data_set_is_one_registry_entry(tmp_path, monkeypatch):
    def read(req: Request) -> Loaded:
        toy = synthetic(12, 6, resolution=8, num_classes=3, seed=req.seed)
        return Loaded(toy.train, toy.test, str(req.folder))

    (tmp_path / "toy").mkdir()
    (tmp_path / "toy" / "TOY").write_text("")
    ds = register(Dataset("toy", ("toy-set",), read, flip=False, how="Make one with `toy init`.",
                          env="REGNET_SPACE_TOY", subdirs=("toy",),
                          detect=lambda f: (f / "TOY").is_file(), classes=("a", "b", "c")))
    try:
        assert get_dataset("TOY-SET") is ds
        with pytest.raises(ConfigError, match="already registered"):
            register(ds)
        monkeypatch.setenv("REGNET_SPACE_DATA", str(tmp_path))
        d = load_data("Toy-Set")
        assert d.source == str(tmp_path / "toy") and d.classes == ("a", "b", "c") and not d.flip
        monkeypatch.delenv("REGNET_SPACE_DATA")
        with pytest.raises(DataNotFoundError, match="toy not found.*Make one with `toy init`"):
            load_data("toy")
        assert load_data(str(tmp_path / "toy")).name == "toy"   # recognised as a folder
    finally:
        DATASETS.pop("toy")
    assert all(d.how or not d.needs_folder for d in DATASETS.values())
