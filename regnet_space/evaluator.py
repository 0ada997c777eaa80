"""Brief training of one candidate: ``evaluate(config, data, settings) -> EvalResult``.

The recipe is the paper's population regime (Radosavovic et al. 2020, section 3; REFERENCE.md
section 6): SGD with momentum 0.9, batch 128, half-period cosine learning rate from 0.05, weight
decay 5e-5, 10 epochs. Every knob is a field of :class:`TrainSettings`; named presets hold the
paper's two regimes (:data:`PRESETS`: ``paper`` and ``section4`` = 25 epochs at lr 0.1).

What :func:`evaluate` does, and what it guarantees:

* The whole data set lives on the training device (:meth:`regnet_space.data.Data.on`); batches
  are drawn, cropped, flipped and normalised there with batched tensor ops, no per-sample Python.
* CUDA: data on the GPU, channels-last, bf16 autocast, optional ``torch.compile``,
  cuDNN autotuning. CPU: ``torch.set_num_threads`` to every core this process may use
  (restored afterwards), float32.
* The learning rate follows the half-period cosine per iteration: ``lr_t = lr / 2 * (1 + cos(pi *
  t / T))`` over all ``T`` steps (pycls steps it per epoch, which for 1-epoch runs would be a
  constant rate; per-iteration is the usual refinement and matches pycls at epoch boundaries).
* The ranking number is ``EvalResult.error``: top-1 error as a fraction in [0, 1]
  (pycls's ``top1_err`` / 100) on the held-out split, ``val`` when the data has one, else ``test``.
* A NaN or infinite training loss ends that run with status ``diverged``; CUDA (or CPU)
  out-of-memory gives ``oom`` (memory freed); any other exception inside training gives
  ``failed`` with the reason. Nothing raises into the caller after the inputs were validated, so
  one bad candidate never ends a sweep. Bad *inputs* (settings, a config that does not fit the
  data) raise ValueError up front.
* Determinism: on CPU a fixed seed gives the same result twice, bit for bit (same thread count and
  machine). On CUDA results are not bit-exact (cuDNN autotuning, atomics in backward, bf16): runs
  with one seed are expected to agree within seed-to-seed noise, not exactly; ``deterministic=True``
  asks PyTorch for deterministic kernels. The CUDA claim is untested (developed without a GPU).

Example:
    >>> from regnet_space.config import NetConfig
    >>> from regnet_space.data import load_data
    >>> cfg = NetConfig.from_lists([1, 1], [16, 32], gs=8, stem="small", stem_w=16,
    ...                            resolution=28, in_channels=1, num_classes=10)
    >>> r = evaluate(cfg, load_data("synthetic", train_size=256, test_size=128), epochs=1,
    ...              progress=False)
    >>> r.status, len(r.train_loss), r.flops == 928_586
    ('ok', 1, True)
"""

from __future__ import annotations

import contextlib
import gc
import json
import math
import os
import sys
import time
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any, Callable, Mapping

import torch
from torch import nn

from .complexity import complexity
from .config import NetConfig
from .data import Data, DeviceData, augment, batch_indices, load_data, normalize

STATUSES = ("ok", "diverged", "oom", "failed")

#: Named recipes. ``paper``: section 3's population regime; ``section4``: section 4's (25 epochs,
#: lr 0.1); ``quick``: one epoch of the paper recipe (smoke tests, demos).
PRESETS: dict[str, dict[str, Any]] = {
    "paper": {},
    "section4": {"epochs": 25, "lr": 0.1},
    "quick": {"epochs": 1},
}


