"""TPE under a flops budget on Fashion-MNIST, stored in SQLite, in a few minutes on a CPU.

Each trial suggests a RegNetX configuration (28x28 input, small-image stem), counts its flops
analytically, and returns at once (untrained, error 1.0, user attribute status=infeasible) when it
falls outside the budget; TPE reads the constraints and learns to stay inside. The first 5 trials
are drawn from the paper's distribution under the budget (a warm start: TPE's random start-up
trials rarely land in a narrow flops range). Feasible ones are trained for one epoch on a
2,000-image subset and scored on 1,000 test images.

Run it (again to resume: the study is kept in the SQLite file and --n is the total):

    python examples/optuna_tpe_budget.py                # 20 trials, ~2-4 minutes on a laptop CPU
    python examples/optuna_tpe_budget.py --n 40 --flops 2M:8M

Open the study in the Optuna dashboard (pip install optuna-dashboard):

    optuna-dashboard sqlite:///optuna_tpe_budget.db --host 127.0.0.1 --port 8080

then browse http://127.0.0.1:8080. The same study from the command line:

    regnet-space sweep --storage sqlite:///optuna_tpe_budget.db --study tpe-fmnist \\
        --space regnetx --flops 2M:6M --sampler tpe --n 20 --data fashion-mnist \\
        --train-size 2000 --test-size 1000 --epochs 1
    regnet-space export --storage sqlite:///optuna_tpe_budget.db --study tpe-fmnist --out pop.csv
"""

from __future__ import annotations

import argparse

import optuna

from regnet_space.budget import Budget
from regnet_space.training.data import load_data
from regnet_space.training import TrainSettings
from regnet_space.optuna_space import (enqueue_design_samples, make_sampler, objective,
                                       open_storage, open_study, run_worker, study_meta)
from regnet_space.spaces import get_space


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=20, help="trials in the study in total")
    p.add_argument("--flops", default="2M:6M", help="flops budget at 28x28")
    p.add_argument("--storage", default="sqlite:///optuna_tpe_budget.db")
    p.add_argument("--study", default="tpe-fmnist")
    p.add_argument("--train-size", type=int, default=2000)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)

    data = load_data("fashion-mnist", train_size=args.train_size, test_size=1000, seed=0)
    space = get_space("regnetx", resolution=data.resolution, in_channels=data.in_channels,
                      num_classes=data.num_classes)
    budget = Budget.parse(flops=args.flops)
    settings = TrainSettings.from_preset("quick", batch_size=32)   # paper recipe, 1 epoch
    sampler = make_sampler("tpe", space, budget, seed=args.seed)
    meta = study_meta(space, budget, "tpe", args.seed,
                      data={k: data.describe()[k] for k in ("name", "train_size", "test_size")},
                      settings={"epochs": settings.epochs, "lr": settings.lr})
    study = open_study(open_storage(args.storage), args.study, meta, sampler)
    if not study.trials:
        enqueue_design_samples(study, space, budget, 5, seed=args.seed)
    summary = run_worker(study, objective(space, data, settings, budget=budget), args.n)

    print(f"{summary['finished']} trials: {summary['ok']} trained, "
          f"{summary['infeasible']} infeasible (outside {budget.describe()}, never trained), "
          f"{summary['failed']} failed")
    if summary["ok"]:
        best = study.best_trial                               # feasible trials only
        print(f"best trial {best.number}: test error {100 * best.value:.2f}% at "
              f"{best.user_attrs['flops'] / 1e6:.2f} MF, parameters {best.user_attrs['values']}")
        print(f"config: {best.user_attrs['config']}")
    print(f"dashboard: optuna-dashboard {args.storage} --host 127.0.0.1 --port 8080")


if __name__ == "__main__":
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    main()
