"""``regnet-space train``: train one network briefly and print its EvalResult.

The evaluator's options live in three reusable functions, so ``sweep`` and ``nni-config`` take
exactly the same flags:

* :func:`add_train_arguments` adds the data and recipe options to a parser,
* :func:`settings_from_args` turns them into a :class:`~regnet_space.evaluator.TrainSettings`,
* :func:`data_from_args` loads the :class:`~regnet_space.data.Data` they describe.

Nothing here imports torch at module level (``regnet-space --help`` stays fast).
"""

from __future__ import annotations

import argparse
import json
import sys

DATA_CHOICES_HELP = "fashion-mnist (default), mnist, cifar10, imagefolder, synthetic, or a directory"


def add_train_arguments(p: argparse.ArgumentParser, *, resolution: bool = True) -> None:
    """The evaluator's options: data set, subsets, recipe, device.

    ``resolution=False`` leaves out ``--resolution`` for commands that define their own.
    Every recipe option defaults to None, meaning "the preset's value" (see ``--preset``).
    """
    d = p.add_argument_group("data")
    d.add_argument("--data", default="fashion-mnist", metavar="NAME|DIR", help=DATA_CHOICES_HELP)
    d.add_argument("--data-dir", help="folder holding the data set (searched first; also "
                   "$REGNET_SPACE_FASHION_MNIST, $REGNET_SPACE_CIFAR10, $REGNET_SPACE_DATA)")
    d.add_argument("--train-size", type=int, help="class-balanced training subset (default: all)")
    d.add_argument("--val-size", type=int, help="validation images carved from the training split; "
                   "when given, candidates are ranked by validation error (default: none)")
    d.add_argument("--test-size", type=int, help="class-balanced test subset (default: all)")
    d.add_argument("--data-seed", type=int, default=0, help="seed of the subsets (default 0)")
    if resolution:
        d.add_argument("--resolution", type=int, help="train at this input size, resizing the "
                       "images (default: the data's own, e.g. 28 for Fashion-MNIST, so zoo models "
                       "get the small-image stem; an image folder defaults to the config's)")
    d.add_argument("--no-augment", dest="augment", action="store_false", default=None,
                   help="no random crop / flip")
    r = p.add_argument_group("recipe (defaults: the preset's; paper = SGD 0.9, batch 128, cosine, "
                             "lr 0.05, wd 5e-5, 10 epochs)")
    r.add_argument("--preset", default="paper", help="paper (section 3), section4 (25 epochs, "
                   "lr 0.1) or quick (1 epoch); flags below override it")
    r.add_argument("--epochs", type=int)
    r.add_argument("--lr", type=float, help="initial learning rate (half-period cosine)")
    r.add_argument("--wd", "--weight-decay", dest="weight_decay", type=float, help="weight decay")
    r.add_argument("--momentum", type=float)
    r.add_argument("--batch-size", type=int)
    r.add_argument("--label-smoothing", type=float)
    r.add_argument("--seed", type=int, help="training seed: init, batch order, augmentation")
    h = p.add_argument_group("hardware")
    h.add_argument("--device", help="auto (default: cuda when available), cpu, cuda, cuda:N")
    h.add_argument("--compile", action="store_true", default=None, help="torch.compile the model")
    h.add_argument("--threads", type=int, help="CPU threads (default: all cores; 1 is faster on "
                   "a machine busy with other jobs)")
    h.add_argument("--deterministic", action="store_true", default=None,
                   help="deterministic CUDA kernels (slower; CPU runs are deterministic anyway)")


_SETTING_ARGS = ("epochs", "lr", "weight_decay", "momentum", "batch_size", "label_smoothing",
                 "seed", "device", "compile", "threads", "deterministic", "augment")


def settings_from_args(args: argparse.Namespace):
    """TrainSettings from the parsed options (``--preset`` plus the flags that were given)."""
    from ..evaluator import TrainSettings

    over = {k: getattr(args, k, None) for k in _SETTING_ARGS}
    return TrainSettings.from_preset(getattr(args, "preset", None) or "paper", **over)


def data_from_args(args: argparse.Namespace, *, default_resolution: int | None = None):
    """The Data the options describe. ``default_resolution`` applies to image folders only
    (ImageNet-style trees are resized to the config's resolution unless --resolution says)."""
    from ..data import canonical_name, load_data

    res = getattr(args, "resolution", None)
    if res is None and default_resolution is not None:
        name = str(args.data)
        is_folder = ("/" in name or "\\" in name) or canonical_name(name) == "imagefolder"
        if is_folder:
            res = default_resolution
    return load_data(args.data, data_dir=args.data_dir, train_size=args.train_size,
                     val_size=args.val_size, test_size=args.test_size,
                     seed=args.data_seed, resolution=res, flip=None)


def run_train(args: argparse.Namespace) -> int:
    from .core import load_config

    cfg = load_config(args.model)
    settings = settings_from_args(args)  # validate the recipe before loading data
    data = data_from_args(args, default_resolution=cfg.resolution)
    from ..evaluator import evaluate

    progress = (not args.json and sys.stderr.isatty()) if args.progress is None else args.progress
    result = evaluate(cfg, data, settings, adapt=args.adapt, progress=progress)
    if args.json:
        print(json.dumps(result.to_dict(), indent=2 if args.indent else None))
    else:
        print(f"{args.model}: {data!r}")
        print(result.summary())
    return 0 if result.ok else 1


def register(sub) -> None:
    p = sub.add_parser(
        "train", help="train one network briefly (the paper's recipe) and report its error",
        description="Train a zoo model or a config JSON briefly on a small data set and print "
                    "its top-1 error, complexity and speed. Exit code 0 when the run is ok, 1 "
                    "when it diverged / ran out of memory / failed, 2 on bad input.")
    p.add_argument("model", help="zoo name (RegNetX-200MF, regnety_008, resnet50...) or a config "
                   "JSON file (a NetConfig, or `regnet-space sample --json` output)")
    add_train_arguments(p)
    p.add_argument("--no-adapt", dest="adapt", action="store_false",
                   help="refuse a config whose resolution / channels / classes differ from the "
                   "data's (default: adapt it with NetConfig.with_input)")
    p.add_argument("--json", action="store_true", help="print the EvalResult as JSON")
    p.add_argument("--indent", action="store_true", help="indent the JSON")
    p.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                   help="progress bar (default: when stderr is a terminal and not --json)")
    p.set_defaults(func=run_train)