# --------------------------------------------------------------------------------------- settings
@dataclass(frozen=True)
class TrainSettings:
    """How to train a candidate. Defaults are the paper's population recipe (REFERENCE.md 6).

    Fields:
        epochs: full passes over the training subset (>= 1).
        lr: initial learning rate of the half-period cosine (> 0).
        weight_decay: L2 on every parameter, as pycls (>= 0).
        momentum, nesterov: SGD.
        batch_size: images per step (a training subset smaller than this is one batch).
        label_smoothing: cross-entropy smoothing in [0, 1).
        augment: pad-4 random crop (+ flip where the data set allows it) on training batches.
        seed: model init, batch order and augmentation.
        device: ``auto`` (CUDA when available, else CPU), ``cpu``, ``cuda``, ``cuda:1``...
        amp: bf16 autocast on CUDA (ignored on CPU).
        channels_last: channels-last memory format (faster on CUDA and, measured, on CPU).
        compile: wrap the model in ``torch.compile``.
        threads: CPU threads for this run (None = every core this process may use).
        eval_batch_size: batch size of the held-out evaluation.
        deterministic: on CUDA, deterministic kernels and no cuDNN autotuning (slower).
        zero_init_last_bn: timm's init of the last BN gamma in residual blocks (pycls: off).
        preset: the name these settings came from (recorded with the result).
    """

    epochs: int = 10
    lr: float = 0.05
    weight_decay: float = 5e-5
    momentum: float = 0.9
    nesterov: bool = False
    batch_size: int = 128
    label_smoothing: float = 0.0
    augment: bool = True
    seed: int = 0
    device: str = "auto"
    amp: bool = True
    channels_last: bool = True
    compile: bool = False
    threads: int | None = None
    eval_batch_size: int = 1000
    deterministic: bool = False
    zero_init_last_bn: bool = False
    preset: str = "paper"

    def __post_init__(self) -> None:
        def integer(name, low, v=None):
            v = getattr(self, name) if v is None else v
            if isinstance(v, float) and v.is_integer():
                v = int(v)
            if isinstance(v, bool) or not isinstance(v, int) or v < low:
                raise ValueError(f"{name} must be an integer >= {low}, got {getattr(self, name)!r}")
            object.__setattr__(self, name, v)

        def number(name, low, high=math.inf, low_open=False, high_open=True):
            v = getattr(self, name)
            try:
                v = float(v)
            except (TypeError, ValueError):
                raise ValueError(f"{name} must be a number, got {v!r}") from None
            bad = (not math.isfinite(v) or v < low or (low_open and v == low) or v > high
                   or (high_open and v == high))
            if bad:
                lo = f"{'>' if low_open else '>='} {low:g}"
                hi = "" if high == math.inf else f" and {'<' if high_open else '<='} {high:g}"
                raise ValueError(f"{name} must be a finite number {lo}{hi}, got {getattr(self, name)!r}")
            object.__setattr__(self, name, v)

        integer("epochs", 1)
        number("lr", 0.0, low_open=True)
        number("weight_decay", 0.0)
        number("momentum", 0.0, 1.0)
        number("label_smoothing", 0.0, 1.0)
        integer("batch_size", 1)
        integer("eval_batch_size", 1)
        integer("seed", 0)
        if self.threads is not None:
            integer("threads", 1)
        for name in ("nesterov", "augment", "amp", "channels_last", "compile", "deterministic", "zero_init_last_bn"):
            object.__setattr__(self, name, bool(getattr(self, name)))
        if self.nesterov and self.momentum == 0:
            raise ValueError("nesterov needs momentum > 0")
        dev = str(self.device).strip().lower()
        if dev != "auto":
            try:
                torch.device(dev)
            except (RuntimeError, ValueError):
                raise ValueError(f"device must be auto, cpu, cuda or cuda:N, got {self.device!r}") from None
        object.__setattr__(self, "device", dev)

    @classmethod
    def from_preset(cls, name: str = "paper", **overrides: Any) -> "TrainSettings":
        """A named recipe (:data:`PRESETS`) with overrides; None values are ignored.

        Example:
            >>> s = TrainSettings.from_preset("section4", seed=3)
            >>> (s.epochs, s.lr, s.seed, s.preset)
            (25, 0.1, 3, 'section4')
        """
        key = str(name).strip().lower().replace("-", "").replace("_", "")
        key = {"section3": "paper", "sec3": "paper", "sec4": "section4"}.get(key, key)
        if key not in PRESETS:
            raise ValueError(f"unknown preset {name!r}; known: {', '.join(PRESETS)}")
        known = {f.name for f in fields(cls)}
        extra = sorted(set(overrides) - known)
        if extra:
            raise ValueError(f"unknown training setting(s) {extra}; allowed: {sorted(known)}")
        kw = {**PRESETS[key], "preset": key}
        kw.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**kw)

    def replace(self, **changes: Any) -> "TrainSettings":
        return replace(self, **changes)

    def to_dict(self) -> dict:
        return asdict(self)


