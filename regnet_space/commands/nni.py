"""``regnet-space nni-config | nni-export``: NNI HPO experiments on a design space.

``nni-config`` writes ``search_space.json`` and a v2 ``config.yml`` for ``nnictl create``; the
trials run ``python -m regnet_space.nni_trial`` with the evaluator's options given here.
``nni-export`` turns an experiment's sqlite database into the population table.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ..cli import UsageError

#: Our own nni-config options; the evaluator's (``add_train_arguments``) are forwarded to trials.
_OWN = ("space", "flops", "params", "acts", "block", "tuner", "trials", "concurrency", "out",
        "tuner_seed", "population_size", "experiment_name", "experiment_dir", "max_duration",
        "gpus", "force")


def _train_module():
    from . import train  # the evaluator's command module: add_train_arguments & co.
    return train


def _has(p: argparse.ArgumentParser, opt: str) -> bool:
    return opt in p._option_string_actions  # noqa: SLF001 (argparse has no public lookup)


def register(sub) -> None:
    p = sub.add_parser(
        "nni-config", help="write an NNI experiment (search space + config.yml) for nnictl create",
        description="Write search_space.json and a v2 config.yml for `nnictl create --config "
        "DIR/config.yml`. Each trial decodes its parameters to a NetConfig, checks the budget "
        "analytically (an infeasible sample is reported without training), trains it with the "
        "evaluator and reports per-epoch and final test error. Evaluator options (--data, "
        "--epochs, --resolution, --train-size, ...) are passed on to the trials.")
    p.add_argument("--space", required=True, help="design space (see `regnet-space spaces`)")
    p.add_argument("--flops", help="flops budget, e.g. 360M:400M (open ends allowed: :400M)")
    p.add_argument("--params", help="params budget, e.g. :5M")
    p.add_argument("--acts", help="activations budget")
    p.add_argument("--block", help="block type override: X, Y, R, V, VR")
    p.add_argument("--tuner", default="TPE",
                   help="TPE, Random, Evolution, or design (exact paper distribution with budget "
                   "rejection, regnet_space.nni_tuner.DesignSpaceTuner); default TPE")
    p.add_argument("--trials", type=int, default=50, help="maxTrialNumber (default 50)")
    p.add_argument("--concurrency", type=int, default=1, help="trialConcurrency (default 1)")
    p.add_argument("--out", required=True, help="folder for search_space.json and config.yml")
    p.add_argument("--tuner-seed", type=int, default=0, help="tuner seed (default 0)")
    p.add_argument("--population-size", type=int,
                   help="Evolution's population (default max(2 x concurrency, min(32, trials/2)))")
    p.add_argument("--experiment-name", help="experimentName (default SPACE-TUNER)")
    p.add_argument("--experiment-dir", help="experimentWorkingDirectory (default NNI's "
                   "~/nni-experiments)")
    p.add_argument("--max-duration", help="maxExperimentDuration, e.g. 2h")
    p.add_argument("--gpus", type=int, default=0, help="trialGpuNumber (default 0: trials use "
                   "the CPU, or a GPU they find themselves)")
    p.add_argument("--force", action="store_true", help="overwrite an existing config.yml")
    train = _train_module()
    train.add_train_arguments(p)
    p.set_defaults(func=run_config)

    p = sub.add_parser(
        "nni-export", help="an NNI experiment's results as a population table",
        description="Read an NNI experiment's sqlite database (running or stopped) and write the "
        "population table. Results are joined to parameters by parameter id (NNI's own "
        "trial/parameter pairing is wrong under concurrency, nni#5726), and the configuration each "
        "trial echoed is checked against them.")
    p.add_argument("experiment_id", help="NNI experiment id")
    p.add_argument("--out", required=True, help="output table (.csv, .csv.gz or .parquet)")
    p.add_argument("--experiment-dir", help="the experiment's experimentWorkingDirectory "
                   "(default ~/nni-experiments), or the experiment's own folder")
    p.set_defaults(func=run_export)


def trial_arguments(args: argparse.Namespace) -> list[str]:
    """The evaluator's options in ``args`` as command-line tokens (non-default values only)."""
    tp = argparse.ArgumentParser(add_help=False)
    _train_module().add_train_arguments(tp)
    out: list[str] = []
    for action in tp._actions:  # noqa: SLF001
        if not action.option_strings or action.dest in _OWN or not hasattr(args, action.dest):
            continue
        value = getattr(args, action.dest)
        if value == action.default and action.dest != "data":  # the data set: always explicit
            continue
        opt = next((o for o in action.option_strings if o.startswith("--")), action.option_strings[0])
        if isinstance(action, argparse.BooleanOptionalAction):
            out.append(opt if value else "--no-" + opt[2:])
        elif action.nargs == 0:
            if value == action.const:
                out.append(opt)
        elif isinstance(value, (list, tuple)):
            out += [opt, *map(str, value)]
        elif value is not None:
            out += [opt, str(value)]
    return out


