"""Brief training of one candidate: ``evaluate(config, data, settings) -> EvalResult``.

The recipe is a :class:`~regnet_space.training.recipe.TrainSettings` (default: the ``brief``
preset; the paper's regimes are the ``paper`` and ``section4`` presets).

What :func:`evaluate` does, and what it guarantees:

* The whole data set lives on the training device (:meth:`Data.on`); batches are drawn, cropped,
  flipped and normalised there with batched tensor ops, no per-sample Python.
* CUDA: data on the GPU, channels-last, bf16 autocast, optional ``torch.compile``, cuDNN
  autotuning. CPU: float32, ``threads`` intra-op threads (default: this run's share of the cores
  among this package's CPU runs on the machine, see :mod:`~regnet_space.training.cpu`) and
  denormals flushed to zero, both restored afterwards; ``EvalResult.threads`` says how many.
* The learning rate follows the half-period cosine per step, times a linear warm-up over the first
  ``warmup`` fraction of the steps (:func:`~regnet_space.training.recipe.lr_at`).
* The ranking number is ``EvalResult.error``: top-1 error as a fraction in [0, 1] on the held-out
  split, ``val`` when the data has one, else ``test``.
* Divergence, however short the run: a training-batch loss or a held-out loss that is not finite
  or exceeds ``diverge_factor * ln(num_classes)`` (a network that learned nothing sits at
  ``ln(num_classes)``) ends the run with status ``diverged``. Out-of-memory gives ``oom``
  (memory freed); any other exception inside training gives ``failed`` with the reason. Nothing
  raises into the caller once training started, so one bad candidate never ends a sweep. Bad
  *inputs* (settings, a config that does not fit the data) raise ConfigError up front.
* Determinism: on CPU a fixed seed gives the same result twice, bit for bit (same thread count and
  machine). On CUDA results are not bit-exact (cuDNN autotuning, atomics in backward, bf16);
  ``deterministic=True`` asks PyTorch for deterministic kernels. The CUDA path has not run on a
  GPU yet (see the README's limitations).

Example:
    >>> from regnet_space.config import NetConfig
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
from dataclasses import asdict, dataclass, field, fields
from typing import Any, Callable, Mapping

import torch
from torch import nn

from ..complexity import complexity
from ..config import NetConfig
from ..errors import ConfigError
from .cpu import cpu_share
from .data import Data, DeviceData, augment, batch_indices, load_data, normalize
from .device import as_format
from .provenance import gather
from .recipe import TrainSettings, as_settings, lr_at

#: What an evaluation can end as (the population table adds ``infeasible``, ``pruned``...).
STATUSES = ("ok", "diverged", "oom", "failed")


def resolve_device(spec: str = "auto") -> torch.device:
    """``auto`` -> ``cuda`` when available, else ``cpu``; a CUDA request without CUDA is an error."""
    spec = str(spec).strip().lower()
    if spec == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    dev = torch.device(spec)
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise ConfigError(f"device {spec!r} requested but CUDA is not available here "
                             "(use --device cpu or auto)")
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise ConfigError(f"device {spec!r}: only {torch.cuda.device_count()} CUDA device(s)")
    return dev


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
    ``test_error`` is the test split's error, scored once at the end when the data has a
    validation split (then ``error`` = ``val_error``: choose by validation, report test).
    With ``seeds`` > 1 the errors and curves are means over the seeds and ``error_sd`` (and
    ``test_error_sd``, ``val_error_sd``) their sample standard deviations.
    ``cpu_capability`` (ATen's kernels) and ``onednn_isa`` (oneDNN's) say which instruction
    set computed it: results move by about 0.01 between AVX2 and AVX-512 kernels.
    """

    status: str
    error: float | None = None
    eval_split: str = "test"
    test_error: float | None = None
    val_error: float | None = None
    # several training seeds (TrainSettings.seeds > 1, :mod:`~regnet_space.training.seeds`):
    # the errors above are their means, these the sample sds and each seed's value
    seeds: int = 1
    error_sd: float | None = None
    test_error_sd: float | None = None
    val_error_sd: float | None = None
    seed_errors: list = field(default_factory=list)
    seed_test_errors: list = field(default_factory=list)
    seed_val_errors: list = field(default_factory=list)
    train_loss: list = field(default_factory=list)
    train_error: list = field(default_factory=list)
    eval_error: list = field(default_factory=list)
    eval_loss: list = field(default_factory=list)
    epoch_time: list = field(default_factory=list)
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
    threads: int = 0
    seed: int = 0
    reason: str | None = None
    config: dict = field(default_factory=dict)
    settings: dict = field(default_factory=dict)
    data: dict = field(default_factory=dict)
    # provenance (:mod:`~regnet_space.training.provenance`): the code, library and machine
    package_version: str | None = None
    git_commit: str | None = None
    torch_version: str | None = None
    recipe: str | None = None
    cpu_capability: str | None = None
    onednn_isa: str | None = None
    device_name: str | None = None

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
            'ok      error 0.1250 (test)  1 ep  3.1 MF  0.05 M params  2,500 img/s on cpu  3.2 s'
        """
        err = f"error {self.error:.4f} ({self.eval_split})" if self.error is not None else "error -"
        if self.seeds > 1 and self.error_sd is not None:
            err = (f"error {self.error:.4f} +- {self.error_sd:.4f} ({self.eval_split}, mean +- sd "
                   f"of {self.seeds} seeds)")
        if self.eval_split == "val" and self.test_error is not None and self.error is not None:
            err += f"  test {self.test_error:.4f}"
        line = (f"{self.status:<7} {err}  {self.epochs} ep  {self.flops / 1e6:.1f} MF  "
                f"{self.params / 1e6:.2f} M params  {self.images_per_s:,.0f} img/s on "
                f"{self.device or '?'}{_threads(self.threads)}  "
                f"{self.wall_time:.1f} s")
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
def _threads(n: int) -> str:
    return f" ({n} thread{'s' if n != 1 else ''})" if n else ""


def as_config(config: NetConfig | Mapping | str) -> NetConfig:
    """A NetConfig from a NetConfig, its dict (or ``{"config": {...}}``), JSON text or a zoo name."""
    if isinstance(config, NetConfig):
        return config
    if isinstance(config, Mapping):
        return NetConfig.from_dict(config["config"] if "config" in config else config)
    if isinstance(config, str):
        if config.lstrip().startswith("{"):
            return as_config(json.loads(config))
        from ..zoo import get_config

        return get_config(config)
    raise ConfigError(f"config must be a NetConfig, a dict or a model name, got {type(config).__name__}")


def match_input(cfg: NetConfig, data: Data, adapt: bool = False) -> NetConfig:
    """``cfg`` for the data's resolution, channels and classes (``adapt``), or a ConfigError."""
    have = (cfg.resolution, cfg.in_channels, cfg.num_classes)
    want = (data.resolution, data.in_channels, data.num_classes)
    if have == want:
        return cfg
    if not adapt:
        raise ConfigError(
            f"the config is for {have[1]}x{have[0]}x{have[0]} inputs and {have[2]} classes but "
            f"data set {data.name} has {want[1]}x{want[0]}x{want[0]} images and {want[2]} classes; "
            "pass adapt=True to train cfg.with_input(...) (the stem follows the resolution), or "
            "build the config for this input, e.g. get_space(name, resolution=..., in_channels=..., "
            "num_classes=...)")
    stem = cfg.stem if cfg.resolution == data.resolution else None
    return cfg.with_input(data.resolution, in_channels=data.in_channels,
                          num_classes=data.num_classes, stem=stem)


