"""NNI NAS: the model space's mutables, freeze, and budgeted multi-trial search (Random and
RegularizedEvolution + Filter) on a tiny Fashion-MNIST subset, where no over-budget model trains."""

from __future__ import annotations

import numpy as np
import pytest

import nni
import pytorch_lightning  # noqa: F401  # nni.nas imports it
import torch
pytestmark = pytest.mark.filterwarnings("ignore:.*is found to be not a nn.Module:RuntimeWarning")

from regnet_space.complexity import complexity  # noqa: E402
from regnet_space.nn import count_params  # noqa: E402
from regnet_space.spaces import get_space  # noqa: E402

FLOPS_HIGH = 10_000_000  # at 28 px: about 1 in 400 uniform-choice samples of RegNetX qualifies


def test_mutables_and_freeze_follow_the_encoding():
    from regnet_space.search.nni.nas import AnyNetSpace, RegNetSpace
    from regnet_space.spaces.encoding import get_encoding

    ds = get_space("regnetx", resolution=28, in_channels=1, num_classes=10)
    raw = RegNetSpace("regnetx", resolution=28, in_channels=1, num_classes=10, encoding="raw")
    muts = raw.simplify()
    assert list(muts) == ["d", "w0", "wa", "wm", "b_index", "g_log2"]
    assert list(muts["g_log2"].values) == [0, 1, 2, 3, 4, 5]
    s = ds.sample(1, seed=3, flops=f":{FLOPS_HIGH}")[0]
    frozen = raw.freeze(get_encoding(ds, encoding="raw").encode(s.values))
    assert type(frozen) is RegNetSpace and frozen.config == s.config
    assert count_params(frozen) == s.params  # the built network is the decoded config
    assert frozen(torch.zeros(2, 1, 28, 28)).shape == (2, 10)
    # the feasible encoding: every grid point of its mutables decodes inside the budget
    ms = RegNetSpace("regnetx", resolution=28, in_channels=1, num_classes=10,
                     flops=f":{FLOPS_HIGH}")
    muts = ms.simplify()
    assert set(muts) == {"d", "wm", "b_index", "g_log2", "slope", "size"}
    rng = np.random.default_rng(0)
    for _ in range(5):
        sample = {k: m.values[rng.integers(len(m.values))] for k, m in muts.items()}
        model = ms.freeze(sample)
        assert complexity(model.config).flops <= FLOPS_HIGH and len(model.config.stages) == 4
    with pytest.raises(ValueError, match="AnyNetX"):
        AnyNetSpace("regnetx")


@pytest.fixture(autouse=True)
def _private_nni_registry(tmp_path, monkeypatch):
    """NasExperiment records itself in ~/nni-experiments/.experiment (a default argument bound at
    import, so HOME cannot redirect it); point it at the test's folder instead."""
    import nni.nas.experiment.experiment as nas_exp
    from nni.tools.nnictl.config_utils import Experiments

    home = tmp_path / "nni-home"
    home.mkdir()
    monkeypatch.setattr(nas_exp, "Experiments", lambda: Experiments(home_dir=str(home)))


#: What the evaluators of this module trained (the sequential engine runs them in-process).
TRAINED: list = []


def _train_and_record(model, **kw):
    from regnet_space.search.nni.nas import evaluate_model

    acc = evaluate_model(model, **kw)
    TRAINED.append({"config": model.config, "flops": complexity(model.config).flops,
                    "status": "ok" if acc > 0 else "failed"})


def _run(strategy_factory, tmp_path, evaluate=None, trials=3, encoding="raw"):
    from nni.nas.evaluator import FunctionalEvaluator
    from nni.nas.experiment import NasExperiment, NasExperimentConfig

    from regnet_space.search.nni.nas import RegNetSpace, budget_strategy

    space = RegNetSpace("regnetx", resolution=28, in_channels=1, num_classes=10,
                        flops=f":{FLOPS_HIGH}", encoding=encoding)
    checked: list = []
    strategy, flt = budget_strategy(strategy_factory(), space, record=checked)
    if evaluate is None:
        evaluator = FunctionalEvaluator(_train_and_record, data="fashion-mnist", train_size=300,
                                        val_size=100, test_size=200, epochs=1, batch_size=64,
                                        threads=1)
    else:
        evaluator = FunctionalEvaluator(evaluate)
    config = NasExperimentConfig("sequential", "raw", "local")
    config.max_trial_number = trials
    config.experiment_working_directory = str(tmp_path / "nni-experiments")
    TRAINED.clear()
    exp = NasExperiment(space, evaluator, strategy, config)
    try:
        exp.run(port=_free_port())
    finally:
        exp.stop()
    return exp, flt, checked, list(TRAINED)


def _untrained_evaluate(model):
    """A stand-in for training (the strategy's mechanics are what is tested): records the model
    and reports a metric that prefers fewer flops."""
    cx = complexity(model.config)
    TRAINED.append({"config": model.config, "flops": cx.flops, "status": "ok"})
    nni.report_final_result(1.0 - cx.flops / 1e8)   # accuracy-like, in [0, 1]


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _check(exp, flt, checked, evaluated, trials, rejected=True):
    from nni.nas.space import ModelStatus

    assert len(evaluated) == trials
    for e in evaluated:  # what was actually trained
        assert e["flops"] <= FLOPS_HIGH and e["status"] == "ok"
        assert complexity(e["config"]).flops == e["flops"]
        assert len(e["config"].stages) == 4
    trained = list(exp.strategy.list_models(sort=False))
    ok = [m for m in trained if m.status == ModelStatus.Trained]
    assert len(ok) == trials and all(0 <= m.metric <= 1 for m in ok)
    # The Filter saw every sample, rejected the over-budget ones, and only those it passed trained.
    assert (flt._filter_count_total > 0) == rejected
    assert sum(c["feasible"] for c in checked) == trials
    assert all(c["flops"] <= FLOPS_HIGH for c in checked if c["feasible"])
    assert sorted(c["flops"] for c in checked if c["feasible"]) == sorted(e["flops"] for e in evaluated)


@pytest.mark.slow
def test_random_with_budget_filter_trains_only_feasible_models(tmp_path):
    from nni.nas.strategy import Random

    exp, flt, checked, evaluated = _run(lambda: Random(seed=0), tmp_path)
    _check(exp, flt, checked, evaluated, 3)


def test_regularized_evolution_with_budget_filter(tmp_path):
    from nni.nas.strategy import RegularizedEvolution

    exp, flt, checked, evaluated = _run(
        lambda: RegularizedEvolution(population_size=3, sample_size=2, seed=0), tmp_path,
        evaluate=_untrained_evaluate, trials=6)
    _check(exp, flt, checked, evaluated, 6)


def test_regularized_evolution_on_the_feasible_encoding_rejects_nothing(tmp_path):
    from nni.nas.strategy import RegularizedEvolution

    exp, flt, checked, evaluated = _run(
        lambda: RegularizedEvolution(population_size=3, sample_size=2, seed=0), tmp_path,
        evaluate=_untrained_evaluate, trials=6, encoding="feasible")
    _check(exp, flt, checked, evaluated, 6, rejected=False)
