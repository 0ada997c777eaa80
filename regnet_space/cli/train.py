"""``regnet-space train``: train one network briefly and print what it trained and its error."""

from __future__ import annotations

import argparse
import json
import sys

from .common import UsageError, load_configs


def run(args) -> int:
    from ..budget import fmt_amount
    from ..complexity import complexity
    from ..errors import ConfigError
    from ..training.options import data_options, settings_from_options

    configs = load_configs(args.model)
    if args.index is not None:
        if not 0 <= args.index < len(configs):
            raise UsageError(f"--index {args.index} is out of range: {args.model} holds "
                             f"{len(configs)} model(s)")
        configs = [configs[args.index]]
    elif len(configs) > 1:
        raise UsageError(f"{args.model} holds {len(configs)} models; pick one with --index K "
                         f"(0..{len(configs) - 1})")
    cfg = configs[0]
    settings = settings_from_options(args)  # validate the recipe before loading data
    data = data_options(args).load(default_resolution=cfg.resolution)
    from ..training import evaluate, match_input

    try:
        fitted = match_input(cfg, data, adapt=args.adapt)
    except ConfigError:
        if args.adapt:
            raise
        raise UsageError(  # the library's message names its own API; this one names the flag
            f"{args.model} is for {cfg.in_channels}x{cfg.resolution}x{cfg.resolution} inputs and "
            f"{cfg.num_classes} classes, but {data.name} has {data.in_channels}x"
            f"{data.resolution}x{data.resolution} images and {data.num_classes} classes; drop "
            "--no-adapt to train it adapted to the data") from None
    if fitted != cfg and not args.json:
        before, after = complexity(cfg).flops, complexity(fitted).flops
        print(f"note: the config is for {cfg.in_channels}x{cfg.resolution}x{cfg.resolution} "
              f"inputs and {cfg.num_classes} classes; training it on {data.name}'s "
              f"{data.in_channels}x{data.resolution}x{data.resolution} images and "
              f"{data.num_classes} classes ({fitted.stem} stem): flops {fmt_amount(before)} -> "
              f"{fmt_amount(after)} (--no-adapt refuses instead)", file=sys.stderr, flush=True)
    progress = (not args.json and sys.stderr.isatty()) if args.progress is None else args.progress
    if not args.json:
        from ..training.evaluator import resolve_device

        threads = settings.threads or "a share of the cores"
        print(f"{args.model}: {data!r}")
        print(f"{settings.describe()}; threads {threads}, device "
              f"{resolve_device(settings.device)}", flush=True)
    result = evaluate(fitted, data, settings, progress=progress)
    if args.json:
        print(json.dumps(result.to_dict(), indent=2 if args.indent else None))
    else:
        print(result.summary())
    return 0 if result.ok else 1


def register(sub) -> None:
    from ..training.options import add_options

    p = sub.add_parser(
        "train", help="train one network briefly and report its error",
        description="Train a zoo model or a config JSON briefly on a small data set (default: "
                    "the brief recipe: 3 epochs on 10,000 Fashion-MNIST images, ranked on 5,000 "
                    "validation images, tested once on the 10,000 test images) and print "
                    "the recipe, its top-1 errors, complexity and speed; --seeds K trains K "
                    "seeds and prints their mean and sd. Exit code 0 when the run "
                    "is ok, 1 when it diverged, ran out of memory or failed, 2 on bad input.")
    p.add_argument("model", help="zoo model name (RegNetX-200MF, regnety_008, resnet50, ...) or "
                   "a config JSON file (one config, or the output of `regnet-space sample --json`)")
    p.add_argument("--index", type=int, metavar="K", help="which model of a JSON file holding "
                   "several to train (0 is the first)")
    add_options(p)
    p.add_argument("--no-adapt", dest="adapt", action="store_false",
                   help="refuse a config whose resolution, channels or classes differ from the "
                   "data's (default: adapt it, saying so)")
    p.add_argument("--json", action="store_true", help="print the result (status, errors, "
                   "complexity, timings) as JSON")
    p.add_argument("--indent", action="store_true", help="indent the JSON")
    p.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                   help="progress bar (default: when stderr is a terminal and not --json)")
    p.set_defaults(func=run)