def space_input(args: argparse.Namespace) -> tuple[int, int, int]:
    """(resolution, in_channels, num_classes) the trials will train at, without loading data when
    the data set is a known one; otherwise the data are loaded once here."""
    train = _train_module()
    if hasattr(train, "input_from_args"):
        return tuple(train.input_from_args(args))  # type: ignore[return-value]
    data = train.data_from_args(args)
    return data.resolution, data.in_channels, data.num_classes


def run_config(args: argparse.Namespace) -> int:
    from ..budget import Budget
    from ..nni_space import ExperimentSpec, canonical_tuner, write_experiment
    from ..spaces import BudgetError, get_space

    tuner = canonical_tuner(args.tuner)
    space = get_space(args.space, block=args.block)  # unknown space: ValueError -> exit 2
    budget = Budget.parse(args.flops, args.params, args.acts)
    if args.trials < 1:
        raise UsageError(f"--trials must be >= 1, got {args.trials}")
    if args.concurrency < 1:
        raise UsageError(f"--concurrency must be >= 1, got {args.concurrency}")
    out = Path(args.out)
    if (out / "config.yml").exists() and not args.force:
        raise UsageError(f"{out / 'config.yml'} exists; pass --force to overwrite it")
    _train_module().settings_from_args(args)  # validates the evaluator's options
    res, ch, nc = space_input(args)
    space = get_space(args.space, block=args.block, resolution=res, in_channels=ch, num_classes=nc)
    spec = ExperimentSpec(space=space, budget=budget, tuner=tuner, trials=args.trials,
                          concurrency=args.concurrency, seed=args.tuner_seed,
                          trial_args=trial_arguments(args), experiment_name=args.experiment_name,
                          experiment_dir=args.experiment_dir, population_size=args.population_size,
                          max_duration=args.max_duration, gpus=args.gpus)
    try:
        paths = write_experiment(spec, out)
    except BudgetError as e:
        raise UsageError(f"the budget cannot be met: {e}") from None
    print(f"wrote {paths['search_space']} and {paths['config']} ({space.name} at {res}px, "
          f"{budget.describe()}, tuner {tuner}, {args.trials} trials x {args.concurrency})")
    print(f"start: nnictl create --config {paths['config'].resolve()} --port 8080")
    return 0


def run_export(args: argparse.Namespace) -> int:
    import sys

    from ..nni_space import export_population
    from ..table import write_population

    df = export_population(args.experiment_id, args.experiment_dir)
    path = write_population(df, args.out)
    counts = df["status"].value_counts().to_dict() if len(df) else {}
    parts = ", ".join(f"{v} {k}" for k, v in sorted(counts.items()))
    running = df.attrs.get("running", 0)
    extra = f"; {running} still running, left out" if running else ""
    print(f"wrote {len(df)} rows ({parts or 'none'}{extra}) to {path}")
    if "consistent" in df and (df["consistent"] == False).any():  # noqa: E712
        bad = df.loc[df["consistent"] == False, "parameter_id"].tolist()  # noqa: E712
        print(f"warning: parameter ids {bad}: the echoed configuration differs from the parameters "
              f"joined by id; the echoed one was kept", file=sys.stderr)
    return 0
