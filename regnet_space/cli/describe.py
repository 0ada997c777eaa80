"""``regnet-space describe``: the stage table and exact complexity of a model or config file."""

from __future__ import annotations

import json

from .common import add_input_options, input_from_options, input_given, load_configs


def _describe_text(cfg) -> str:
    from ..budget import fmt_amount as fmt
    from ..complexity import complexity, stage_complexities

    stem, stages, head = stage_complexities(cfg)
    rows = [("stage", "d", "w", "s", "b", "w_b", "g", "groups", "flops", "params", "acts")]
    rows.append(("stem", "", str(cfg.stem_w), "", "", "", "", "", fmt(stem.flops),
                 fmt(stem.params), fmt(stem.acts)))
    for i, (st, cx) in enumerate(zip(cfg.stages, stages), 1):
        rows.append((f"s{i}", str(st.d), str(st.w), str(st.s), f"{st.b:g}", str(st.w_b),
                     str(st.g), str(st.groups), fmt(cx.flops), fmt(cx.params), fmt(cx.acts)))
    rows.append(("head", "", str(cfg.num_classes), "", "", "", "", "", fmt(head.flops),
                 fmt(head.params), fmt(head.acts)))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.rjust(w) for c, w in zip(r, widths)) for r in rows]
    total = complexity(cfg)
    head_line = (f"{cfg.block} blocks, {cfg.stem} stem, input {cfg.in_channels}x{cfg.resolution}x"
                 f"{cfg.resolution}, {cfg.num_classes} classes, depth {cfg.depth}")
    tot = (f"total: flops {total.flops:,} ({fmt(total.flops)})  params {total.params:,} "
           f"({fmt(total.params)})  acts {total.acts:,} ({fmt(total.acts)})")
    return "\n".join([head_line, *lines, tot])


def run(args) -> int:
    from ..complexity import complexity
    from ..errors import ConfigError

    configs = load_configs(args.model)
    if input_given(args):
        res, ch, nc = input_from_options(args)
        configs = [c.with_input(res, in_channels=ch, num_classes=nc, stem=args.stem)
                   for c in configs]
    if args.json:
        out = []
        for cfg in configs:
            d = {"config": cfg.to_dict(), **complexity(cfg).as_dict()}
            try:
                from ..zoo import regnet_params
                p = regnet_params(args.model)
                d["sampled"] = {"d": p.d, "w0": p.w0, "wa": p.wa, "wm": p.wm, "b": p.b, "g": p.g}
            except ConfigError:
                pass
            out.append(d)
        print(json.dumps(out[0] if len(out) == 1 else out, indent=2))
    else:
        for i, cfg in enumerate(configs):
            if len(configs) > 1:
                print(f"{'' if i == 0 else chr(10)}# model {i} of {len(configs)}")
            print(_describe_text(cfg))
    return 0


def register(sub) -> None:
    p = sub.add_parser("describe", help="stage table and exact complexity of a model or config",
                       description="Print the stage table and exact flops, params and "
                       "activations of a zoo model (RegNetX-200MF, regnety_008, resnet50, ...) or "
                       "of every model in a config JSON file (a NetConfig, or the output of "
                       "`regnet-space sample --json`).")
    p.add_argument("model", help="zoo model name (RegNetX-200MF, regnety_008, resnet50, ...) "
                   "or a config JSON file")
    add_input_options(p)
    p.add_argument("--json", action="store_true", help="print the configs and their "
                   "complexity as JSON")
    p.set_defaults(func=run)