def as_settings(settings: TrainSettings | Mapping | str | None = None, **overrides: Any) -> TrainSettings:
    """TrainSettings from settings, a dict, a preset name or None (the paper recipe), + overrides."""
    if settings is None:
        return TrainSettings.from_preset("paper", **overrides)
    if isinstance(settings, str):
        return TrainSettings.from_preset(settings, **overrides)
    if isinstance(settings, Mapping):
        d = dict(settings)
        return TrainSettings.from_preset(d.pop("preset", "paper"), **{**d, **overrides})
    if isinstance(settings, TrainSettings):
        over = {k: v for k, v in overrides.items() if v is not None}
        return replace(settings, **over) if over else settings
    raise ValueError(f"settings must be TrainSettings, a dict or a preset name, got {type(settings).__name__}")


def resolve_device(spec: str = "auto") -> torch.device:
    """``auto`` -> ``cuda`` when available, else ``cpu``; a CUDA request without CUDA is an error."""
    spec = str(spec).strip().lower()
    if spec == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    dev = torch.device(spec)
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(f"device {spec!r} requested but CUDA is not available here "
                             "(use --device cpu or auto)")
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise ValueError(f"device {spec!r}: only {torch.cuda.device_count()} CUDA device(s)")
    return dev


def available_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


# --------------------------------------------------------------------------------------- result
def _finite(v):
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if isinstance(v, list):
        return [_finite(x) for x in v]
    return v


@dataclass
class EvalResult:
    """The outcome of one brief training run.

    ``error`` (top-1, a fraction in [0, 1], on ``eval_split``) is what sweeps rank by; it is None unless status is
    ``ok``. Per-epoch lists (``train_loss``, ``train_error`` measured on the augmented training
    batches as pycls does, ``eval_error`` on the held-out split) have one entry per completed
    epoch. ``flops``/``params``/``acts`` are the analytic complexity of ``config`` (the config as
    trained: at the data's resolution, channels and classes). ``images_per_s`` counts training
    images over training time (held-out evaluation excluded; compile time included).
    """

    status: str
    error: float | None = None
    eval_split: str = "test"
    test_error: float | None = None
    val_error: float | None = None
    train_loss: list = field(default_factory=list)
    train_error: list = field(default_factory=list)
    eval_error: list = field(default_factory=list)
    epochs: int = 0
    flops: int = 0
    params: int = 0
    acts: int = 0
    resolution: int = 0
    wall_time: float = 0.0
    train_time: float = 0.0
    images_seen: int = 0
    images_per_s: float = 0.0
    device: str = ""
    seed: int = 0
    reason: str | None = None
    config: dict = field(default_factory=dict)
    settings: dict = field(default_factory=dict)
    data: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    @property
    def net_config(self) -> NetConfig:
        return NetConfig.from_dict(self.config)

    def summary(self) -> str:
        """One line for printing.

        Example:
            >>> EvalResult("ok", error=0.125, epochs=1, flops=3_100_000, params=52_000,
            ...            images_per_s=2500.0, device="cpu", wall_time=3.2).summary()
            'ok      error 12.50% (test)  1 ep  3.1 MF  0.05 M params  2,500 img/s on cpu  3.2 s'
        """
        err = f"error {100 * self.error:.2f}% ({self.eval_split})" if self.error is not None else "error -"
        line = (f"{self.status:<7} {err}  {self.epochs} ep  {self.flops / 1e6:.1f} MF  "
                f"{self.params / 1e6:.2f} M params  {self.images_per_s:,.0f} img/s on "
                f"{self.device or '?'}  {self.wall_time:.1f} s")
        if self.reason:
            line += f"  [{self.reason}]"
        return line

    def to_dict(self) -> dict:
        """JSON-able (non-finite floats become None)."""
        return {k: _finite(v) for k, v in asdict(self).items()}

    def to_json(self, **kwargs: Any) -> str:
        return json.dumps(self.to_dict(), **kwargs)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "EvalResult":
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in known})


