"""Pieces several commands share: input presets, reading a config, usage errors."""

from __future__ import annotations

import argparse
import json
import shlex
from pathlib import Path
from typing import Any

from ..errors import ConfigError

#: Input presets: (resolution, in_channels, num_classes). The paper's numbers are ImageNet's.
INPUTS = {"imagenet": (224, 3, 1000), "fashion-mnist": (28, 1, 10), "cifar10": (32, 3, 10)}


class UsageError(ConfigError):
    """Bad command-line input: printed as one line, exit code 2."""


def add_input_options(p: argparse.ArgumentParser) -> None:
    """--input / --count-at (old spelling --resolution) / --in-channels / --num-classes /
    --stem: the input complexity is counted at."""
    p.add_argument("--input", choices=sorted(INPUTS), default="imagenet",
                   help="input preset: resolution, channels and classes (default imagenet: "
                   "224, 3, 1000; fashion-mnist: 28, 1, 10; cifar10: 32, 3, 10)")
    p.add_argument("--count-at", dest="resolution", type=int, metavar="PIXELS",
                   help="count complexity at this input resolution (overrides --input's; 28 for "
                   "the Fashion-MNIST that train and sweep use); below 64 the small stem is used "
                   "unless --stem says otherwise")
    p.add_argument("--resolution", dest="resolution", type=int, default=argparse.SUPPRESS,
                   help=argparse.SUPPRESS)  # the old spelling, for one release
    p.add_argument("--in-channels", type=int, metavar="N",
                   help="input channels (overrides --input)")
    p.add_argument("--num-classes", type=int, metavar="N", help="classes (overrides --input)")
    p.add_argument("--stem", choices=["imagenet", "resnet", "small"],
                   help="first layer: imagenet (3x3 conv, stride 2), resnet (7x7 conv, stride 2, "
                   "then max pooling) or small (3x3 conv, stride 1); default: small below 64 "
                   "pixels, else the model's")


def input_from_options(args) -> tuple[int, int, int]:
    res, ch, nc = INPUTS[args.input]
    res = args.resolution if args.resolution is not None else res
    ch = args.in_channels if args.in_channels is not None else ch
    nc = args.num_classes if args.num_classes is not None else nc
    for name, v in (("--count-at/--resolution", res), ("--in-channels", ch),
                    ("--num-classes", nc)):
        if v < 1:
            raise UsageError(f"{name} must be >= 1, got {v}")
    return res, ch, nc


def input_given(args) -> bool:
    return args.input != "imagenet" or any(
        v is not None for v in (args.resolution, args.in_channels, args.num_classes, args.stem))


def load_configs(name_or_path: str) -> list:
    """Every NetConfig a zoo name or JSON file holds: a NetConfig, an object with a "config"
    key, or a list of them (what ``sample --json`` prints)."""
    from ..config import NetConfig
    from ..zoo import get_config, model_names

    path = Path(name_or_path)
    if path.suffix == ".json" or path.exists():
        if path.is_dir():
            raise UsageError(f"{path} is a folder; give a config JSON file or a zoo model name")
        if not path.is_file():
            raise UsageError(f"no such config file: {path}")
        try:
            data = json.loads(path.read_text())
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            raise UsageError(f"{path} is not valid JSON: {e}") from None
        except RecursionError:
            raise UsageError(f"{path} is nested too deeply to be a config") from None
        items = data if isinstance(data, list) else [data]
        if not items:
            raise UsageError(f"{path} holds an empty list")
        out = []
        for i, item in enumerate(items):
            if isinstance(item, dict) and "config" in item:
                item = item["config"]
            try:
                out.append(NetConfig.from_dict(item))
            except RecursionError:
                raise UsageError(f"{path} is nested too deeply to be a config") from None
            except ConfigError as e:
                where = f"{path} (model {i})" if len(items) > 1 else str(path)
                raise UsageError(f"{where}: {e}") from None
        return out
    try:
        return [get_config(name_or_path)]
    except ConfigError:
        raise UsageError(f"{name_or_path!r} is neither a config JSON file nor a known model; "
                         f"known models: {', '.join(model_names())}") from None


def shell_command(*argv: Any) -> str:
    """A command line a user can paste into a shell (every token quoted as needed).

    Example:
        >>> shell_command("regnet-space", "export", "--study", "my study")
        "regnet-space export --study 'my study'"
    """
    return " ".join(shlex.quote(str(a)) for a in argv)


def printable(text: Any) -> str:
    """``text`` as it may be printed on a terminal or in a log: as is when it holds no control
    character or line separator, else escaped (repr), so a study name cannot forge a log line or
    send terminal escape codes.

    Example:
        >>> printable("my study")
        'my study'
        >>> print(printable("x" + chr(10) + "[done] y"))
        'x\\n[done] y'
    """
    import unicodedata

    text = str(text)
    if any(unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") for c in text):
        return repr(text)
    return text


def positive(name: str, value: int | None, minimum: int = 1, maximum: int | None = None) -> None:
    """Refuse ``value`` below ``minimum`` (or above ``maximum``: a huge number fails up front, not
    deep inside a library), naming the flag."""
    if value is not None and value < minimum:
        raise UsageError(f"{name} must be >= {minimum}, got {value}")
    if value is not None and maximum is not None and value > maximum:
        raise UsageError(f"{name} must be in [{minimum}, {maximum}], got {value}")


__all__ = ["INPUTS", "UsageError", "add_input_options", "input_from_options", "load_configs",
           "positive", "printable", "shell_command"]
