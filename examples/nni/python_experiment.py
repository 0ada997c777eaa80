"""An NNI experiment from Python: TPE searches RegNetX at 2-5 MFLOPs on Fashion-MNIST.

The search space is the feasible encoding of the space under the budget, so every trial NNI's TPE
proposes is a 4-stage RegNet inside 2-5 MF (with ``encoding="raw"`` most would be infeasible and
reported untrained). Results are read back from the experiment's database, joined by parameter id.

    .venv/bin/python examples/nni/python_experiment.py --trials 8 --port 8080
"""

from __future__ import annotations

import argparse
import warnings

from regnet_space.nni_space import experiment, export_population


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                 formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    ap.add_argument("--space", default="regnetx", help="design space (`regnet-space spaces`)")
    ap.add_argument("--flops", default="2M:5M", help="flops budget at 28 px (Fashion-MNIST)")
    ap.add_argument("--sampler", "--tuner", dest="tuner", default="TPE",
                    help="NNI tuner: TPE, Random, Evolution or design (the paper's distribution)")
    ap.add_argument("--trials", type=int, default=8, help="trials in the experiment")
    ap.add_argument("--concurrency", type=int, default=2, help="trials run at once")
    ap.add_argument("--port", type=int, default=8080, help="NNI manager port (web portal)")
    ap.add_argument("--experiment-dir", default=None,
                    help="where NNI keeps the experiment; None: ~/nni-experiments")
    ap.add_argument("--epochs", type=int, default=1, help="training epochs per trial")
    ap.add_argument("--train-size", type=int, default=2000,
                    help="Fashion-MNIST training images per trial")
    args = ap.parse_args()
    warnings.filterwarnings("ignore", message=".*pkg_resources.*")
    exp = experiment(args.space, args.flops, tuner=args.tuner, trials=args.trials,
                     concurrency=args.concurrency, experiment_dir=args.experiment_dir,
                     options={"epochs": args.epochs, "train_size": args.train_size,
                              "threads": 1})
    try:
        exp.run(args.port, wait_completion=True)
    finally:
        exp.stop()
    df = export_population(exp.id, args.experiment_dir)
    print(df[["parameter_id", "status", "flops", "error"]].to_string(index=False))
    ok = df[df["status"] == "ok"]
    print(f"{len(ok)} of {len(df)} trials trained; best error "
          f"{ok['error'].min():.4f}" if len(ok) else "no trial trained")


if __name__ == "__main__":
    main()
