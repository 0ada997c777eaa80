"""``regnet-space sample``: configs from a design space's distribution, inside a budget."""

from __future__ import annotations

import json
import sys

from .common import add_input_options, input_from_options, positive


def add_budget_options(p, *, what: str = "budget") -> None:
    p.add_argument("--flops", metavar="LOW:HIGH", help=f"flops {what}, e.g. 360M:400M (K, M, "
                   "G, T suffixes; an open end is allowed: :400M, 2M:)")
    p.add_argument("--params", metavar="LOW:HIGH", help=f"parameter {what}, e.g. :5M")
    p.add_argument("--acts", metavar="LOW:HIGH", help=f"activation {what}, e.g. :10M")


def run(args) -> int:
    from ..budget import Budget, fmt_amount
    from ..spaces import get_space

    positive("--n", args.n)
    positive("--max-draws", args.max_draws)
    positive("--seed", args.seed, 0)
    res, ch, nc = input_from_options(args)
    space = get_space(args.space, resolution=res, in_channels=ch, num_classes=nc, stem=args.stem,
                      num_stages=args.num_stages, block=args.block)
    budget = Budget.parse(args.flops, args.params, args.acts)
    samples = space.sample(args.n, seed=args.seed, budget=budget, max_draws=args.max_draws,
                           progress=sys.stderr.isatty() and not args.json)
    if args.json:
        print(json.dumps([{"space": space.name, **s.to_dict()} for s in samples], indent=2))
        return 0
    print(f"# {space.name} at {space.resolution}px ({space.stem} stem, {space.block} blocks), "
          f"seed {args.seed}")
    for i, s in enumerate(samples):
        vals = " ".join(f"{k}={v:g}" for k, v in s.values.items())
        print(f"{i:4d}  flops {fmt_amount(s.flops):>7}  params {fmt_amount(s.params):>7}  acts "
              f"{fmt_amount(s.acts):>7}  d={list(s.config.depths)} w={list(s.config.widths)} "
              f"g={list(s.config.gs)}  [{vals}]")
    return 0


def register(sub) -> None:
    p = sub.add_parser("sample", help="sample configs from a design space under a budget",
                       description="Draw configs from a design space's distribution (the "
                       "paper's), keeping those inside the complexity budget, and print each "
                       "with its flops, params, activations, depths, widths and group widths.")
    p.add_argument("--space", required=True, help="design space (list them with "
                   "`regnet-space spaces`)")
    p.add_argument("--n", type=int, default=10, help="number of accepted samples (default 10)")
    p.add_argument("--seed", type=int, default=0, help="sampling seed, >= 0 (default 0)")
    add_budget_options(p)
    p.add_argument("--block", help="block type instead of the space's: X, Y (X with "
                   "squeeze-excitation), R (X without groups), V or VR (plain, residual)")
    p.add_argument("--num-stages", type=int, metavar="N", help="number of stages (AnyNetX: the "
                   "stages sampled; RegNet: only configs with exactly this many are kept)")
    p.add_argument("--max-draws", type=int, default=20_000_000, metavar="N",
                   help="give up after this many draws, accepted or not (default 20,000,000)")
    add_input_options(p)
    p.add_argument("--json", action="store_true", help="print the samples as JSON (a list "
                   "`describe` and `train` read back)")
    p.set_defaults(func=run)
