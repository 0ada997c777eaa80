"""``regnet-space describe | sample | spaces``: the numpy-only commands (no torch import)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

#: Input presets: (resolution, in_channels, num_classes). The paper's numbers are ImageNet's.
INPUTS = {"imagenet": (224, 3, 1000), "fashion-mnist": (28, 1, 10), "cifar10": (32, 3, 10)}


def add_input_arguments(p: argparse.ArgumentParser) -> None:
    """--input / --resolution / --in-channels / --num-classes / --stem (shared by core commands)."""
    p.add_argument("--input", choices=sorted(INPUTS), default="imagenet",
                   help="input preset: resolution, channels and classes (default imagenet: 224, 3, 1000)")
    p.add_argument("--resolution", type=int, help="input resolution (overrides --input); below 64 "
                   "the small-image stem is used unless --stem says otherwise")
    p.add_argument("--in-channels", type=int, help="input channels (overrides --input)")
    p.add_argument("--num-classes", type=int, help="classes (overrides --input)")
    p.add_argument("--stem", choices=["imagenet", "resnet", "small"], help="stem type")


def input_from_args(args) -> tuple[int, int, int]:
    res, ch, nc = INPUTS[args.input]
    res = args.resolution if args.resolution is not None else res
    ch = args.in_channels if args.in_channels is not None else ch
    nc = args.num_classes if args.num_classes is not None else nc
    for name, v in (("--resolution", res), ("--in-channels", ch), ("--num-classes", nc)):
        if v < 1:
            raise ValueError(f"{name} must be >= 1, got {v}")
    return res, ch, nc


def load_config(name_or_path: str):
    """A zoo name, or a JSON file holding a NetConfig or an object with a "config" key
    (what ``sample --json`` prints; a list takes its first element)."""
    from ..config import NetConfig
    from ..zoo import get_config, model_names

    path = Path(name_or_path)
    if path.suffix == ".json" or path.exists():
        if not path.exists():
            raise FileNotFoundError(f"no such config file: {path}")
        try:
            data = json.loads(path.read_text())
        except json.JSONDecodeError as e:
            raise ValueError(f"{path} is not valid JSON: {e}") from None
        if isinstance(data, list):
            if not data:
                raise ValueError(f"{path} holds an empty list")
            data = data[0]
        if isinstance(data, dict) and "config" in data:
            data = data["config"]
        return NetConfig.from_dict(data)
    try:
        return get_config(name_or_path)
    except ValueError:
        raise ValueError(f"{name_or_path!r} is neither a config JSON file nor a known model; "
                         f"known models: {', '.join(model_names())}") from None


def _fmt(x) -> str:
    from ..budget import fmt_amount
    return fmt_amount(x)


def _describe_text(cfg) -> str:
    from ..complexity import complexity, stage_complexities

    stem, stages, head = stage_complexities(cfg)
    rows = [("stage", "d", "w", "s", "b", "w_b", "g", "groups", "flops", "params", "acts")]
    rows.append(("stem", "", str(cfg.stem_w), "", "", "", "", "", _fmt(stem.flops),
                 _fmt(stem.params), _fmt(stem.acts)))
    for i, (st, cx) in enumerate(zip(cfg.stages, stages), 1):
        rows.append((f"s{i}", str(st.d), str(st.w), str(st.s), f"{st.b:g}", str(st.w_b), str(st.g),
                     str(st.groups), _fmt(cx.flops), _fmt(cx.params), _fmt(cx.acts)))
    rows.append(("head", "", str(cfg.num_classes), "", "", "", "", "", _fmt(head.flops),
                 _fmt(head.params), _fmt(head.acts)))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.rjust(w) for c, w in zip(r, widths)) for r in rows]
    total = complexity(cfg)
    head_line = (f"{cfg.block} blocks, {cfg.stem} stem, input {cfg.in_channels}x{cfg.resolution}x"
                 f"{cfg.resolution}, {cfg.num_classes} classes, depth {cfg.depth}")
    tot = (f"total: flops {total.flops:,} ({_fmt(total.flops)})  params {total.params:,} "
           f"({_fmt(total.params)})  acts {total.acts:,} ({_fmt(total.acts)})")
    return "\n".join([head_line, *lines, tot])


def run_describe(args) -> int:
    from ..complexity import complexity

    cfg = load_config(args.model)
    if any(v is not None for v in (args.resolution, args.in_channels, args.num_classes, args.stem)) \
            or args.input != "imagenet":
        res, ch, nc = input_from_args(args)
        cfg = cfg.with_input(res, in_channels=ch, num_classes=nc, stem=args.stem)
    if args.json:
        out = {"config": cfg.to_dict(), **complexity(cfg).as_dict()}
        try:
            from ..zoo import regnet_params
            p = regnet_params(args.model)
            out["sampled"] = {"d": p.d, "w0": p.w0, "wa": p.wa, "wm": p.wm, "b": p.b, "g": p.g}
        except ValueError:
            pass
        print(json.dumps(out, indent=2))
    else:
        print(_describe_text(cfg))
    return 0


def run_sample(args) -> int:
    from ..spaces import get_space

    res, ch, nc = input_from_args(args)
    space = get_space(args.space, resolution=res, in_channels=ch, num_classes=nc, stem=args.stem,
                      num_stages=args.num_stages, block=args.block)
    if args.n < 1:
        raise ValueError(f"--n must be >= 1, got {args.n}")
    samples = space.sample(args.n, seed=args.seed, flops=args.flops, params=args.params,
                           acts=args.acts, max_draws=args.max_draws,
                           progress=sys.stderr.isatty() and not args.json)
    if args.json:
        print(json.dumps([{"space": space.name, **s.to_dict()} for s in samples], indent=2))
        return 0
    print(f"# {space.name} at {space.resolution}px ({space.stem} stem, {space.block} blocks), "
          f"seed {args.seed}")
    for i, s in enumerate(samples):
        vals = " ".join(f"{k}={v:g}" for k, v in s.values.items())
        print(f"{i:4d}  flops {_fmt(s.flops):>7}  params {_fmt(s.params):>7}  acts "
              f"{_fmt(s.acts):>7}  d={list(s.config.depths)} w={list(s.config.widths)} "
              f"g={list(s.config.gs)}  [{vals}]")
    return 0


def run_spaces(args) -> int:
    from ..spaces import get_space, space_names

    rows = []
    for name in space_names():
        s = get_space(name)
        rows.append({"name": name, "dims": len(s.params), "size": s.size, "block": s.block,
                     "params": [p.describe() for p in s.params], "description": s.description,
                     "constraints": s.structure_descriptions() + s.constraint_descriptions()})
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    print(f"{'space':22s} {'dims':>4s} {'size':>9s}  description")
    for r in rows:
        print(f"{r['name']:22s} {r['dims']:4d} {r['size']:9.1e}  {r['description']}")
    print("\nsize = points of the quantized parameter grid that satisfy the structural constraints "
          "(paper Table 1 counts the AnyNetX spaces the same way; ~1.8e18 for AnyNetX_A).")
    return 0


def register(sub) -> None:
    p = sub.add_parser("describe", help="stage table and exact complexity of a model or config",
                       description="Print the stage table and exact flops/params/acts of a zoo "
                       "model (RegNetX-200MF, regnety_008, resnet50, ...) or a config JSON file.")
    p.add_argument("model", help="zoo name or path to a config JSON")
    add_input_arguments(p)
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=run_describe)

    p = sub.add_parser("sample", help="sample configs from a design space under a budget",
                       description="Draw configs from a design space's distribution, keeping "
                       "those inside the complexity regime (vectorised rejection).")
    p.add_argument("--space", required=True, help="space name (see `regnet-space spaces`)")
    p.add_argument("--n", type=int, default=10, help="number of accepted samples (default 10)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--flops", help="flops range, e.g. 360M:400M (open ends allowed: :400M)")
    p.add_argument("--params", help="params range, e.g. :5M")
    p.add_argument("--acts", help="activations range")
    p.add_argument("--block", help="block type override: X, Y, R, V, VR")
    p.add_argument("--num-stages", type=int, help="stage count (AnyNetX: stages; RegNet: kept count)")
    p.add_argument("--max-draws", type=int, default=20_000_000, help="give up after this many draws")
    add_input_arguments(p)
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=run_sample)

    p = sub.add_parser("spaces", help="list the design spaces with their dimensions and sizes")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=run_spaces)
