"""Training and data options as command-line flags, generated from the recipe's metadata.

``regnet-space train``, ``sweep``, ``nni-config`` and the NNI trial entry point share these flags,
so the library (the NNI trial) never imports the CLI. Every recipe flag comes from a
:class:`~regnet_space.training.recipe.TrainSettings` field's metadata and every data flag from a
:class:`DataOptions` field's, so a new knob is one field.

A flag left out means "the preset's value" (``--preset``, default ``brief``): the preset fixes the
recipe and the data subset it was tuned for (``--train-size``, ``--val-size``, ``--test-size``;
``all`` = the whole split; ``--val-size 0`` = no validation split).

Example:
    >>> import argparse
    >>> p = argparse.ArgumentParser()
    >>> add_options(p)
    >>> ns = p.parse_args(["--lr", "0.1", "--train-size", "1000"])
    >>> settings_from_options(ns).lr, data_options(ns).train_size, data_options(ns).test_size
    (0.1, 1000, None)
    >>> option_tokens(ns)
    ['--preset', 'brief', '--data', 'fashion-mnist', '--train-size', '1000', '--lr', '0.1']
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field, fields
from typing import Any

from ..errors import ConfigError
from .recipe import PRESETS, TrainSettings, cli_fields, preset_data, preset_key


def _opt(default: Any, help: str, *, flag: str | None = None) -> Any:
    return field(default=default, metadata={"help": help, "flag": flag})


@dataclass(frozen=True)
class DataOptions:
    """Which data set and which subset a run trains and tests on (None: the preset's subset).

    Example:
        >>> DataOptions(train_size=1000).resolved("brief")
        DataOptions(data='fashion-mnist', data_dir=None, train_size=1000, val_size=5000, test_size=None, data_seed=0, resolution=None)
    """

    data: str = _opt("fashion-mnist", "fashion-mnist (default), mnist, cifar10, imagefolder, "
                     "synthetic, or a folder holding one of them. cifar10 reads python pickles, "
                     "and loading a pickle runs whatever code it contains: it is read only from "
                     "a folder you name (--data-dir, --data DIR or $REGNET_SPACE_CIFAR10), so use "
                     "trusted files only")
    data_dir: str | None = _opt(None, "folder holding the data set; the only place looked when "
                                "given (else $REGNET_SPACE_FASHION_MNIST, $REGNET_SPACE_MNIST or "
                                "$REGNET_SPACE_CIFAR10, then $REGNET_SPACE_DATA/<name>, then the "
                                "system copy, e.g. /usr/share/datasets/fashion-mnist). A folder "
                                "you name must exist and hold the set")
    train_size: int | None = _opt(None, "class-balanced training subset, or 'all' (default: the "
                                  "preset's)")
    val_size: int | None = _opt(None, "validation images carved from the training split "
                                "(disjoint from the training subset), scored after every "
                                "epoch: candidates are ranked by validation error and the test "
                                "split is scored once at the end; 0 = none, rank by test error "
                                "(default: the preset's)")
    test_size: int | None = _opt(None, "class-balanced test subset, or 'all' (default: the "
                                 "preset's)")
    data_seed: int = _opt(0, "seed of the subsets (default 0)")
    resolution: int | None = _opt(None, "resize the images to this input size and train "
                                  "there (default: the data's own, e.g. 28 for Fashion-MNIST; "
                                  "the budget is then counted at this size)", flag="--resize")

    def resolved(self, preset: str | None) -> "DataOptions":
        """These options with the preset's subset sizes where none was given."""
        d = preset_data(preset)
        sizes = {k: (d.get(k) if getattr(self, k) is None else getattr(self, k))
                 for k in ("train_size", "val_size", "test_size")}
        return DataOptions(**{**{f.name: getattr(self, f.name) for f in fields(self)}, **sizes})

    def load(self, *, default_resolution: int | None = None):
        """The :class:`~regnet_space.training.data.Data` these options describe (sizes as
        given; call :meth:`resolved` first for the preset's). ``default_resolution`` applies to
        image folders only (ImageNet-style trees are resized to it unless ``resolution`` says)."""
        from .data import canonical_name, load_data

        res = self.resolution
        if res is None and default_resolution is not None:
            name = str(self.data)
            if "/" in name or "\\" in name or canonical_name(name) == "imagefolder":
                res = default_resolution
        return load_data(self.data, data_dir=self.data_dir, train_size=_size(self.train_size),
                         val_size=self.val_size or None, test_size=_size(self.test_size),
                         seed=self.data_seed, resolution=res)


def _size(v: int | None) -> int | None:
    return None if v == ALL else v


#: ``--train-size all``: the whole split (stored as -1, since None means "the preset's").
ALL = -1


def _size_arg(text: str) -> int:
    if str(text).strip().lower() == "all":
        return ALL
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer or 'all', got {text!r}")
    if v < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1 (or 'all'), got {v}")
    return v


def _bool_flag(group, flag: str, dest: str, help: str) -> None:
    group.add_argument(flag, dest=dest, action=argparse.BooleanOptionalAction, default=None,
                       help=help)


def _with_preset(help: str, value: Any) -> str:
    """A recipe flag's help with the brief preset's value (what a flag left out means)."""
    shown = "None (a share of the cores)" if value is None else value
    return f"{help} (brief: {shown}; other presets: --preset)"


def add_options(p: argparse.ArgumentParser, *, resolution: bool = True) -> None:
    """The data and recipe options (each defaulting to None: the preset's value).

    ``resolution=False`` leaves out ``--resize`` (old spelling ``--resolution``) for commands
    that define their own. Each recipe flag's help shows the brief preset's value.
    """
    d = p.add_argument_group("data")
    brief_data, brief = preset_data("brief"), TrainSettings.from_preset("brief")
    for f in fields(DataOptions):
        if f.name == "resolution" and not resolution:
            continue
        flag = f.metadata["flag"] or "--" + f.name.replace("_", "-")
        kind = _size_arg if f.name in ("train_size", "test_size") else (
            int if f.name in ("val_size", "data_seed", "resolution") else str)
        help = f.metadata["help"]
        if f.name in brief_data:  # the preset's value, shown
            v = brief_data[f.name]
            help = help.replace("(default: the preset's)", f"(default: the preset's; brief: "
                                f"{'all' if v is None else v})")
        d.add_argument(flag, dest=f.name, type=kind, default=None, help=help,
                       metavar="N" if kind is not str else None)
        if f.name == "resolution":  # the old spelling, for one release
            d.add_argument("--resolution", dest=f.name, type=kind, default=argparse.SUPPRESS,
                           help=argparse.SUPPRESS)
    names = ", ".join(f"{k} ({v['help']})" for k, v in PRESETS.items())
    r = p.add_argument_group("recipe (a flag left out takes the preset's value)")
    r.add_argument("--preset", default="brief", help=f"named recipe: {names}")
    for f in cli_fields():
        flag = f.metadata["flag"] or "--" + f.name.replace("_", "-")
        if f.type in ("bool", bool):
            _bool_flag(r, flag, f.name, _with_preset(f.metadata["help"], getattr(brief, f.name)))
            continue
        kind = {"int": int, "float": float, "int | None": int}.get(str(f.type), str)
        choices = f.metadata.get("choices")
        r.add_argument(flag, dest=f.name, type=kind, default=None, choices=choices,
                       help=_with_preset(f.metadata["help"], getattr(brief, f.name)))


def settings_from_options(ns: argparse.Namespace) -> TrainSettings:
    """TrainSettings from parsed options: ``--preset`` plus the flags that were given."""
    over = {f.name: getattr(ns, f.name, None) for f in cli_fields()}
    return TrainSettings.from_preset(getattr(ns, "preset", None) or "brief", **over)


def data_options(ns: argparse.Namespace) -> DataOptions:
    """DataOptions from parsed options, with the preset's subset sizes filled in."""
    kw = {f.name: getattr(ns, f.name) for f in fields(DataOptions)
          if getattr(ns, f.name, None) is not None}
    return DataOptions(**kw).resolved(getattr(ns, "preset", None))


def option_tokens(ns: argparse.Namespace, *, resolution: bool = True) -> list[str]:
    """The options given in ``ns`` as command-line tokens, to hand to another process (e.g.
    the NNI trial command). The preset and the data set are always written out."""
    out = ["--preset", preset_key(getattr(ns, "preset", None))]
    out += ["--data", str(getattr(ns, "data", None) or DataOptions.data)]
    for f in fields(DataOptions):
        if f.name == "data" or (f.name == "resolution" and not resolution):
            continue
        v = getattr(ns, f.name, None)
        if v is not None:
            flag = f.metadata["flag"] or "--" + f.name.replace("_", "-")
            out += [flag, "all" if v == ALL else str(v)]
    for f in cli_fields():
        v = getattr(ns, f.name, None)
        if v is None:
            continue
        flag = f.metadata["flag"] or "--" + f.name.replace("_", "-")
        if isinstance(v, bool):
            out.append(flag if v else "--no-" + flag[2:])
        else:
            out += [flag, str(v)]
    return out


def check_positive(name: str, v: int | None) -> None:
    if v is not None and v != ALL and v < 1:
        raise ConfigError(f"{name} must be >= 1, got {v}")


__all__ = ["ALL", "DataOptions", "add_options", "data_options", "option_tokens",
           "settings_from_options"]
