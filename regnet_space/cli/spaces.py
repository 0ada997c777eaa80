"""``regnet-space spaces``: the design spaces, their dimensions and sizes."""

from __future__ import annotations

import json


def run(args) -> int:
    from ..spaces import get_space, space_names

    rows = []
    for name in space_names():
        s = get_space(name)
        paper = s.paper_size() if hasattr(s, "paper_size") else None
        rows.append({"name": name, "dims": len(s.params), "size": s.size,
                     "size_exact": s.size_is_exact, "grid_size": s.grid_size,
                     "paper_size": paper, "block": s.block,
                     "params": [p.describe() for p in s.params], "description": s.description,
                     "constraints": s.constraint_descriptions()})
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    print(f"{'space':22s} {'dims':>4s} {'size':>10s} {'paper':>9s}  description")
    for r in rows:
        size = f"{r['size']:.1e}" + ("" if r["size_exact"] else "*")
        paper = "-" if r["paper_size"] is None else f"{r['paper_size']:.1e}"
        print(f"{r['name']:22s} {r['dims']:4d} {size:>10s} {paper:>9s}  {r['description']}")
    print("\nsize: points of the quantized parameter grid that satisfy the space's structural "
          "constraints (and the\nconstrained spaces' params/acts caps), counted exactly (monotone "
          "sequences as multisets); * = estimated\nfrom 200,000 uniform grid points (RegNet: 4 "
          "stages, no skipped level). paper: the paper's count,\n(16*128*3*6)^4 for AnyNetX_A, "
          "each monotone constraint dividing by 4!.")
    return 0


def register(sub) -> None:
    p = sub.add_parser("spaces", help="list the design spaces with their dimensions and sizes",
                       description="List the design spaces: their number of dimensions, size "
                       "(points of the quantized grid meeting the space's constraints) next to "
                       "the paper's count, and a description.")
    p.add_argument("--json", action="store_true", help="print every space with its parameters "
                   "and constraints as JSON")
    p.set_defaults(func=run)
