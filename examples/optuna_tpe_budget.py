"""TPE under a flops budget on Fashion-MNIST, stored in SQLite, in a few minutes on a CPU.

Each trial suggests a point of the space's feasible encoding (see docs/encodings.md): the shape of
a RegNetX (depth, width multiplier, slope, bottleneck, group width) and a size inside the budget,
decoded to a 4-stage network inside the budget by construction, so TPE never wastes a trial on an
infeasible configuration. Every trial is trained with the brief recipe (one epoch here, on a
2,000-image subset) and scored on 1,000 test images. ``--encoding raw`` searches the paper's
parameters directly instead: most proposals are then infeasible and returned untrained.

Run it (again to resume: the study is kept in the SQLite file and --trials is the total):

    python examples/optuna_tpe_budget.py                # 20 trials, a few minutes on a CPU
    python examples/optuna_tpe_budget.py --trials 40 --flops 2M:8M

Open the study in the Optuna dashboard (pip install optuna-dashboard):

    optuna-dashboard sqlite:///optuna_tpe_budget.db --host 127.0.0.1 --port 8080

then browse http://127.0.0.1:8080. The same study from the command line:

    regnet-space sweep --storage sqlite:///optuna_tpe_budget.db --study tpe-fmnist \\
        --space regnetx --flops 2M:6M --sampler tpe --trials 20 --data fashion-mnist \\
        --train-size 2000 --test-size 1000 --epochs 1
    regnet-space export --storage sqlite:///optuna_tpe_budget.db --study tpe-fmnist --out pop.csv
"""

from __future__ import annotations

import argparse

import optuna

from regnet_space import Budget, get_encoding, get_space
from regnet_space.evaluator import TrainSettings, load_data
from regnet_space.optuna_space import (make_sampler, objective, open_storage, open_study,
                                       run_worker, study_meta)


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--trials", "--n", dest="trials", type=int, default=20,
                   help="trials in the study in total")
    p.add_argument("--flops", default="2M:6M", help="flops budget at 28x28")
    p.add_argument("--encoding", default="feasible", choices=("feasible", "raw"),
                   help="what TPE searches (docs/encodings.md)")
    p.add_argument("--storage", default="sqlite:///optuna_tpe_budget.db", help="study storage")
    p.add_argument("--study", default="tpe-fmnist", help="study name")
    p.add_argument("--train-size", type=int, default=2000, help="training images per trial")
    p.add_argument("--seed", type=int, default=0, help="sampler seed")
    args = p.parse_args(argv)

    data = load_data("fashion-mnist", train_size=args.train_size, test_size=1000, seed=0)
    space = get_space("regnetx", resolution=data.resolution, in_channels=data.in_channels,
                      num_classes=data.num_classes)
    budget = Budget.parse(flops=args.flops)
    encoding = get_encoding(space, budget, args.encoding)  # one for sampler and objective
    settings = TrainSettings.from_preset("brief", epochs=1, threads=1)
    sampler = make_sampler("tpe", space, budget, seed=args.seed, encoding=encoding)
    meta = study_meta(space, budget, "tpe", args.seed,
                      data={k: data.describe()[k] for k in ("name", "train_size", "test_size")},
                      settings=settings.recipe(), encoding=encoding.name)
    study = open_study(open_storage(args.storage), args.study, meta, sampler)
    summary = run_worker(study, objective(space, data, settings, budget=budget,
                                          encoding=encoding), args.trials)

    print(f"{summary['finished']} trials: {summary['ok']} trained, "
          f"{summary['infeasible']} infeasible (outside {budget.describe()}, never trained), "
          f"{summary['failed']} failed")
    if summary["ok"]:
        best = study.best_trial                               # feasible trials only
        print(f"best trial {best.number}: test error {best.value:.4f} at "
              f"{best.user_attrs['flops'] / 1e6:.2f} MF, parameters {best.user_attrs['values']}")
        print(f"config: {best.user_attrs['config']}")
    print(f"dashboard: optuna-dashboard {args.storage} --host 127.0.0.1 --port 8080")


if __name__ == "__main__":
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    main()