# --------------------------------------------------------------------------------------- helpers
def as_config(config: NetConfig | Mapping | str) -> NetConfig:
    """A NetConfig from a NetConfig, its dict (or ``{"config": {...}}``), JSON text or a zoo name."""
    if isinstance(config, NetConfig):
        return config
    if isinstance(config, Mapping):
        return NetConfig.from_dict(config["config"] if "config" in config else config)
    if isinstance(config, str):
        if config.lstrip().startswith("{"):
            return as_config(json.loads(config))
        from .zoo import get_config

        return get_config(config)
    raise ValueError(f"config must be a NetConfig, a dict or a model name, got {type(config).__name__}")


def match_input(cfg: NetConfig, data: Data, adapt: bool = False) -> NetConfig:
    """``cfg`` for the data's resolution, channels and classes (``adapt``), or a ValueError."""
    have = (cfg.resolution, cfg.in_channels, cfg.num_classes)
    want = (data.resolution, data.in_channels, data.num_classes)
    if have == want:
        return cfg
    if not adapt:
        raise ValueError(
            f"the config is for {have[1]}x{have[0]}x{have[0]} inputs and {have[2]} classes but "
            f"data set {data.name} has {want[1]}x{want[0]}x{want[0]} images and {want[2]} classes; "
            "pass adapt=True to train cfg.with_input(...) (the stem follows the resolution), or "
            "build the config for this input, e.g. get_space(name, resolution=..., in_channels=..., "
            "num_classes=...)")
    stem = cfg.stem if cfg.resolution == data.resolution else None
    return cfg.with_input(data.resolution, in_channels=data.in_channels,
                          num_classes=data.num_classes, stem=stem)


def cosine_lr(base: float, step: int, total: int) -> float:
    """Half-period cosine: ``base`` at step 0, falling to 0 at step ``total``."""
    return 0.5 * base * (1.0 + math.cos(math.pi * step / max(total, 1)))


class _Diverged(Exception):
    pass


class _CallbackError(Exception):
    def __init__(self, exc: BaseException) -> None:
        super().__init__(str(exc))
        self.exc = exc


def _is_oom(e: BaseException) -> bool:
    if isinstance(e, torch.cuda.OutOfMemoryError):
        return True
    msg = str(e)
    return isinstance(e, (RuntimeError, MemoryError)) and (
        "out of memory" in msg.lower() or "can't allocate memory" in msg or isinstance(e, MemoryError))


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


@torch.inference_mode()
def error_rate(model: nn.Module, x: torch.Tensor, y: torch.Tensor, dev: DeviceData, *,
               batch_size: int = 1000, autocast=contextlib.nullcontext, channels_last: bool = False) -> float:
    """Top-1 error (a fraction) of ``model`` on uint8 images ``x`` (normalised with ``dev``'s stats)."""
    model.eval()
    wrong = torch.zeros((), dtype=torch.long, device=x.device)
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    for i in range(0, len(y), batch_size):
        xb = normalize(x[i:i + batch_size], dev).contiguous(memory_format=fmt)
        with autocast():
            out = model(xb)
        wrong += (out.argmax(1) != y[i:i + batch_size]).sum()
    return int(wrong) / max(len(y), 1)


