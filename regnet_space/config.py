"""NetConfig: the one description of an AnyNet architecture.

Every other module (complexity, builder, storage, plots) takes a :class:`NetConfig`; nothing else
passes per-stage lists around. Stdlib only, so the numpy core imports without torch.

Conventions follow the paper ("Designing Network Design Spaces", Radosavovic et al. 2020) and its
reference implementation pycls:

* ``b`` is the paper's bottleneck *ratio*: the bottleneck width is ``w_b = w / b`` (pycls stores
  ``bot_mul = 1 / b``). ``b < 1`` is an inverted bottleneck.
* ``g`` is the group *width*; a 3x3 group conv has ``w_b / g`` groups.
* Group-width compatibility (paper Appendix D) is applied on construction, so every NetConfig can
  be built as is.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, replace
from typing import Any, Iterable, Mapping

from .errors import ConfigError

BLOCKS = ("X", "Y", "R", "V", "VR")
STEMS = ("imagenet", "resnet", "small")


def _check_int(name: str, value: Any, low: int, high: int | None = None) -> int:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not hasattr(value, "__index__"):
        raise ConfigError(f"{name} must be an integer, got {value!r}")
    value = int(value.__index__())  # numpy integers included
    if value < low or (high is not None and value > high):
        allowed = f">= {low}" if high is None else f"in [{low}, {high}]"
        raise ConfigError(f"{name} must be {allowed}, got {value}")
    return value


def _number(name: str, value: Any) -> float:
    # JSON configs must not pass "2" or true for a number: float() would accept both
    if isinstance(value, (bool, str, bytes)):
        raise ConfigError(f"{name} must be a number, got {value!r}")
    try:
        return float(value)
    except (TypeError, ValueError, OverflowError):
        raise ConfigError(f"{name} must be a number, got {value!r}") from None


def _check_float(name: str, value: Any, low_exclusive: float = 0.0) -> float:
    value = _number(name, value)
    if not math.isfinite(value) or value <= low_exclusive:
        raise ConfigError(f"{name} must be a finite number > {low_exclusive}, got {value}")
    return value


def adjust_compatibility(w: int, b: float, g: int) -> tuple[int, int]:
    """Group-width compatibility of one stage (paper Appendix D, pycls rounding).

    Returns the adjusted ``(w, g)``: the bottleneck width ``w_b = int(w / b)`` is rounded
    half-to-even to a multiple of ``g = min(g, w_b)``, then ``w = int(w_b * b)``. For an inverted
    bottleneck (``b < 1``) ``w_b`` is rounded to a multiple of lcm(g, 1/b) so that ``w`` stays an
    integer, as pycls does. Depths never change.

    Example:
        >>> adjust_compatibility(168, 1, 112)   # RegNetX-12GF stage 1
        (224, 112)
        >>> adjust_compatibility(80, 1, 120)    # RegNetX-8.0GF stage 1: a single group
        (80, 80)
    """
    w_b = int(max(1, w / b))
    g = int(min(g, w_b))
    inv = 1.0 / b
    m = math.lcm(g, round(inv)) if b < 1 and abs(inv - round(inv)) < 1e-9 else g
    w_b = max(m, int(round(w_b / m) * m))
    return int(w_b * b), g


@dataclass(frozen=True)
class Stage:
    """One stage: ``d`` identical blocks of width ``w``; the first has stride ``s``.

    Example:
        >>> Stage(d=2, w=64, s=2, b=1, g=16).w_b
        64
    """

    d: int
    w: int
    s: int = 2
    b: float = 1.0
    g: int = 1

    def __post_init__(self) -> None:
        object.__setattr__(self, "d", _check_int("stage depth d", self.d, 1, 1024))
        object.__setattr__(self, "w", _check_int("stage width w", self.w, 1, 1 << 16))
        object.__setattr__(self, "s", _check_int("stage stride s", self.s, 1, 4))
        b = _check_float("bottleneck ratio b", self.b)
        object.__setattr__(self, "b", int(b) if b.is_integer() else b)
        object.__setattr__(self, "g", _check_int("group width g", self.g, 1, 1 << 16))

    @classmethod
    def from_dict(cls, data: Any, *, where: str = "a stage") -> "Stage":
        """A Stage from a mapping with keys ``d``, ``w`` (required), ``s``, ``b``, ``g``; a
        ConfigError naming ``where`` and the bad or missing keys otherwise.

        Example:
            >>> Stage.from_dict({"d": 2, "w": 64, "g": 16}).g
            16
            >>> Stage.from_dict({"d": 2, "width": 64}, where="stage 1")
            Traceback (most recent call last):
            ...
            regnet_space.errors.ConfigError: stage 1: unknown key(s) ['width']; a stage takes d, w (required), s, b, g
        """
        if isinstance(data, Stage):
            return data
        if not isinstance(data, Mapping):
            raise ConfigError(f"{where} must be an object with keys d, w (required), s, b, g; "
                              f"got {type(data).__name__} {data!r}")
        allowed = "d, w (required), s, b, g"
        extra = sorted(set(map(str, data)) - set(cls.__dataclass_fields__))
        if extra:
            raise ConfigError(f"{where}: unknown key(s) {extra}; a stage takes {allowed}")
        missing = [k for k in ("d", "w") if k not in data]
        if missing:
            raise ConfigError(f"{where}: missing key(s) {missing}; a stage takes {allowed}")
        try:
            return cls(**{str(k): v for k, v in data.items()})
        except ConfigError as e:
            raise ConfigError(f"{where}: {e}") from None

    @property
    def w_b(self) -> int:
        """Bottleneck width ``w / b`` (what the 3x3 group conv runs at)."""
        return int(round(self.w / self.b))

    @property
    def groups(self) -> int:
        """Number of groups of the 3x3 conv: ``w_b / g``."""
        return max(1, self.w_b // self.g)


@dataclass(frozen=True)
class NetConfig:
    """An AnyNet: stem -> stages -> head. Frozen, hashable, validated, JSON round-trippable.

    ``stages`` may be given as :class:`Stage` objects or as mappings with the same keys.
    ``se_ratio`` defaults to 0.25 for Y blocks (SE width ``round(0.25 * w_in)`` of the block's
    input width) and must be 0 for the others.

    Example:
        >>> cfg = NetConfig(stages=[Stage(1, 24), Stage(1, 56), Stage(4, 152), Stage(7, 368)],
        ...                 block="X")
        >>> cfg.widths, cfg.depths
        ((24, 56, 152, 368), (1, 1, 4, 7))
        >>> NetConfig.from_json(cfg.to_json()) == cfg
        True
    """

    stages: tuple[Stage, ...]
    block: str = "X"
    stem: str = "imagenet"
    stem_w: int = 32
    se_ratio: float | None = None
    in_channels: int = 3
    num_classes: int = 1000
    resolution: int = 224

    def __post_init__(self) -> None:
        if self.block not in BLOCKS:
            raise ConfigError(f"block must be one of {', '.join(BLOCKS)}, got {self.block!r}")
        if self.stem not in STEMS:
            raise ConfigError(f"stem must be one of {', '.join(STEMS)}, got {self.stem!r}")
        set_ = object.__setattr__
        set_(self, "stem_w", _check_int("stem_w", self.stem_w, 1, 1 << 16))
        set_(self, "in_channels", _check_int("in_channels", self.in_channels, 1, 1 << 12))
        set_(self, "num_classes", _check_int("num_classes", self.num_classes, 1, 1 << 20))
        set_(self, "resolution", _check_int("resolution", self.resolution, 1, 1 << 14))
        if self.se_ratio is None:
            set_(self, "se_ratio", 0.25 if self.block == "Y" else 0.0)
        se = _number("se_ratio", self.se_ratio)
        if self.block == "Y" and not 0.0 < se <= 1.0:
            raise ConfigError(f"se_ratio must be in (0, 1] for Y blocks, got {se}")
        if self.block != "Y" and se != 0.0:
            raise ConfigError(f"se_ratio must be 0 for {self.block} blocks (SE is the Y block)")
        set_(self, "se_ratio", se)
        if isinstance(self.stages, (str, bytes, Mapping)) or not isinstance(self.stages, Iterable):
            raise ConfigError("stages must be a sequence of Stage (or dicts with d, w, s, b, g)")
        stages = tuple(Stage.from_dict(s, where=f"stage {i}")
                       for i, s in enumerate(self.stages, 1))
        if not 1 <= len(stages) <= 16:
            raise ConfigError(f"stages must hold 1..16 stages, got {len(stages)}")
        set_(self, "stages", tuple(self._compatible(s) for s in stages))

    def _compatible(self, st: Stage) -> Stage:
        if self.block in ("V", "VR"):
            # No bottleneck: b and g carry no meaning, normalise them so equal nets compare equal.
            return replace(st, b=1, g=st.w)
        # R = X without groups: a group width spanning all of w_b.
        g = int(max(1, st.w / st.b)) if self.block == "R" else st.g
        w, g = adjust_compatibility(st.w, st.b, g)
        return replace(st, w=w, g=g)

    # ------------------------------------------------------------------ views
    @property
    def depths(self) -> tuple[int, ...]:
        return tuple(s.d for s in self.stages)

    @property
    def widths(self) -> tuple[int, ...]:
        return tuple(s.w for s in self.stages)

    @property
    def strides(self) -> tuple[int, ...]:
        return tuple(s.s for s in self.stages)

    @property
    def bs(self) -> tuple[float, ...]:
        return tuple(s.b for s in self.stages)

    @property
    def gs(self) -> tuple[int, ...]:
        return tuple(s.g for s in self.stages)

    @property
    def depth(self) -> int:
        """Total number of blocks ``d``."""
        return sum(self.depths)

    @property
    def block_widths(self) -> tuple[int, ...]:
        """Per-block widths ``w_j`` (the staircase the quantized linear fit works on)."""
        return tuple(s.w for s in self.stages for _ in range(s.d))

    # ------------------------------------------------------------------ constructors
    @classmethod
    def from_lists(
        cls,
        ds: Iterable[int],
        ws: Iterable[int],
        *,
        ss: Iterable[int] | int = 2,
        bs: Iterable[float] | float = 1,
        gs: Iterable[int] | int = 1,
        **kwargs: Any,
    ) -> "NetConfig":
        """Build from per-stage lists (scalars broadcast to every stage).

        Example:
            >>> NetConfig.from_lists([1, 1, 4, 7], [24, 56, 152, 368], gs=8).gs
            (8, 8, 8, 8)
        """
        ds, ws = list(ds), list(ws)
        if len(ds) != len(ws):
            raise ConfigError(f"ds and ws must have the same length, got {len(ds)} and {len(ws)}")

        def per_stage(name: str, v: Any) -> list:
            v = list(v) if isinstance(v, Iterable) and not isinstance(v, str) else [v] * len(ds)
            if len(v) != len(ds):
                raise ConfigError(f"{name} must have {len(ds)} entries (one per stage), got {len(v)}")
            return v

        ss, bs, gs = per_stage("ss", ss), per_stage("bs", bs), per_stage("gs", gs)
        stages = [Stage(d, w, s, b, g) for d, w, s, b, g in zip(ds, ws, ss, bs, gs)]
        return cls(stages=tuple(stages), **kwargs)

    def with_input(self, resolution: int, *, in_channels: int | None = None,
                   num_classes: int | None = None, stem: str | None = None) -> "NetConfig":
        """The same stages for another input; the stem follows the resolution unless given.

        Below 64 pixels the small-image stem (3x3, stride 1) is used, as in pycls's CIFAR models.

        Example:
            >>> NetConfig.from_lists([1], [8]).with_input(28, in_channels=1, num_classes=10).stem
            'small'
        """
        if stem is None:
            stem = "small" if resolution < 64 else ("imagenet" if self.stem == "small" else self.stem)
        return replace(
            self,
            resolution=resolution,
            stem=stem,
            in_channels=self.in_channels if in_channels is None else in_channels,
            num_classes=self.num_classes if num_classes is None else num_classes,
        )

    # ------------------------------------------------------------------ serialisation
    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "NetConfig":
        """Inverse of :meth:`to_dict`; unknown keys raise a ConfigError naming them."""
        if not isinstance(data, Mapping):
            raise ConfigError(f"a NetConfig must be a JSON object, got {type(data).__name__}")
        known = set(cls.__dataclass_fields__)
        extra = sorted(set(data) - known)
        if extra:
            raise ConfigError(f"unknown NetConfig field(s) {extra}; allowed: {sorted(known)}")
        if "stages" not in data:
            raise ConfigError("a NetConfig needs 'stages'")
        return cls(**dict(data))

    def to_json(self, **kwargs: Any) -> str:
        return json.dumps(self.to_dict(), **kwargs)

    @classmethod
    def from_json(cls, text: str) -> "NetConfig":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as e:
            raise ConfigError(f"not valid JSON: {e}") from None
        return cls.from_dict(data)
