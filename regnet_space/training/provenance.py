"""Where a result came from: package version, git commit, torch, recipe, instruction sets, device.

Every exported row carries these fields (``EvalResult``, the Optuna trial's user attribute
``provenance``, the NNI trial's final result, and the population tables made from them), so a
number can be traced to the code and the machine that produced it. Gathering never fails and is
cheap: the git commit is asked once per process (``git rev-parse`` in the package's folder; None
when the package is not a git checkout), and torch is never imported here (its version comes from
the installed metadata; the CPU capability and a GPU's name only when torch is already loaded).

Example:
    >>> p = Provenance(package_version="0.2.0", git_commit=None, torch_version="2.14.1",
    ...                recipe="brief", cpu_capability="AVX2", device_name="AMD EPYC")
    >>> p.as_dict()["recipe"], from_mapping({"recipe": "paper", "other": 1}).recipe
    ('brief', 'paper')
    >>> gather(recipe="brief").package_version == __import__("regnet_space").__version__
    True
"""

from __future__ import annotations

import functools
import subprocess
import sys
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any, Mapping

#: The provenance fields, in the order the tables write them.
FIELDS = ("package_version", "git_commit", "torch_version", "recipe", "cpu_capability",
          "onednn_isa", "device_name")

#: oneDNN's CPU instruction-set levels, lowest first (the names ``ONEDNN_MAX_CPU_ISA`` takes).
ONEDNN_ISAS = ("sse41", "avx", "avx2", "avx2_vnni", "avx512_core", "avx512_core_vnni",
               "avx512_core_bf16", "avx512_core_fp16", "avx512_core_amx")


@dataclass(frozen=True)
class Provenance:
    """Which code, library and machine produced a result (None: not known here)."""

    package_version: str | None = None
    git_commit: str | None = None
    torch_version: str | None = None
    recipe: str | None = None
    cpu_capability: str | None = None
    onednn_isa: str | None = None
    device_name: str | None = None

    def as_dict(self) -> dict[str, str | None]:
        return asdict(self)


def from_mapping(d: Mapping[str, Any] | None) -> Provenance:
    """The provenance fields of a mapping (a row, a result dict); others are ignored."""
    d = d or {}
    return Provenance(**{f.name: (None if d.get(f.name) is None else str(d.get(f.name)))
                         for f in fields(Provenance)})


@functools.lru_cache(maxsize=None)
def git_commit(folder: str | None = None) -> str | None:
    """The commit checked out where the package lives, or None (not a checkout, no git).

    Only when the package's own ``__init__.py`` is tracked there: an installed copy inside some
    other repository (a virtual environment in a project) gets None, not that project's commit.
    """
    where = Path(folder) if folder else Path(__file__).resolve().parent.parent
    try:
        tracked = subprocess.run(["git", "-C", str(where), "ls-files", "--error-unmatch",
                                  "__init__.py"], capture_output=True, timeout=5)
        if tracked.returncode != 0:
            return None
        out = subprocess.run(["git", "-C", str(where), "rev-parse", "HEAD"],
                             capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return None
    commit = out.stdout.strip()
    return commit if out.returncode == 0 and commit else None


@functools.lru_cache(maxsize=None)
def torch_version() -> str | None:
    """torch's ``__version__`` (e.g. ``2.14.1+cu130``) read from its files, without importing
    it; None when torch is not installed."""
    import importlib.util
    import re

    try:
        spec = importlib.util.find_spec("torch")
        if spec is None or not spec.origin:
            return None
        text = (Path(spec.origin).parent / "version.py").read_text()
    except (ImportError, ValueError, OSError):
        return None
    m = re.search(r"^__version__\s*=\s*['\"]([^'\"]+)['\"]", text, re.M)
    return m.group(1) if m else None


def onednn_isa(flags: set[str] | None = None, cap: str | None = None) -> str | None:
    """The instruction set oneDNN's convolutions run with here: the best level the CPU has
    (``/proc/cpuinfo`` flags) capped by ``$ONEDNN_MAX_CPU_ISA`` (or ``$DNNL_MAX_CPU_ISA``);
    None off Linux/x86. oneDNN reads the cap once, when its first kernel is made, so set it
    before the process trains (``ONEDNN_MAX_CPU_ISA=AVX2 regnet-space train ...``).

    Example:
        >>> onednn_isa({"avx", "avx2", "avx512f", "avx512bw", "avx512vl", "avx512dq"}, "ALL")
        'avx512_core'
        >>> onednn_isa({"avx", "avx2", "avx512f", "avx512bw", "avx512vl", "avx512dq"}, "AVX2")
        'avx2'
    """
    import os

    if flags is None:
        flags = _cpu_flags()
    if not flags:
        return None
    have = "sse41" if "sse4_1" in flags or "avx" in flags else None
    for isa, need in (("avx", {"avx"}), ("avx2", {"avx2"}), ("avx2_vnni", {"avx2", "avx_vnni"}),
                      ("avx512_core", {"avx512f", "avx512bw", "avx512vl", "avx512dq"}),
                      ("avx512_core_vnni", {"avx512f", "avx512bw", "avx512vl", "avx512_vnni"}),
                      ("avx512_core_bf16", {"avx512f", "avx512bw", "avx512_bf16"}),
                      ("avx512_core_fp16", {"avx512f", "avx512bw", "avx512_fp16"}),
                      ("avx512_core_amx", {"avx512f", "amx_tile", "amx_bf16"})):
        if need <= flags:
            have = isa
    if have is None:
        return None
    if cap is None:
        cap = os.environ.get("ONEDNN_MAX_CPU_ISA") or os.environ.get("DNNL_MAX_CPU_ISA")
    cap = (cap or "all").strip().lower()
    if cap in ONEDNN_ISAS and ONEDNN_ISAS.index(cap) < ONEDNN_ISAS.index(have):
        return cap
    return have


@functools.lru_cache(maxsize=None)
def _cpu_flags() -> frozenset:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("flags"):
                return frozenset(line.split(":", 1)[1].split())
    except OSError:
        pass
    return frozenset()


@functools.lru_cache(maxsize=None)
def cpu_model() -> str | None:
    """The CPU's model name (``/proc/cpuinfo``, else :func:`platform.processor`)."""
    import platform

    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip() or None
    except OSError:
        pass
    return platform.processor() or platform.machine() or None


def gather(recipe: str | None = None, device: Any = None) -> Provenance:
    """This process's provenance for a run with ``recipe`` (a preset name) on ``device``."""
    from .. import __version__

    torch = sys.modules.get("torch")  # never imported here: an infeasible trial stays cheap
    capability = name = None
    dev = str(device) if device is not None else "cpu"
    if torch is not None:
        try:
            capability = str(torch.backends.cpu.get_cpu_capability())
            if dev.startswith("cuda") and torch.cuda.is_available():
                name = str(torch.cuda.get_device_name(torch.device(dev)))
        except Exception:  # noqa: BLE001 - provenance never fails a run
            pass
    if name is None and not dev.startswith("cuda"):
        name = cpu_model()
    return Provenance(package_version=__version__, git_commit=git_commit(),
                      torch_version=torch_version(),
                      recipe=None if recipe is None else str(recipe), cpu_capability=capability,
                      onednn_isa=None if dev.startswith("cuda") else onednn_isa(),
                      device_name=name)


__all__ = ["FIELDS", "ONEDNN_ISAS", "Provenance", "cpu_model", "from_mapping", "gather",
           "git_commit", "onednn_isa", "torch_version"]