# --------------------------------------------------------------------------------------- evaluate
def evaluate(config: NetConfig | Mapping | str, data: Data | str,
             settings: TrainSettings | Mapping | str | None = None, *, adapt: bool = False,
             builder: Callable[[NetConfig], nn.Module] | None = None, progress: bool | None = None,
             on_epoch: Callable[[int, float, EvalResult], Any] | None = None,
             **overrides: Any) -> EvalResult:
    """Train ``config`` briefly on ``data`` and measure its held-out top-1 error.

    Args:
        config: a NetConfig (or its dict, ``{"config": ...}`` as ``sample --json`` prints, or a
            zoo name).
        data: a :class:`~regnet_space.data.Data` (or a data set name for :func:`load_data`).
        settings: :class:`TrainSettings`, a dict, a preset name or None (the paper's recipe);
            keyword ``overrides`` (``epochs=1``, ``lr=0.1``...) replace its fields.
        adapt: train ``cfg.with_input(...)`` when the config's resolution, channels or classes
            differ from the data's; otherwise such a mismatch is a ValueError.
        builder: ``NetConfig -> nn.Module`` (default :func:`regnet_space.model.build_model`),
            e.g. :func:`regnet_space.model.to_timm` to train timm's implementation.
        progress: a tqdm bar (default: when stderr is a terminal).
        on_epoch: called as ``on_epoch(epoch, error, result)`` after each epoch (``epoch`` counts
            from 0, ``error`` is that epoch's held-out error (a fraction), ``result`` the EvalResult so
            far). An exception it raises (e.g. ``optuna.TrialPruned``) stops training and
            propagates to the caller unchanged: that is how pruners stop a run.

    Returns:
        :class:`EvalResult`; status ``ok``, ``diverged``, ``oom`` or ``failed`` (with ``reason``).

    Raises:
        ValueError: bad settings, a config that does not fit the data (without ``adapt``), or an
            unavailable device. Nothing raises once training started.
    """
    t0 = time.perf_counter()
    s = as_settings(settings, **overrides)
    cfg = as_config(config)
    if not isinstance(data, Data):
        data = load_data(data)
    cfg = match_input(cfg, data, adapt)
    device = resolve_device(s.device)
    cx = complexity(cfg)
    res = EvalResult("ok", eval_split=data.eval_split, flops=cx.flops, params=cx.params,
                     acts=cx.acts, resolution=cfg.resolution, device=str(device), seed=s.seed,
                     config=json.loads(cfg.to_json()), settings=s.to_dict(),
                     data=data.describe())
    if progress is None:
        progress = bool(getattr(sys.stderr, "isatty", lambda: False)())
    old_threads = torch.get_num_threads()
    if device.type == "cpu":
        torch.set_num_threads(s.threads or available_cpus())
    failure = callback_exc = None
    try:
        _train(cfg, data, s, device, builder, progress, res, on_epoch)
    except _CallbackError as e:
        callback_exc = e.exc
    except _Diverged as e:
        res.status, res.reason = "diverged", str(e)
    except Exception as e:  # one bad candidate never ends a sweep
        failure = ("oom" if _is_oom(e) else "failed", f"{type(e).__name__}: {e}".splitlines()[0][:500])
    finally:
        torch.set_num_threads(old_threads)
    if callback_exc is not None:
        raise callback_exc
    if failure is not None:  # outside the except block, so the traceback's tensors can go
        res.status, res.reason = failure
        gc.collect()
        if device.type == "cuda":
            torch.cuda.empty_cache()
    if res.status != "ok":
        res.error = None
    res.wall_time = time.perf_counter() - t0
    return res


