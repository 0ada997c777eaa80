"""Every file the package writes goes through here: atomic, fsynced, never through a stray link.

:func:`atomic_write` writes to a temporary file in the target's folder, fsyncs it and renames it
into place with :func:`os.replace`, so a failure at any point (a full disk, a killed process, a
bug in the writer) leaves the previous file byte-identical and no partial file behind.
:func:`check_target` is the policy every command applies before writing: a folder is not a file,
an existing file needs ``force``, and a path that resolves (through a symbolic link) outside its
output folder is refused. :func:`check_seed` and :func:`check_int` are the range checks of the
numbers users pass (seeds, counts, seconds), so a huge value fails up front with its name.

Example:
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> atomic_write(d / "a.txt", "hello\\n").read_text()
    'hello\\n'
    >>> atomic_write(d / "a.txt", lambda tmp: tmp.write_text("bye\\n")).read_text()
    'bye\\n'
    >>> sorted(p.name for p in d.iterdir())  # no temporary file left behind
    ['a.txt']
"""

from __future__ import annotations

import math
import os
import tempfile
from os import PathLike
from pathlib import Path
from typing import Any, Callable

from .errors import ConfigError

#: The largest seed accepted anywhere: numpy's legacy generators, torch and Python's random all
#: take it, so one seed means the same thing to all of them.
MAX_SEED = 2**32 - 1


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # not every platform opens folders
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def atomic_write(path: str | PathLike, data: str | bytes | Callable[[Path], Any], *,
                 encoding: str = "utf-8") -> Path:
    """Write ``data`` (text, bytes, or ``fn(tmp_path)`` that writes the file) to ``path`` atomically.

    The temporary file sits in the same folder (same file system, so the rename is atomic); it is
    fsynced before :func:`os.replace` and removed on any failure, which then propagates. Parent
    folders are created. Returns ``path``.

    Example:
        >>> import tempfile, pathlib
        >>> p = pathlib.Path(tempfile.mkdtemp()) / "sub" / "b.bin"
        >>> atomic_write(p, b"\\x00\\x01").read_bytes()
        b'\\x00\\x01'
    """
    path = Path(path)
    if path.is_dir():
        raise ConfigError(f"{path} is a folder; give a file name")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    tmp = Path(name)
    try:
        if callable(data):
            os.close(fd)
            fd = -1
            data(tmp)
            with open(tmp, "rb+") as f:
                os.fsync(f.fileno())
        else:
            blob = data.encode(encoding) if isinstance(data, str) else bytes(data)
            with os.fdopen(fd, "wb") as f:
                fd = -1
                f.write(blob)
                f.flush()
                os.fsync(f.fileno())
        if path.exists():  # keep the permissions of the file we replace
            try:
                os.chmod(tmp, path.stat().st_mode & 0o7777)
            except OSError:
                pass
        else:
            os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        if fd >= 0:
            os.close(fd)
        tmp.unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)
    return path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def check_target(path: str | PathLike, *, force: bool = False, root: str | PathLike | None = None,
                 flag: str = "--out") -> Path:
    """The checks before writing ``path``: not a folder, not an existing file unless ``force``,
    and (with ``root``, the output folder) not a link that leads outside ``root``.

    Raises :class:`~regnet_space.errors.ConfigError` saying what to do.

    Example:
        >>> import tempfile, pathlib
        >>> d = pathlib.Path(tempfile.mkdtemp())
        >>> check_target(d / "new.csv").name
        'new.csv'
        >>> check_target(d)
        Traceback (most recent call last):
        ...
        regnet_space.errors.ConfigError: --out ... is a folder; give a file name
    """
    path = Path(path)
    if path.is_dir():
        raise ConfigError(f"{flag} {path} is a folder; give a file name")
    if root is not None:
        base = Path(root).resolve()
        real = path.resolve()
        if real != base and base not in real.parents:
            raise ConfigError(f"{path} leads outside {root} (a symbolic link to {real}); remove "
                              "the link or choose another folder")
    if (path.exists() or path.is_symlink()) and not force:
        raise ConfigError(f"{flag} {path} exists; pass --force to overwrite it")
    return path


def check_int(value: Any, name: str, low: int, high: int | None = None) -> int:
    """``value`` as an int in ``[low, high]``, else a ConfigError naming ``name`` and the range.

    Example:
        >>> check_int(3, "--bins", 1, 1000)
        3
        >>> check_int(10**30, "--bins", 1, 1000)
        Traceback (most recent call last):
        ...
        regnet_space.errors.ConfigError: --bins must be an integer in [1, 1000], got 1000000000000000000000000000000
    """
    allowed = f"[{low}, {high}]" if high is not None else f">= {low}"
    ok = isinstance(value, int) and not isinstance(value, bool)
    if not ok and hasattr(value, "__index__") and not isinstance(value, bool):
        try:
            value, ok = int(value.__index__()), True
        except TypeError:
            ok = False
    if not ok and isinstance(value, float) and math.isfinite(value) and value.is_integer():
        value, ok = int(value), True
    if not ok or value < low or (high is not None and value > high):
        raise ConfigError(f"{name} must be an integer {'in ' if high is not None else ''}"
                          f"{allowed}, got {value!r}")
    return value


def check_seed(seed: Any, name: str = "seed", *, none_ok: bool = True) -> int | None:
    """A seed as an int in ``[0, 2**32 - 1]`` (None passes when ``none_ok``).

    Example:
        >>> check_seed(7), check_seed(None)
        (7, None)
        >>> check_seed(-1)
        Traceback (most recent call last):
        ...
        regnet_space.errors.ConfigError: seed must be an integer in [0, 4294967295], got -1
    """
    if seed is None and none_ok:
        return None
    return check_int(seed, name, 0, MAX_SEED)


__all__ = ["MAX_SEED", "atomic_write", "check_int", "check_seed", "check_target"]
