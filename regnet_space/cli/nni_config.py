"""``regnet-space nni-config``: an NNI experiment (search space + config.yml) for ``nnictl create``."""

from __future__ import annotations

import re
import sys
from pathlib import Path

from ..errors import ConfigError
from ..files import check_target
from .common import UsageError, positive, shell_command
from .flags import alias
from .sample import add_budget_options

_DURATION = re.compile(r"^\d+(\.\d+)?[smhd]$")
#: NNI 3.0's REST server calls ``app.listen(port)`` with no host (nni_node/rest_server/index.js),
#: and neither nnictl nor the config has a bind-address option, so we cannot bind it to 127.0.0.1.
PORTAL_WARNING = ("warning: NNI's web portal listens on all network interfaces (NNI has no option "
                  "to bind it to 127.0.0.1): on a shared network, block the port with a firewall "
                  "or reach it through `ssh -L 8080:localhost:8080`")


def _trial_input(args) -> tuple[int, int, int]:
    """(resolution, channels, classes) the trials train at (loads the data set once if needed)."""
    from ..training.options import data_options

    data = data_options(args).load()
    return data.resolution, data.in_channels, data.num_classes


def run(args) -> int:
    from ..budget import Budget
    from ..errors import BudgetError
    from ..search.nni import ExperimentSpec, canonical_tuner, write_experiment
    from ..search.nni.config import has_control
    from ..spaces import get_space
    from ..training.options import option_tokens, settings_from_options

    tuner = canonical_tuner(args.tuner)
    get_space(args.space, block=args.block)  # an unknown space fails first
    budget = Budget.parse(args.flops, args.params, args.acts)
    positive("--trials", args.trials)
    positive("--concurrency", args.concurrency)
    positive("--population-size", args.population_size)
    positive("--gpus", args.gpus, 0)
    positive("--sampler-seed", args.tuner_seed, 0, 2**32 - 1)
    if args.max_duration is not None and (not _DURATION.match(args.max_duration)
                                          or float(args.max_duration[:-1]) <= 0):
        raise UsageError(f"--max-duration must be a number > 0 with a unit s, m, h or d (e.g. "
                         f"90m, 2h), got {args.max_duration!r}")
    # these end up in config.yml and in the trial command line: a newline could smuggle in a key
    for flag, value in (("--out", args.out), ("--experiment-dir", args.experiment_dir),
                        ("--experiment-name", args.experiment_name), ("--data", args.data),
                        ("--data-dir", args.data_dir)):
        if value is not None and has_control(value):
            raise UsageError(f"{flag} must not contain control characters (newlines, tabs, "
                             f"Unicode line separators...), got {str(value)!r}")
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out} exists and is not a folder; name a folder (it is created "
                         "if missing)")
    blocker = next((p for p in out.parents if p.exists()), None)
    if blocker is not None and not blocker.is_dir():
        raise UsageError(f"--out {out} cannot be created: {blocker} is a file, not a folder")
    for name in ("config.yml", "search_space.json"):
        try:
            check_target(out / name, force=args.force, root=out)
        except ConfigError as e:
            raise UsageError(str(e)) from None
    settings_from_options(args)  # validates the recipe options the trials will get
    res, ch, nc = _trial_input(args)
    space = get_space(args.space, block=args.block, resolution=res, in_channels=ch, num_classes=nc)
    spec = ExperimentSpec(space=space, budget=budget, tuner=tuner, trials=args.trials,
                          concurrency=args.concurrency, seed=args.tuner_seed,
                          trial_args=option_tokens(args), experiment_name=args.experiment_name,
                          experiment_dir=args.experiment_dir, population_size=args.population_size,
                          max_duration=args.max_duration, gpus=args.gpus,
                          encoding=args.encoding)
    try:
        paths = write_experiment(spec, out)
    except BudgetError as e:
        raise UsageError(f"the budget cannot be met: {e}") from None
    except OSError as e:  # permissions, a full disk: the user's to fix, not a bug
        raise UsageError(f"cannot write to {out}: {e.strerror or e}") from None
    print(f"wrote {paths['search_space']} and {paths['config']} ({space.name} at {res}px, "
          f"{budget.describe()}, tuner {tuner}, {args.trials} trials x {args.concurrency})")
    print("start: " + shell_command("nnictl", "create", "--config", paths["config"].resolve(),
                                    "--port", "8080"))
    print("on a busy machine (NNI gives its manager 3 s): " + shell_command(
        "python", "-m", "regnet_space.search.nni.launch", "create", "--config",
        paths["config"].resolve(), "--port", "8080") + "  (waits up to $REGNET_SPACE_NNI_WAIT "
        "s, default 120)", file=sys.stderr)
    print(PORTAL_WARNING, file=sys.stderr)
    return 0


