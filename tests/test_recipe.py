"""The brief recipe: defaults shared by every entry point, zero-init and warm-up, the divergence
rule, and real Fashion-MNIST runs showing it trains the hardest models of every space."""

import argparse
import json
import math

import pytest
import torch

from regnet_space.cli import main
from regnet_space.spaces import get_space
from regnet_space.training import TrainSettings, evaluate, load_data, lr_at, preset_data
from regnet_space.training.options import add_options, data_options, settings_from_options

FAST = dict(threads=1, progress=False)


def test_every_entry_point_uses_the_brief_defaults(monkeypatch):
    brief = TrainSettings.from_preset("brief")
    assert TrainSettings() == brief.replace(preset="brief")
    assert (brief.init, brief.warmup, brief.lr, brief.weight_decay, brief.batch_size,
            brief.epochs) == ("zero_last_bn", 0.1, 0.2, 5e-4, 32, 3)
    # the options of train / sweep / nni-config and the NNI trial: no flag = the brief preset
    p = argparse.ArgumentParser()
    add_options(p)
    ns = p.parse_args([])
    assert settings_from_options(ns) == brief
    d = data_options(ns)
    # the brief preset's subset: 10,000 training images, 5,000 validation, the whole test split
    assert (d.train_size, d.test_size) == (preset_data("brief")["train_size"], None) == (10000, None)
    assert d.val_size == preset_data("brief")["val_size"] == 5000
    # the sweep objective and the NAS evaluator hand None / "brief" to the evaluator
    seen = {}
    import regnet_space.training.evaluator as ev

    def fake(cfg, data, settings=None, **kw):
        from regnet_space.training.recipe import as_settings
        seen.setdefault("s", []).append(as_settings(settings))
        return ev.EvalResult("ok", error=0.5)

    monkeypatch.setattr(ev, "evaluate", fake)
    from regnet_space.search.optuna.objective import _default_evaluate
    _default_evaluate(get_space("anynetx_a").sample(1, seed=0)[0].config, None, None)
    from regnet_space.search.nni.nas import evaluate_model  # noqa: F401  (same preset default)
    import inspect
    assert inspect.signature(evaluate_model).parameters["preset"].default == "brief"
    assert seen["s"] == [brief]


def test_zero_init_and_warm_up():
    from regnet_space.training.evaluator import _setup

    cfg = get_space("regnetx", resolution=28, in_channels=1,
                    num_classes=10).sample(1, seed=0, flops="2M:5M")[0].config
    data = load_data("synthetic", train_size=64, test_size=32)
    for init, gamma in (("zero_last_bn", 0.0), ("pycls", 1.0)):
        loop = _setup(cfg, data, TrainSettings(init=init), torch.device("cpu"), None)
        last = [m for m in loop.model.modules() if getattr(m, "final_bn", False)]
        assert last and all(float(m.weight.detach().abs().max()) == gamma for m in last)
    s = TrainSettings(lr=0.2, warmup=0.1, warmup_factor=0.1)
    assert lr_at(s, 0, 100) == pytest.approx(0.02)            # starts at 0.1 x lr
    assert lr_at(s, 5, 100) < lr_at(s, 9, 100) <= 0.2          # rises linearly
    assert lr_at(s, 10, 100) == pytest.approx(0.1 * (1 + math.cos(math.pi * 0.1)))  # then cosine
    assert lr_at(TrainSettings(warmup=0.0), 0, 100) == TrainSettings().lr


def test_divergence_rule_however_short_the_run():
    data = load_data("synthetic", train_size=32, test_size=32)   # one step of batch 32
    r = evaluate(get_space("anynetx_a", resolution=28, in_channels=1, num_classes=10)
                 .sample(1, seed=0, flops="2M:5M")[0].config, data, lr=1e6, epochs=1, **FAST)
    assert r.status == "diverged" and r.error is None
    assert "held-out loss" in r.reason and "limit 5 x ln(10)" in r.reason
    # a loss that is finite but far above ln(classes) is divergence too
    r = evaluate(get_space("anynetx_a", resolution=28, in_channels=1, num_classes=10)
                 .sample(1, seed=0, flops="2M:5M")[0].config,
                 load_data("synthetic", train_size=256, test_size=64), lr=1e6,
                 diverge_factor=1.5, epochs=1, **FAST)
    assert r.status == "diverged"


def test_cli_train_with_a_huge_learning_rate_is_diverged_exit_1(capsys):
    code = main(["train", "RegNetX-200MF", "--data", "fashion-mnist", "--lr", "1e6",
                 "--epochs", "1", "--train-size", "256", "--test-size", "256", "--threads", "1",
                 "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 1 and out["status"] == "diverged" and out["error"] is None


@pytest.mark.slow
def test_brief_recipe_trains_regnetx_200mf_below_0_40(capsys):
    argv = ["train", "RegNetX-200MF", "--data", "fashion-mnist", "--epochs", "2",
            "--train-size", "4000", "--test-size", "2000", "--seed", "0", "--threads", "1",
            "--json"]
    assert main(argv) == 0
    r = json.loads(capsys.readouterr().out)
    assert r["status"] == "ok" and r["error"] <= 0.40, r["error"]
    assert r["settings"]["init"] == "zero_last_bn" and r["settings"]["preset"] == "brief"


def _hardest(name: str):
    """The deepest and the narrowest (smallest widest stage) of 3,000 samples at 2-5 MF."""
    space = get_space(name, resolution=28, in_channels=1, num_classes=10)
    samples = space.sample(3000, seed=11, flops="2M:5M")
    deepest = max(samples, key=lambda s: s.config.depth)
    narrowest = min(samples, key=lambda s: max(s.config.widths))
    return [deepest.config, narrowest.config]


@pytest.mark.slow
@pytest.mark.parametrize("name", ["regnetx", "anynetx_a", "anynetx_e"])
def test_the_deepest_and_narrowest_models_learn(name):
    data = load_data("fashion-mnist", train_size=2000, test_size=500, seed=0)
    for cfg in _hardest(name):
        r = evaluate(cfg, data, epochs=2, **FAST)   # the brief recipe, shortened
        # seed 0 of AnyNetX_E's deepest (d = 57, every width 8) gives 0.57; over 4 seeds that
        # model averages 0.51 over seeds 0, 2, 3 (sd 0.07; seed 1 diverges: see docs/recipe.md),
        # so 0.6 is about one sd from failing on another CPU type; 0.75 is 3.5 sds away and
        # still far below chance (0.9).
        assert r.status == "ok" and r.error < 0.75, (name, cfg.depths, cfg.widths, r.summary())
        assert r.train_loss[-1] < r.train_loss[0] < math.log(10) * 1.2