@contextlib.contextmanager
def _cpu_setup(device: torch.device, threads: int | None):
    """Threads (``threads``, or this run's share of the machine: :func:`~.cpu.cpu_share`) and
    flush-to-zero for a CPU run, restored afterwards; yields the thread count (0 off the CPU).

    Denormal floats make x86 arithmetic ~100x slower; tiny weights and gradients of briefly
    trained nets can produce them, so they are flushed to zero (as GPUs do). (No slowdown was
    measured without it on the brief recipe; it is a guard, see BENCHMARKS.md.)
    """
    if device.type != "cpu":
        yield 0
        return
    with cpu_share(threads) as n:
        old = torch.get_num_threads()
        torch.set_num_threads(n)
        flushed = torch.set_flush_denormal(True)
        try:
            yield n
        finally:
            torch.set_num_threads(old)
            if flushed:
                torch.set_flush_denormal(False)


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
def held_out(model: nn.Module, x: torch.Tensor, y: torch.Tensor, dev: DeviceData, *,
             batch_size: int = 1000, autocast=contextlib.nullcontext,
             channels_last: bool = False) -> tuple[float, float]:
    """(top-1 error as a fraction, mean cross-entropy) of ``model`` on uint8 images ``x``."""
    model.eval()
    wrong = torch.zeros((), dtype=torch.long, device=x.device)
    loss = torch.zeros((), dtype=torch.float64, device=x.device)
    for i in range(0, len(y), batch_size):
        xb = as_format(normalize(x[i:i + batch_size], dev), channels_last)
        yb = y[i:i + batch_size]
        with autocast():
            out = model(xb)
        wrong += (out.argmax(1) != yb).sum()
        loss += nn.functional.cross_entropy(out.float(), yb, reduction="sum").double()
    n = max(len(y), 1)
    return int(wrong) / n, float(loss) / n


