"""NNI trial entry point: ``python -m regnet_space.search.nni.trial --space regnetx --flops 360M:400M ...``.

What ``regnet-space nni-config`` puts in ``trialCommand``. One trial:

1. takes NNI's parameters (:func:`nni.get_next_parameter`); standalone (no NNI) it uses
   ``--parameters JSON`` or else one draw of the space's own distribution under the budget, so the
   command can be tried by hand;
2. decodes them (coordinates of the ``--encoding``, ``feasible`` by default, or a whole
   configuration from the design-space tuner) to the space's values and a
   :class:`~regnet_space.config.NetConfig` (:func:`regnet_space.search.nni.decode_parameters`);
3. checks the space's structural constraints and the budget analytically. An infeasible sample is
   reported at once, without loading data or training, as ``{"default": INFEASIBLE_ERROR (1.0,
   the worst top-1 error as a fraction), "status": "infeasible", "feasible": false, "violations":
   [...], ...}`` so that tuners which cannot know better move away from it;
4. trains it with :func:`regnet_space.training.evaluator.evaluate` (the evaluator's options: ``--data``,
   ``--epochs``, ...), reports the held-out error of every epoch with
   :func:`nni.report_intermediate_result` (plain floats), and finally a dict whose ``default`` is
   the top-1 error as a fraction (a plain float; INFEASIBLE_ERROR with ``status: failed`` when
   training diverged or crashed) and which echoes the decoded configuration, its complexity and
   the parameters used (so results can be trusted despite nni#5726).

The final result dict's keys: ``default``, ``status`` (ok / infeasible / failed), ``feasible``,
``error``, ``space``, ``parameter_id``, ``parameters`` (the decoded values used), ``received``
(what NNI sent), ``moved`` (coordinates clipped or snapped), ``repaired`` (the proposal was moved
to a feasible configuration), ``encoding``, ``config`` (NetConfig dict), ``flops``,
``params``, ``acts``, ``violations``, ``train_time``, ``images_per_s``, ``epochs``, ``seed``,
``dataset``, ``eval_split``, ``test_error`` (scored once at the end when ``default`` is the
validation error), ``val_error``, ``seeds``, ``error_sd`` and ``test_error_sd`` (sds over
``--seeds K`` training seeds), ``eval_status``, ``device``, ``message``,
``provenance`` (package version, git commit, torch, recipe, CPU capability, device name: see
:mod:`regnet_space.training.provenance`) and, for a trained configuration, ``recipe`` (what it was
trained with, in words).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any, Mapping

from ...budget import Budget
from ...errors import ConfigError, RegNetSpaceError
from ...spaces import DesignSpace, get_space
from ...training.options import add_options, data_options, settings_from_options
from ...training.provenance import from_mapping, gather
from ..registry import INFEASIBLE_ERROR
from .space import _plain, decode_parameters


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m regnet_space.search.nni.trial",
                                description=__doc__.splitlines()[0])
    p.add_argument("--space", required=True, help="design space name")
    p.add_argument("--flops", help="flops budget, e.g. 360M:400M")
    p.add_argument("--params", help="params budget")
    p.add_argument("--acts", help="activations budget")
    p.add_argument("--block", help="block type override")
    p.add_argument("--space-input", metavar="RES,CH,CLASSES",
                   help="input the complexity is counted at (nni-config writes it); default: the "
                   "data's, which must then be loaded before the budget check")
    p.add_argument("--encoding", default="feasible", choices=("feasible", "raw"),
                   help="the encoding the search space was written in")
    p.add_argument("--parameters", help="JSON parameters for a run outside NNI")
    add_options(p)
    return p


def _space(args, data=None) -> DesignSpace:
    if args.space_input:
        try:
            res, ch, nc = (int(v) for v in args.space_input.split(","))
        except ValueError:
            raise ConfigError(f"--space-input must be RES,CH,CLASSES, got {args.space_input!r}") from None
    else:
        res, ch, nc = data.resolution, data.in_channels, data.num_classes
    return get_space(args.space, block=args.block, resolution=res, in_channels=ch, num_classes=nc)


def _plain_dict(d: Mapping) -> dict:
    return {str(k): _plain(v) for k, v in d.items()}


def run(argv: list[str] | None = None) -> dict:
    """Run one trial; returns the final result dict it reported."""
    import nni

    args = build_parser().parse_args(argv)
    budget = Budget.parse(args.flops, args.params, args.acts)
    seed = args.seed if getattr(args, "seed", None) is not None else 0
    received = nni.get_next_parameter() or {}
    record = getattr(nni.trial, "_params", None) or {}
    parameter_id = record.get("parameter_id")
    data = None if args.space_input else data_options(args).load()
    space = _space(args, data)
    if not received:
        if args.parameters:
            received = json.loads(args.parameters)
        else:  # standalone: one draw of the space's own distribution
            received = space.sample(1, seed=seed, budget=budget)[0].values
    got = decode_parameters(space, received, budget, args.encoding)
    values, moved = got.values, list(got.moved)
    cfg = space.decode(values)
    verdict = space.check(values, budget)
    violations = list(verdict.violations)
    result: dict[str, Any] = {
        "default": INFEASIBLE_ERROR, "status": "infeasible", "feasible": not violations,
        "error": None, "space": space.name, "parameter_id": parameter_id,
        "parameters": values, "received": _plain_dict(received), "moved": moved,
        "repaired": got.repaired, "encoding": args.encoding,
        "config": cfg.to_dict(), "flops": verdict.flops, "params": verdict.params,
        "acts": verdict.acts,
        "violations": violations, "train_time": 0.0, "images_per_s": None, "epochs": 0,
        "seed": seed, "dataset": getattr(args, "data", None),
        "eval_split": None, "test_error": None, "val_error": None, "seeds": None,
        "error_sd": None, "test_error_sd": None, "eval_status": None, "device": None,
        "message": None, "provenance": gather(recipe=getattr(args, "preset", None)).as_dict(),
    }
    if violations:
        result["message"] = "infeasible, not trained: " + "; ".join(violations)
        nni.report_final_result(result)
        return result

    # Only now torch: an infeasible trial costs an nni import and a complexity count.
    from ...training.evaluator import evaluate

    settings = settings_from_options(args)
    if data is None:
        data = data_options(args).load()
    result["recipe"] = settings.describe()

    def on_epoch(epoch: int, error: float, res) -> None:  # live, so assessors can act
        nni.report_intermediate_result(float(error))

    try:
        res = evaluate(cfg, data, settings, progress=False, on_epoch=on_epoch)
    except Exception as e:  # noqa: BLE001 - the tuner still gets the penalty, then the trial fails
        result.update(default=INFEASIBLE_ERROR, status="failed", eval_status="failed",
                      message=f"training raised {type(e).__name__}: {e}".splitlines()[0][:500])
        nni.report_final_result(result)
        raise
    ok = res.status == "ok" and res.error is not None
    result.update(
        default=float(res.error) if ok else INFEASIBLE_ERROR, status="ok" if ok else "failed",
        error=float(res.error) if ok else None, train_time=float(res.train_time),
        images_per_s=float(res.images_per_s), epochs=int(res.epochs), seed=int(res.seed),
        dataset=str(data.name), eval_split=res.eval_split,
        test_error=None if res.test_error is None else float(res.test_error),
        val_error=None if res.val_error is None else float(res.val_error),
        seeds=int(res.seeds), error_sd=res.error_sd, test_error_sd=res.test_error_sd,
        eval_status=res.status, device=res.device,
        provenance=from_mapping(res.to_dict()).as_dict(),
        message=None if ok else f"training {res.status}: {res.reason}")
    nni.report_final_result(result)
    return result


def main(argv: list[str] | None = None) -> int:
    try:
        result = run(argv)
    except RegNetSpaceError as e:  # bad options or parameters: one line, exit 2 (the trial FAILS)
        print(f"regnet_space.search.nni.trial: error: {e}".splitlines()[0], file=sys.stderr)
        return 2
    print(json.dumps({k: result[k] for k in ("status", "default", "flops", "parameters")}))
    return 0 if result["status"] != "failed" else 1


if __name__ == "__main__":
    sys.exit(main())