def _train(cfg: NetConfig, data: Data, s: TrainSettings, device: torch.device,
           builder: Callable | None, progress: bool, res: EvalResult,
           on_epoch: Callable | None = None) -> None:
    cuda = device.type == "cuda"
    if cuda:
        torch.backends.cudnn.benchmark = not s.deterministic
        torch.backends.cudnn.deterministic = s.deterministic
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
    channels_last = s.channels_last
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    autocast = ((lambda: torch.autocast("cuda", dtype=torch.bfloat16)) if cuda and s.amp
                else contextlib.nullcontext)
    dev = data.on(device)

    with torch.random.fork_rng(devices=[device] if cuda else []):
        torch.manual_seed(s.seed)
        if builder is None:
            from .model import build_model

            model = build_model(cfg, zero_init_last_bn=s.zero_init_last_bn)
        else:
            model = builder(cfg)
    model = model.to(device=device, memory_format=fmt)
    opt = torch.optim.SGD(model.parameters(), lr=s.lr, momentum=s.momentum,
                          weight_decay=s.weight_decay, nesterov=s.nesterov)
    fwd = torch.compile(model) if s.compile else model
    loss_fn = nn.CrossEntropyLoss(label_smoothing=s.label_smoothing)
    gen = torch.Generator(device=device).manual_seed(s.seed)

    n = len(data.train)
    bs = min(s.batch_size, n)
    steps = n // bs
    total = steps * s.epochs
    check_every = 25 if cuda else 1  # a finiteness check syncs a GPU; on CPU it is free
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=total, desc=f"train {res.flops / 1e6:.1f}MF", unit="step", leave=False,
                   file=sys.stderr, mininterval=0.5)
    det_ctx = contextlib.nullcontext()
    if cuda and s.deterministic:
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        torch.use_deterministic_algorithms(True, warn_only=True)
    try:
        with det_ctx:
            it = 0
            for epoch in range(s.epochs):
                model.train()
                order = batch_indices(n, bs, gen, device)
                loss_sum = torch.zeros((), dtype=torch.float64, device=device)
                correct = torch.zeros((), dtype=torch.long, device=device)
                _sync(device)
                t_ep = time.perf_counter()
                for i in range(steps):
                    lr = cosine_lr(s.lr, it, total)
                    for group in opt.param_groups:
                        group["lr"] = lr
                    idx = order[i]
                    x = augment(dev, idx, gen, train=s.augment)
                    if not channels_last:
                        x = x.contiguous()
                    y = dev.train_y[idx]
                    with autocast():
                        out = fwd(x)
                        loss = loss_fn(out, y)
                    opt.zero_grad(set_to_none=True)
                    loss.backward()
                    opt.step()
                    loss_sum += loss.detach().double() * len(idx)
                    correct += (out.detach().argmax(1) == y).sum()
                    it += 1
                    if it % check_every == 0 and not bool(torch.isfinite(loss_sum)):
                        raise _Diverged(f"non-finite training loss at epoch {epoch + 1}, step {i + 1}")
                    if bar is not None:
                        bar.update(1)
                _sync(device)
                res.train_time += time.perf_counter() - t_ep
                res.images_seen += steps * bs
                res.images_per_s = res.images_seen / max(res.train_time, 1e-9)
                mean_loss = float(loss_sum) / (steps * bs)
                if not math.isfinite(mean_loss):
                    raise _Diverged(f"non-finite training loss in epoch {epoch + 1}")
                res.train_loss.append(mean_loss)
                res.train_error.append(1.0 - int(correct) / (steps * bs))
                ex, ey = dev.eval_splits[data.eval_split]
                err = error_rate(fwd, ex, ey, dev, batch_size=s.eval_batch_size,
                                 autocast=autocast, channels_last=channels_last)
                res.eval_error.append(err)
                res.epochs = epoch + 1
                if bar is not None:
                    bar.set_postfix(loss=f"{mean_loss:.3f}", err=f"{err:.1f}%")
                if on_epoch is not None:
                    try:
                        on_epoch(epoch, err, res)
                    except BaseException as e:  # noqa: BLE001 - handed back to the caller as is
                        raise _CallbackError(e) from e
            res.error = res.eval_error[-1]
            if data.eval_split == "val":
                res.val_error = res.error
                tx, ty = dev.eval_splits["test"]
                res.test_error = error_rate(fwd, tx, ty, dev, batch_size=s.eval_batch_size,
                                            autocast=autocast, channels_last=channels_last)
            else:
                res.test_error = res.error
    finally:
        if bar is not None:
            bar.close()
        if cuda and s.deterministic:
            torch.use_deterministic_algorithms(False)


__all__ = ["EvalResult", "PRESETS", "STATUSES", "TrainSettings", "as_config", "as_settings",
           "cosine_lr", "error_rate", "evaluate", "match_input", "resolve_device"]