def error_rate(model: nn.Module, x: torch.Tensor, y: torch.Tensor, dev: DeviceData, **kw) -> float:
    """Top-1 error (a fraction) of ``model`` on uint8 images ``x`` (see :func:`held_out`)."""
    return held_out(model, x, y, dev, **kw)[0]


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
        data: a :class:`~regnet_space.training.data.Data` (or a data set name for :func:`load_data`).
        settings: :class:`TrainSettings`, a dict, a preset name or None (``brief``);
            keyword ``overrides`` (``epochs=1``, ``lr=0.1``...) replace its fields.
        adapt: train ``cfg.with_input(...)`` when the config's resolution, channels or classes
            differ from the data's; otherwise such a mismatch is a ConfigError.
        builder: ``NetConfig -> nn.Module`` (default :func:`regnet_space.nn.build_model`),
            e.g. :func:`regnet_space.nn.to_timm` to train timm's implementation.
        progress: a tqdm bar (default: when stderr is a terminal).
        on_epoch: called as ``on_epoch(epoch, error, result)`` after each epoch (``epoch`` counts
            from 0, ``error`` is that epoch's held-out error (a fraction), ``result`` the EvalResult so
            far). An exception it raises (e.g. ``optuna.TrialPruned``) stops training and
            propagates to the caller unchanged: that is how pruners stop a run.

    Returns:
        :class:`EvalResult`; status ``ok``, ``diverged``, ``oom`` or ``failed`` (with ``reason``).

    Raises:
        ConfigError: bad settings, a config that does not fit the data (without ``adapt``), or an
            unavailable device. Nothing raises once training started.
    """
    t0 = time.perf_counter()
    s = as_settings(settings, **overrides)
    if s.seeds > 1:  # K runs, one result (the first seed's epochs go to on_epoch: pruners)
        from .seeds import combine

        if not isinstance(data, Data):
            data = load_data(data)
        runs = [evaluate(config, data, s.replace(seed=s.seed + k, seeds=1), adapt=adapt,
                         builder=builder, progress=progress, on_epoch=on_epoch if k == 0 else None)
                for k in range(s.seeds)]
        out = combine(runs)
        out.settings = s.to_dict()
        return out
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
    vars(res).update(gather(recipe=s.preset, device=device).as_dict())  # provenance
    if progress is None:
        progress = bool(getattr(sys.stderr, "isatty", lambda: False)())
    failure = callback_exc = None
    try:
        with _cpu_setup(device, s.threads) as res.threads:
            _train(cfg, data, s, device, builder, progress, res, on_epoch)
    except _CallbackError as e:
        callback_exc = e.exc
    except _Diverged as e:
        res.status, res.reason = "diverged", str(e)
    except Exception as e:  # one bad candidate never ends a sweep
        failure = ("oom" if _is_oom(e) else "failed", f"{type(e).__name__}: {e}".splitlines()[0][:500])
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


@dataclass
class _Loop:
    """What one training run holds: the model, its optimiser and the device-side settings."""

    model: nn.Module
    fwd: Callable
    opt: torch.optim.Optimizer
    loss_fn: nn.Module
    autocast: Callable
    channels_last: bool
    limit: float  # the divergence threshold on a loss


def _setup(cfg: NetConfig, data: Data, s: TrainSettings, device: torch.device,
           builder: Callable | None) -> _Loop:
    cuda = device.type == "cuda"
    if cuda:
        torch.backends.cudnn.benchmark = s.cudnn_benchmark and not s.deterministic
        torch.backends.cudnn.deterministic = s.deterministic
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
    fmt = torch.channels_last if s.channels_last else torch.contiguous_format
    with torch.random.fork_rng(devices=[device] if cuda else []):
        torch.manual_seed(s.seed)
        if builder is None:
            from ..nn import build_model

            model = build_model(cfg, zero_init_last_bn=s.init == "zero_last_bn")
        else:
            model = builder(cfg)
    model = model.to(device=device, memory_format=fmt)
    # On CUDA the fused SGD kernel: one launch for all parameters instead of a few per tensor
    # (brief runs of small networks are launch-bound there); the CPU keeps the default path, so
    # CPU results stay bit-identical to earlier releases.
    opt = torch.optim.SGD(model.parameters(), lr=s.lr, momentum=s.momentum,
                          weight_decay=s.weight_decay, nesterov=s.nesterov,
                          **({"fused": True} if cuda else {}))
    autocast = ((lambda: torch.autocast("cuda", dtype=torch.bfloat16)) if cuda and s.amp
                else contextlib.nullcontext)
    return _Loop(model, torch.compile(model) if s.compile else model, opt,
                 nn.CrossEntropyLoss(label_smoothing=s.label_smoothing), autocast,
                 s.channels_last, s.diverge_factor * math.log(max(data.num_classes, 2)))


def _diverged(what: str, loss: float, loop: _Loop, s: TrainSettings, classes: int) -> _Diverged:
    return _Diverged(f"{what} loss {loss:.4g} (limit {s.diverge_factor:g} x ln({classes}) = "
                     f"{loop.limit:.3g})")


def _train(cfg: NetConfig, data: Data, s: TrainSettings, device: torch.device,
           builder: Callable | None, progress: bool, res: EvalResult,
           on_epoch: Callable | None = None) -> None:
    loop = _setup(cfg, data, s, device, builder)
    dev = data.on(device)
    gen = torch.Generator(device=device).manual_seed(s.seed)
    n = len(data.train)
    bs = min(s.batch_size, n)
    steps = n // bs
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=steps * s.epochs, desc=f"train {res.flops / 1e6:.1f}MF", unit="step",
                   leave=False, file=sys.stderr, mininterval=0.5)
    deterministic = device.type == "cuda" and s.deterministic
    if deterministic:
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        torch.use_deterministic_algorithms(True, warn_only=True)
    try:
        for epoch in range(s.epochs):
            mean_loss, train_err = _train_epoch(loop, dev, s, gen, epoch, steps, bs, res, bar,
                                                data.num_classes)
            res.train_loss.append(mean_loss)
            res.train_error.append(train_err)
            ex, ey = dev.eval_splits[data.eval_split]
            err, eval_loss = held_out(loop.fwd, ex, ey, dev, batch_size=s.eval_batch_size,
                                      autocast=loop.autocast, channels_last=loop.channels_last)
            res.eval_error.append(err)
            res.eval_loss.append(eval_loss)
            if not math.isfinite(eval_loss) or eval_loss > loop.limit:
                raise _diverged(f"after epoch {epoch + 1}: held-out", eval_loss, loop, s,
                                data.num_classes)
            res.epochs = epoch + 1
            if bar is not None:
                bar.set_postfix(loss=f"{mean_loss:.3f}", err=f"{err:.3f}")
            if on_epoch is not None:
                try:
                    on_epoch(epoch, err, res)
                except BaseException as e:  # noqa: BLE001 - handed back to the caller as is
                    raise _CallbackError(e) from e
        res.error = res.eval_error[-1]
        if data.eval_split == "val":
            res.val_error = res.error
            tx, ty = dev.eval_splits["test"]
            res.test_error = held_out(loop.fwd, tx, ty, dev, batch_size=s.eval_batch_size,
                                      autocast=loop.autocast,
                                      channels_last=loop.channels_last)[0]
        else:
            res.test_error = res.error
    finally:
        if bar is not None:
            bar.close()
        if deterministic:
            torch.use_deterministic_algorithms(False)


def _train_epoch(loop: _Loop, dev: DeviceData, s: TrainSettings, gen: torch.Generator,
                 epoch: int, steps: int, bs: int, res: EvalResult, bar, classes: int
                 ) -> tuple[float, float]:
    """One pass over the training subset; returns (mean loss, training error)."""
    device = dev.device
    total = steps * s.epochs
    # Checking a loss syncs a GPU, so there the running max is checked every 25 steps; on CPU
    # every step (free), which catches a blow-up however short the run.
    check_every = 25 if device.type == "cuda" else 1
    loop.model.train()
    order = batch_indices(len(dev.train_y), bs, gen, device)
    loss_sum = torch.zeros((), dtype=torch.float64, device=device)
    max_loss = torch.zeros((), dtype=torch.float32, device=device)
    correct = torch.zeros((), dtype=torch.long, device=device)
    _sync(device)
    t0 = time.perf_counter()
    for i in range(steps):
        it = epoch * steps + i
        for group in loop.opt.param_groups:
            group["lr"] = lr_at(s, it, total)
        idx = order[i]
        x = as_format(augment(dev, idx, gen, train=s.augment), loop.channels_last)
        y = dev.train_y[idx]
        with loop.autocast():
            out = loop.fwd(x)
            loss = loop.loss_fn(out, y)
        loop.opt.zero_grad(set_to_none=True)
        loss.backward()
        loop.opt.step()
        loss_sum += loss.detach().double() * len(idx)
        max_loss = torch.maximum(max_loss, loss.detach().float())  # NaN propagates
        correct += (out.detach().argmax(1) == y).sum()
        if (it + 1) % check_every == 0 or i == steps - 1:
            m = float(max_loss)
            if not math.isfinite(m) or m > loop.limit:
                raise _diverged(f"at epoch {epoch + 1}, step {i + 1}: training", m, loop, s,
                                classes)
        if bar is not None:
            bar.update(1)
    _sync(device)
    res.epoch_time.append(time.perf_counter() - t0)
    res.train_time += res.epoch_time[-1]
    res.images_seen += steps * bs
    res.images_per_s = res.images_seen / max(res.train_time, 1e-9)
    return float(loss_sum) / (steps * bs), 1.0 - int(correct) / (steps * bs)


__all__ = ["EvalResult", "STATUSES", "as_config", "error_rate", "evaluate", "held_out",
           "match_input", "resolve_device"]
