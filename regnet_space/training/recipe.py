"""How a candidate is trained: :class:`TrainSettings`, the named presets, and the learning rate.

Every knob is a field of the frozen :class:`TrainSettings`, validated on construction, and
carries its own command-line metadata (``help``, ``flag``), so ``regnet-space train``, ``sweep``,
``nni-config`` and the NNI trial all generate the same options from this one place: adding a knob
means adding a field here (and using it in :mod:`regnet_space.training.evaluator`).

Presets (:data:`PRESETS`) are named recipes. Each holds training settings and the data subset the
recipe was tuned for (``train_size``, ``test_size``; used wherever the data set is loaded from
options: the CLI, sweeps, the NNI trial and the NAS evaluator):

* ``brief`` (the default): the brief-training recipe whose optimiser was chosen by the recipe sweep
  on Fashion-MNIST (``benchmarks/recipe_sweep.py``) and whose length was chosen by its rank
  fidelity against a recipe 4.8x longer (``benchmarks/rank_fidelity.py``; docs/recipe.md).
* ``reference``: the long recipe that rank fidelity is measured against.
* ``paper``: the paper's section-3 population regime exactly (SGD 0.9, batch 128, cosine from
  lr 0.05, weight decay 5e-5, 10 epochs, pycls's initialisation, no warm-up, all the data).
* ``section4``: the paper's section-4 regime (``paper`` with 25 epochs at lr 0.1).
* ``smoke``: one short epoch of ``brief`` for smoke tests.

Two deliberate differences from pycls in ``brief``: the last BN of every residual block starts at
gamma 0 (``init="zero_last_bn"``, timm's default; pycls's init, ``init="pycls"``, lets deep narrow
networks blow up in their first steps, so a short run leaves them at chance) and a linear warm-up
over the first ``warmup`` fraction of steps (pycls's warm-up, counted in steps because brief runs
last one or two epochs).

Example:
    >>> s = TrainSettings.from_preset("section4", seed=3)
    >>> (s.epochs, s.lr, s.init, s.seed, s.preset)
    (25, 0.1, 'pycls', 3, 'section4')
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any, Mapping

from ..errors import ConfigError

#: Initialisations :func:`regnet_space.nn.build_model` knows.
INITS = ("zero_last_bn", "pycls")
#: Settings that change how fast a run is, not its result (workers of one sweep may differ).
HARDWARE_FIELDS = ("device", "amp", "channels_last", "compile", "threads", "eval_batch_size",
                   "deterministic", "cudnn_benchmark")


def _opt(default: Any, help: str, *, flag: str | None = None, cli: bool = True,
         choices: tuple | None = None) -> Any:
    """A dataclass field with its command-line metadata."""
    return field(default=default, metadata={"help": help, "flag": flag, "cli": cli,
                                            "choices": choices})


@dataclass(frozen=True)
class TrainSettings:
    """How to train a candidate; every field is validated (a :class:`ConfigError` names it).

    The defaults are the ``brief`` preset's training settings. Build other recipes with
    :meth:`from_preset` (a named preset plus overrides) or :meth:`replace`.

    Example:
        >>> s = TrainSettings(lr=0.2)
        >>> s.lr, s.init, TrainSettings.from_preset("paper").init
        (0.2, 'zero_last_bn', 'pycls')
    """

    epochs: int = _opt(3, "full passes over the training subset")
    lr: float = _opt(0.2, "initial learning rate of the half-period cosine")
    weight_decay: float = _opt(5e-4, "L2 weight decay on every parameter", flag="--wd")
    momentum: float = _opt(0.9, "SGD momentum")
    nesterov: bool = _opt(False, "Nesterov momentum")
    batch_size: int = _opt(32, "training images per step")
    label_smoothing: float = _opt(0.0, "cross-entropy label smoothing in [0, 1)")
    warmup: float = _opt(0.1, "fraction of the steps with a linear learning-rate warm-up "
                         "(from warmup_factor x lr); 0 = none")
    warmup_factor: float = _opt(0.1, "learning-rate factor at the first warm-up step")
    init: str = _opt("zero_last_bn", "weight init: zero_last_bn (pycls + last BN gamma of each "
                     "residual block at 0, as timm) or pycls (pycls's own)", choices=INITS)
    augment: bool = _opt(True, "pad-4 random crop and horizontal flip on training batches")
    diverge_factor: float = _opt(5.0, "a training or held-out loss above this many times "
                                 "ln(classes), or a non-finite one, ends the run as 'diverged'")
    seed: int = _opt(0, "training seed: init, batch order, augmentation")
    seeds: int = _opt(1, "train this many seeds (seed, seed+1, ...) and report their mean "
                      "error and its sd (error_sd); costs seeds x the compute")
    device: str = _opt("auto", "auto (CUDA when available), cpu, cuda or cuda:N")
    amp: bool = _opt(True, "bf16 autocast on CUDA (ignored on CPU)")
    channels_last: bool = _opt(True, "channels-last memory format", cli=False)
    compile: bool = _opt(False, "torch.compile the model")
    threads: int | None = _opt(None, "CPU threads of this run (default: its share of the cores "
                               "among this package's runs on the machine; give it for "
                               "bit-reproducible CPU results)")
    eval_batch_size: int = _opt(1000, "batch size of the held-out evaluation", cli=False)
    deterministic: bool = _opt(False, "deterministic CUDA kernels (slower; CPU runs are "
                               "deterministic anyway)")
    cudnn_benchmark: bool = _opt(True, "let cuDNN time its algorithms for each new layer shape "
                                 "(CUDA only; see BENCHMARKS.md for what it costs brief runs)",
                                 cli=False)
    preset: str = _opt("brief", "the preset these settings came from", cli=False)

    def __post_init__(self) -> None:
        for name, low in (("epochs", 1), ("batch_size", 1), ("eval_batch_size", 1), ("seed", 0),
                          ("seeds", 1)):
            object.__setattr__(self, name, _integer(name, getattr(self, name), low))
        if self.seed > 2**32 - 1:  # torch, numpy and random all take it
            raise ConfigError(f"seed must be an integer in [0, 4294967295], got {self.seed}")
        if self.seeds > 64 or self.seed + self.seeds - 1 > 2**32 - 1:
            raise ConfigError(f"seeds must be an integer in [1, 64] with seed + seeds - 1 <= "
                              f"4294967295, got seeds={self.seeds} at seed={self.seed}")
        if self.threads is not None:
            object.__setattr__(self, "threads", _integer("threads", self.threads, 1))
        for name, lo, hi, lo_open, hi_open in (
                ("lr", 0.0, math.inf, True, True), ("weight_decay", 0.0, math.inf, False, True),
                ("momentum", 0.0, 1.0, False, True), ("label_smoothing", 0.0, 1.0, False, True),
                ("warmup", 0.0, 1.0, False, True), ("warmup_factor", 0.0, 1.0, True, False),
                ("diverge_factor", 1.0, math.inf, True, True)):
            object.__setattr__(self, name, _number(name, getattr(self, name), lo, hi,
                                                   lo_open, hi_open))
        for name in ("nesterov", "augment", "amp", "channels_last", "compile", "deterministic",
                     "cudnn_benchmark"):
            v = getattr(self, name)
            if not isinstance(v, (bool, int)) or v not in (0, 1):
                raise ConfigError(f"{name} must be true or false, got {v!r}")
            object.__setattr__(self, name, bool(v))
        if self.nesterov and self.momentum == 0:
            raise ConfigError("nesterov needs momentum > 0")
        init = str(self.init).strip().lower().replace("-", "_")
        if init not in INITS:
            raise ConfigError(f"init must be one of {', '.join(INITS)}, got {self.init!r}")
        object.__setattr__(self, "init", init)
        dev = str(self.device).strip().lower()
        if dev not in ("auto", "cpu") and not _is_cuda_spec(dev):
            raise ConfigError(f"device must be auto, cpu, cuda or cuda:N, got {self.device!r}")
        object.__setattr__(self, "device", dev)

    @classmethod
    def from_preset(cls, name: str = "brief", **overrides: Any) -> "TrainSettings":
        """A named recipe (:data:`PRESETS`) with overrides; None values are ignored.

        Example:
            >>> TrainSettings.from_preset("paper", epochs=1).epochs
            1
        """
        key = preset_key(name)
        known = {f.name for f in fields(cls)}
        extra = sorted(set(overrides) - known)
        if extra:
            raise ConfigError(f"unknown training setting(s) {extra}; allowed: {sorted(known)}")
        kw = {**PRESETS[key]["settings"], "preset": key}
        kw.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**kw)

    def replace(self, **changes: Any) -> "TrainSettings":
        return replace(self, **changes)

    def to_dict(self) -> dict:
        return asdict(self)

    def recipe(self) -> dict:
        """The fields that change the result (not the hardware ones): what a resumed sweep
        must share with the study it joins.

        Example:
            >>> "threads" in TrainSettings().recipe(), "lr" in TrainSettings().recipe()
            (False, True)
        """
        return {k: v for k, v in asdict(self).items() if k not in HARDWARE_FIELDS}

    def describe(self) -> str:
        """One line saying what is trained and how (printed by ``train`` and sweeps).

        Example:
            >>> TrainSettings().describe()  # doctest: +ELLIPSIS
            'recipe brief: 3 epochs, SGD lr 0.2 ... batch 32, warm-up 10% from 0.1x, init zero_last_bn'
        """
        warm = (f"warm-up {self.warmup:.0%} from {self.warmup_factor:g}x" if self.warmup
                else "no warm-up")
        seeds = f", mean of {self.seeds} seeds" if self.seeds > 1 else ""
        return (f"recipe {self.preset}: {self.epochs} epochs, SGD lr {self.lr:g} (cosine) "
                f"momentum {self.momentum:g}, wd {self.weight_decay:g}, batch {self.batch_size}, "
                f"{warm}, init {self.init}{seeds}")


def _integer(name: str, v: Any, low: int) -> int:
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    if isinstance(v, bool) or not isinstance(v, int) or v < low:
        raise ConfigError(f"{name} must be an integer >= {low}, got {v!r}")
    return v


def _number(name: str, v: Any, low: float, high: float, low_open: bool, high_open: bool) -> float:
    try:
        x = float(v)
    except (TypeError, ValueError):
        raise ConfigError(f"{name} must be a number, got {v!r}") from None
    if (not math.isfinite(x) or x < low or (low_open and x == low) or x > high
            or (high_open and x == high)):
        lo = f"{'>' if low_open else '>='} {low:g}"
        hi = "" if high == math.inf else f" and {'<' if high_open else '<='} {high:g}"
        raise ConfigError(f"{name} must be a finite number {lo}{hi}, got {v!r}")
    return x


def _is_cuda_spec(dev: str) -> bool:
    if dev == "cuda":
        return True
    head, _, idx = dev.partition(":")
    return head == "cuda" and idx.isdigit()


#: Validation images of ``brief`` and ``reference``: carved from the training split before the
#: training subset (so disjoint from every training subset of any size), scored after every epoch
#: (curves, the divergence rule, pruners, incumbents); the test split is scored once at the end.
#: 5,000 keeps the validation error's binomial noise (about 0.006 at error 0.22) below the seed
#: noise, at half the cost of the per-epoch pass over the 10,000 test images it replaces.
VAL_SIZE = 5000

#: Named recipes: training settings plus the data subset each was tuned for (None = all; a
#: missing ``val_size`` = no validation split, ranked by test error).
PRESETS: dict[str, dict[str, Any]] = {
    "brief": {"settings": {}, "data": {"train_size": 10000, "val_size": VAL_SIZE,
                                       "test_size": None},
              "help": "the default: tuned by the recipe sweep, rank fidelity measured"},
    "reference": {"settings": {"epochs": 12}, "data": {"train_size": 12000, "val_size": VAL_SIZE,
                                                       "test_size": None},
                  "help": "4.8x brief's compute: what rank fidelity is measured against"},
    "paper": {"settings": {"epochs": 10, "lr": 0.05, "weight_decay": 5e-5, "batch_size": 128,
                           "warmup": 0.0, "init": "pycls"},
              "data": {"train_size": None, "test_size": None},
              "help": "section 3 of the paper: 10 epochs, lr 0.05, batch 128, pycls init"},
    "section4": {"settings": {"epochs": 25, "lr": 0.1, "weight_decay": 5e-5, "batch_size": 128,
                              "warmup": 0.0, "init": "pycls"},
                 "data": {"train_size": None, "test_size": None},
                 "help": "section 4 of the paper: 25 epochs at lr 0.1, pycls init"},
    "smoke": {"settings": {"epochs": 1}, "data": {"train_size": 1000, "test_size": 500},
              "help": "one short epoch of brief (smoke tests)"},
}
_ALIASES = {"default": "brief", "section3": "paper", "sec3": "paper", "sec4": "section4",
            "long": "reference", "quick": "smoke"}


def preset_key(name: str | None) -> str:
    """The canonical preset name of ``name`` or an alias; a ConfigError listing them."""
    key = str(name or "brief").strip().lower().replace("-", "").replace("_", "")
    key = _ALIASES.get(key, key)
    if key not in PRESETS:
        raise ConfigError(f"unknown preset {name!r}; known: {', '.join(PRESETS)}")
    return key


def preset_data(name: str | None) -> dict[str, int | None]:
    """The data subset a preset was tuned for: ``{"train_size": ..., "test_size": ...}``.

    Example:
        >>> preset_data("brief")
        {'train_size': 10000, 'val_size': 5000, 'test_size': None}
        >>> preset_data("paper")
        {'train_size': None, 'val_size': None, 'test_size': None}
    """
    d = PRESETS[preset_key(name)]["data"]
    return {k: d.get(k) for k in ("train_size", "val_size", "test_size")}


def as_settings(settings: "TrainSettings | Mapping | str | None" = None,
                **overrides: Any) -> TrainSettings:
    """TrainSettings from settings, a dict, a preset name or None (``brief``), plus overrides.

    Example:
        >>> as_settings("paper", epochs=2).epochs, as_settings({"preset": "smoke"}).epochs
        (2, 1)
    """
    if settings is None:
        return TrainSettings.from_preset("brief", **overrides)
    if isinstance(settings, str):
        return TrainSettings.from_preset(settings, **overrides)
    if isinstance(settings, Mapping):
        d = dict(settings)
        return TrainSettings.from_preset(d.pop("preset", "brief"), **{**d, **overrides})
    if isinstance(settings, TrainSettings):
        over = {k: v for k, v in overrides.items() if v is not None}
        return replace(settings, **over) if over else settings
    raise ConfigError(f"settings must be TrainSettings, a dict or a preset name, got "
                      f"{type(settings).__name__}")


def cosine_lr(base: float, step: int, total: int) -> float:
    """Half-period cosine: ``base`` at step 0, falling to 0 at step ``total``.

    Example:
        >>> cosine_lr(0.1, 0, 10), round(cosine_lr(0.1, 5, 10), 6)
        (0.1, 0.05)
    """
    return 0.5 * base * (1.0 + math.cos(math.pi * step / max(total, 1)))


def lr_at(s: TrainSettings, step: int, total: int) -> float:
    """The learning rate of ``step`` (of ``total``): the cosine times pycls's linear warm-up
    factor, which rises from ``warmup_factor`` to 1 over the first ``warmup * total`` steps.

    Example:
        >>> s = TrainSettings(lr=0.1, warmup=0.5, warmup_factor=0.1)
        >>> [round(lr_at(s, t, 4), 4) for t in range(4)]
        [0.01, 0.0469, 0.05, 0.0146]
    """
    lr = cosine_lr(s.lr, step, total)
    w = s.warmup * total
    if step < w:
        a = step / w
        lr *= s.warmup_factor * (1 - a) + a
    return lr


def cli_fields() -> list:
    """The TrainSettings fields that are command-line options (dataclass Field objects)."""
    return [f for f in fields(TrainSettings) if f.metadata.get("cli", False)]


__all__ = ["HARDWARE_FIELDS", "INITS", "PRESETS", "TrainSettings", "as_settings", "cli_fields", "cosine_lr",
           "lr_at", "preset_data", "preset_key"]
