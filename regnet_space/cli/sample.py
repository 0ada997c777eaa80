"""``regnet-space sample``: configs from a design space's distribution, inside a budget."""

from __future__ import annotations

import json
import sys

from ..files import MAX_SEED
from .common import add_input_options, input_from_options, positive


def add_budget_options(p, *, what: str = "budget at the input's resolution") -> None:
    p.add_argument("--flops", metavar="LOW:HIGH", help=f"flops {what}, e.g. 360M:400M (K, M, "
                   "G, T suffixes; an open end is allowed: :400M, 2M:)")
    p.add_argument("--params", metavar="LOW:HIGH", help=f"parameter {what}, e.g. :5M")
    p.add_argument("--acts", metavar="LOW:HIGH", help=f"activation {what}, e.g. :10M")


#: Draws of the space's distribution that tell where its networks lie (well under a second).
REACH_DRAWS = 200_000


def reach(space, draws: int = REACH_DRAWS, seed: int = 0) -> dict[str, tuple[int, int]]:
    """{metric: (min, max)} of flops, params and acts over ``draws`` seeded draws of ``space``
    that meet its structural constraints (the space's networks at its resolution).

    Example:
        >>> from regnet_space.spaces import get_space
        >>> lo, hi = reach(get_space("regnetx"), draws=20_000)["flops"]
        >>> 1e6 < lo < 400e6 < hi
        True
    """
    import numpy as np

    rng = np.random.default_rng(seed)
    f, p, a, ok, _ = space.check_arrays(space.draw(rng, draws))
    if not ok.any():
        return {}
    return {k: (int(v[ok].min()), int(v[ok].max())) for k, v in
            (("flops", f), ("params", p), ("acts", a))}


def check_reachable(space, budget) -> None:
    """A :class:`UsageError` before sampling when a budget bound lies outside every network the
    space's draws reach at its resolution, naming the input sizes where it is reachable."""
    from ..budget import fmt_amount
    from ..spaces import get_space
    from .common import INPUTS, UsageError

    seen = reach(space)
    for metric, (lo, hi) in budget.items():
        if metric not in seen:
            continue
        smin, smax = seen[metric]
        if (hi is not None and hi < smin) or (lo is not None and lo > smax):
            where = []
            for preset, (res, ch, nc) in sorted(INPUTS.items(), key=lambda kv: kv[1][0]):
                if res == space.resolution:
                    continue
                other = reach(get_space(space.name, resolution=res, in_channels=ch,
                                        num_classes=nc, block=space.block)).get(metric)
                if other and not ((hi is not None and hi < other[0])
                                  or (lo is not None and lo > other[1])):
                    where.append(f"--input {preset} ({res} px)")
            hint = (f"; it is reachable counted at {' or '.join(where)}" if where else
                    "; widen the budget")
            side = "below the smallest" if hi is not None and hi < smin else "above the largest"
            raise UsageError(
                f"{metric} {fmt_amount(lo)}..{fmt_amount(hi)} cannot be met by {space.name} at "
                f"{space.resolution} px: it is {side} network of {REACH_DRAWS:,} draws, which "
                f"span {fmt_amount(smin)}..{fmt_amount(smax)} {metric}{hint} (sweep and "
                f"nni-config count at the data's resolution, 28 px for Fashion-MNIST)")


def run(args) -> int:
    from ..budget import Budget, fmt_amount
    from ..spaces import get_space

    positive("--n", args.n, 1, 10_000_000)
    positive("--max-draws", args.max_draws)
    positive("--seed", args.seed, 0, MAX_SEED)
    res, ch, nc = input_from_options(args)
    space = get_space(args.space, resolution=res, in_channels=ch, num_classes=nc, stem=args.stem,
                      num_stages=args.num_stages, block=args.block)
    budget = Budget.parse(args.flops, args.params, args.acts)
    check_reachable(space, budget)  # an impossible budget fails in a second, not 20M draws
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
    p.add_argument("--space", default="regnetx", help="design space (default regnetx; list "
                   "them with `regnet-space spaces`)")
    p.add_argument("--n", type=int, default=10, help="number of accepted samples (default 10)")
    p.add_argument("--seed", type=int, default=0, help="sampling seed, >= 0 (default 0)")
    add_budget_options(p)
    p.add_argument("--block", help="block type instead of the space's: X, Y (X with "
                   "squeeze-excitation), R (X without groups), V or VR (plain, residual)")
    p.add_argument("--num-stages", type=int, metavar="N", help="number of stages (AnyNetX: the "
                   "stages sampled; RegNet: only configs with exactly this many are kept)")
    p.add_argument("--max-draws", type=int, default=None, metavar="N",
                   help="give up after this many draws, accepted or not (default: 20,000,000, "
                   "more when the acceptance seen says --n samples need them)")
    add_input_options(p)
    p.add_argument("--json", action="store_true", help="print the samples as JSON (a list "
                   "`describe` and `train` read back)")
    p.set_defaults(func=run)