def register(sub) -> None:
    from ..search.nni import TUNERS
    from ..training.options import add_options

    p = sub.add_parser(
        "nni-config", help="write an NNI experiment (search space + config.yml) for nnictl create",
        description="Write search_space.json and a v2 config.yml for `nnictl create --config "
        "DIR/config.yml`. Each trial decodes its parameters to a network, checks the budget "
        "(an infeasible sample is reported at once, untrained), trains it with the recipe "
        "(default: brief) and reports per-epoch and final test error. Data and recipe options "
        "are passed on to the trials.")
    p.add_argument("--space", default="regnetx", help="design space (default regnetx; list "
                   "them with `regnet-space spaces`)")
    add_budget_options(p)
    p.add_argument("--block", help="block type instead of the space's: X, Y (X with "
                   "squeeze-excitation), R (X without groups), V or VR (plain, residual)")
    p.add_argument("--sampler", dest="tuner", default="TPE", metavar="TUNER",
                   help=f"the NNI tuner: {', '.join(TUNERS)} (design: the paper's distribution "
                   "with exact budget rejection); default TPE")
    alias(p, "--tuner", dest="tuner")
    p.add_argument("--trials", type=int, default=50, metavar="N",
                   help="trials in the experiment (maxTrialNumber; default 50)")
    p.add_argument("--concurrency", type=int, default=1, metavar="N",
                   help="trials run at once (trialConcurrency; default 1)")
    p.add_argument("--out", required=True, metavar="DIR", help="folder to write "
                   "search_space.json and config.yml to (created if missing)")
    p.add_argument("--encoding", default="feasible", choices=("feasible", "raw"),
                   help="the search space the tuner sees: feasible (default: every point decodes "
                   "to a network inside the budget and the space's constraints) or raw (the "
                   "space's parameters; most points are then infeasible under a narrow budget)")
    p.add_argument("--sampler-seed", dest="tuner_seed", type=int, default=0, metavar="N",
                   help="tuner seed, >= 0 (default 0)")
    alias(p, "--tuner-seed", dest="tuner_seed", type=int)
    p.add_argument("--population-size", type=int, metavar="N", help="population of the "
                   "Evolution tuner (default max(2 x concurrency, min(32, trials / 2)))")
    p.add_argument("--experiment-name", metavar="NAME",
                   help="experiment name shown by NNI (default SPACE-TUNER)")
    p.add_argument("--experiment-dir", metavar="DIR", help="where NNI keeps the experiment's "
                   "logs and database (experimentWorkingDirectory; default ~/nni-experiments)")
    p.add_argument("--max-duration", metavar="TIME", help="stop the experiment after this long "
                   "(maxExperimentDuration), e.g. 90m or 2h")
    p.add_argument("--gpus", type=int, default=0, metavar="N", help="GPUs per trial "
                   "(trialGpuNumber; default 0: trials use the CPU, or a GPU they find "
                   "themselves)")
    p.add_argument("--force", action="store_true", help="overwrite an existing config.yml")
    add_options(p)
    p.set_defaults(func=run)
