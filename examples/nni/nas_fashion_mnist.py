"""NAS over RegNetX (or any registered design space) on Fashion-MNIST with NNI, under a flops budget.

NNI's multi-trial strategies (Random, RegularizedEvolution, GridSearch) drive the search over the
model space's mutables, which are the coordinates of the space's feasible encoding under the
budget: every sample decodes to a network inside the budget (``--encoding raw`` searches the
paper's parameters instead, and NNI's Filter middleware then rejects the infeasible samples with
our analytic complexity, so no over-budget network is ever trained). Each candidate is trained by
regnet_space's evaluator (the brief recipe) through a FunctionalEvaluator.

    python examples/nni/nas_fashion_mnist.py --space regnetx --flops 2M:5M --strategy evolution \\
        --trials 20 --epochs 1 --train-size 2000 --test-size 1000

Needs: nni, pytorch_lightning (nni.nas imports it), torch, and the Fashion-MNIST IDX files
(`apt-get install dataset-fashion-mnist`, or --data-dir).
"""

from __future__ import annotations

import argparse
import logging
import socket
import tempfile
import warnings

from nni.nas.evaluator import FunctionalEvaluator
from nni.nas.experiment import NasExperiment, NasExperimentConfig
from nni.nas.space import ModelStatus
from nni.nas.strategy import GridSearch, Random, RegularizedEvolution

from regnet_space.search.nni.nas import DesignModelSpace, budget_strategy, evaluate_model


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--space", default="regnetx", help="registered design space (default regnetx)")
    p.add_argument("--flops", default="2M:5M", help="flops budget at 28 px (default 2M:5M)")
    p.add_argument("--params", help="params budget")
    p.add_argument("--strategy", choices=["random", "evolution", "grid"], default="random")
    p.add_argument("--encoding", choices=["feasible", "raw"], default="feasible")
    p.add_argument("--trials", type=int, default=10, help="models to train (default 10)")
    p.add_argument("--population", type=int, default=8, help="RegularizedEvolution population")
    p.add_argument("--engine", choices=["sequential", "ts"], default="sequential",
                   help="sequential: in this process; ts: one NNI trial process per model")
    p.add_argument("--concurrency", type=int, default=1, help="models trained at once (ts engine)")
    p.add_argument("--data", default="fashion-mnist")
    p.add_argument("--data-dir")
    p.add_argument("--train-size", type=int, default=2000)
    p.add_argument("--test-size", type=int, default=1000)
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--batch-size", type=int, help="default: the brief recipe's")
    p.add_argument("--threads", type=int, help="CPU threads per training (1 on a busy machine)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--experiment-dir", help="NNI's experiment folder (default: a temporary one)")
    p.add_argument("--port", type=int, help="NNI manager port (ts engine; default: a free one)")
    args = p.parse_args(argv)

    # NNI logs a line per sample it skips and per engine call; keep the run's output readable
    logging.getLogger("nni").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", category=RuntimeWarning, module="nni")
    space = DesignModelSpace(args.space, resolution=28, in_channels=1, num_classes=10,
                             flops=args.flops, params=args.params, encoding=args.encoding)
    base = {"random": lambda: Random(seed=args.seed),
            "evolution": lambda: RegularizedEvolution(population_size=args.population,
                                                      sample_size=max(1, args.population // 4),
                                                      seed=args.seed),
            "grid": lambda: GridSearch(seed=args.seed)}[args.strategy]()
    checked: list = []
    strategy, flt = budget_strategy(base, space, record=checked)
    settings = {"epochs": args.epochs, "seed": args.seed}
    if args.batch_size:
        settings["batch_size"] = args.batch_size
    if args.threads:
        settings["threads"] = args.threads
    evaluator = FunctionalEvaluator(evaluate_model, data=args.data, data_dir=args.data_dir,
                                    train_size=args.train_size, test_size=args.test_size,
                                    **settings)
    config = NasExperimentConfig(args.engine, "simplified" if args.engine == "ts" else "raw", "local")
    config.max_trial_number = args.trials
    config.trial_concurrency = args.concurrency
    if args.engine == "ts":
        config.training_service.use_active_gpu = False
    config.experiment_working_directory = args.experiment_dir or tempfile.mkdtemp(prefix="nni-nas-")
    exp = NasExperiment(space, evaluator, strategy, config)
    try:
        exp.run(port=args.port or free_port())
        # list before stop: a stopped ts engine refuses to list its models
        trained = [m for m in exp.strategy.list_models(sort=False)
                   if m.status == ModelStatus.Trained]
    finally:
        exp.stop()

    print(f"\n{len(checked)} samples checked, {flt._filter_count_total} rejected by the budget "
          f"filter, {len(trained)} trained")
    for m in sorted(trained, key=lambda m: -(m.metric or 0)):
        acc = m.metric if isinstance(m.metric, float) else m.metric["default"]
        print(f"accuracy {acc:.4f}  {m.sample}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
