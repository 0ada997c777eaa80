"""``nnictl create`` configs (``regnet-space nni-config``) and ready-to-run Python experiments.

Example:
    >>> from regnet_space.budget import Budget
    >>> from regnet_space.spaces import get_space
    >>> spec = ExperimentSpec(get_space("regnetx"), Budget.parse("360M:400M"), tuner="TPE")
    >>> experiment_config(spec, "exp")["tuner"]["className"]
    'regnet_space.search.nni.tuner.TolerantTpeTuner'
"""

from __future__ import annotations

import json
import shlex
import sys
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

from ...budget import Budget
from ...errors import ConfigError, require
from ...files import atomic_write, check_target
from ...spaces import DesignSpace, get_space
from .space import search_space

#: Tuner names ``regnet-space nni-config --sampler`` accepts (NNI built-ins that work with NNI 3.0
#: on numpy 2, plus our design-space tuner).
TUNERS = ("TPE", "Random", "Evolution", "design")
#: ``className`` of the design-space tuner (its ``codeDirectory`` is the package's parent).
DESIGN_TUNER_CLASS = "regnet_space.search.nni.tuner.DesignSpaceTuner"
#: The built-in tuners, as written by nni-config: NNI's own classes with duplicate final results
#: ignored (nni#5798 kills the dispatcher otherwise); see :mod:`regnet_space.search.nni.tuner`.
BUILTIN_TUNER_CLASSES = {"TPE": "regnet_space.search.nni.tuner.TolerantTpeTuner",
                         "Random": "regnet_space.search.nni.tuner.TolerantRandomTuner",
                         "Evolution": "regnet_space.search.nni.tuner.TolerantEvolutionTuner"}
DEFAULT_EXPERIMENT_DIR = Path("~/nni-experiments")


@dataclass
class ExperimentSpec:
    """What ``regnet-space nni-config`` writes: the space, budget, tuner and trial command."""

    space: DesignSpace
    budget: Budget
    tuner: str = "TPE"
    trials: int = 50
    concurrency: int = 1
    seed: int = 0
    trial_args: Sequence[str] = ()
    experiment_name: str | None = None
    experiment_dir: str | None = None
    population_size: int | None = None
    max_duration: str | None = None
    gpus: int = 0
    python: str = field(default_factory=lambda: sys.executable)
    encoding: str = "feasible"


def canonical_tuner(name: str) -> str:
    """The canonical spelling of a tuner name (case-insensitive); a ConfigError listing the known."""
    for t in TUNERS:
        if str(name).lower() == t.lower():
            return t
    raise ConfigError(f"unknown tuner {name!r}; use one of {', '.join(TUNERS)} (Anneal, GP, "
                     f"Hyperband, BOHB, SMAC are broken or need extras with NNI 3.0 here)")


def package_parent() -> Path:
    """The folder holding the ``regnet_space`` package (the custom tuner's ``codeDirectory``)."""
    return Path(__file__).resolve().parents[3]


def tuner_config(spec: ExperimentSpec) -> dict:
    """The ``tuner:`` section for a spec (built-in name + classArgs, or our custom class)."""
    t = canonical_tuner(spec.tuner)
    if t == "design":
        sp = spec.space
        args: dict[str, Any] = {"space": sp.name, "seed": int(spec.seed),
                                "resolution": sp.resolution, "in_channels": sp.in_channels,
                                "num_classes": sp.num_classes, "stem": sp.stem, "block": sp.block}
        for name, (lo, hi) in spec.budget.items():
            args[name] = [lo, hi]
        return {"codeDirectory": str(package_parent()), "className": DESIGN_TUNER_CLASS,
                "classArgs": args}
    if t == "TPE":
        args = {"optimize_mode": "minimize", "seed": int(spec.seed)}
    elif t == "Random":
        args = {"seed": int(spec.seed)}
    else:
        # Evolution: the first population_size trials are random; keep it well above concurrency.
        pop = spec.population_size or max(2 * spec.concurrency, min(32, spec.trials // 2), 2)
        args = {"optimize_mode": "minimize", "population_size": int(pop)}
    # The built-in tuner, through a subclass that survives NNI's duplicate results (nni#5798).
    return {"codeDirectory": str(package_parent()), "className": BUILTIN_TUNER_CLASSES[t],
            "classArgs": args}


def space_arguments(space: DesignSpace) -> list[str]:
    """Trial-command options that rebuild ``space`` (name, block, input) in the trial."""
    base = get_space(space.name)
    out = ["--space", space.name]
    if space.block != base.block:
        out += ["--block", space.block]
    out += ["--space-input", f"{space.resolution},{space.in_channels},{space.num_classes}"]
    return out


def budget_arguments(budget: Budget) -> list[str]:
    out = []
    for name, (lo, hi) in budget.items():
        out += [f"--{name}", f"{'' if lo is None else lo}:{'' if hi is None else hi}"]
    return out


def trial_command(spec: ExperimentSpec) -> str:
    """``<python> -m regnet_space.search.nni.trial --space ... --flops ... <evaluator options>``."""
    argv = [spec.python, "-m", "regnet_space.search.nni.trial", *space_arguments(spec.space),
            *budget_arguments(spec.budget), "--encoding", spec.encoding, *spec.trial_args]
    return " ".join(shlex.quote(str(a)) for a in argv)


def experiment_config(spec: ExperimentSpec, out_dir: Path) -> dict:
    """The v2 ``config.yml`` content (a dict) for ``nnictl create``."""
    if spec.trials < 1:
        raise ConfigError(f"--trials must be >= 1, got {spec.trials}")
    if spec.concurrency < 1:
        raise ConfigError(f"--concurrency must be >= 1, got {spec.concurrency}")
    out_dir = Path(out_dir).resolve()
    name = spec.experiment_name or f"{spec.space.name}-{canonical_tuner(spec.tuner)}"
    cfg: dict[str, Any] = {
        "experimentName": name,
        "searchSpaceFile": str(out_dir / "search_space.json"),
        "trialCommand": trial_command(spec),
        "trialCodeDirectory": str(out_dir),
        "trialConcurrency": int(spec.concurrency),
        "maxTrialNumber": int(spec.trials),
        "tuner": tuner_config(spec),
        "trainingService": {"platform": "local", "useActiveGpu": False},
    }
    if spec.gpus:
        cfg["trialGpuNumber"] = int(spec.gpus)
        cfg["trainingService"]["useActiveGpu"] = True
    if spec.max_duration:
        cfg["maxExperimentDuration"] = spec.max_duration
    if spec.experiment_dir:
        cfg["experimentWorkingDirectory"] = str(Path(spec.experiment_dir).expanduser().resolve())
    return cfg


def _yaml(data: Any) -> str:
    """``data`` as YAML block style, written by PyYAML's emitter (which quotes and escapes every
    string, so no value can start a key of its own); key order is kept."""
    yaml = require("yaml", pip="PyYAML", purpose="writing the NNI config.yml")
    # allow_unicode=False: every non-ASCII character is escaped inside a quoted string, so a
    # U+2028, U+2029 or U+0085 (line breaks to a YAML reader) can never start a key of its own
    return yaml.safe_dump(data, sort_keys=False, default_flow_style=False, allow_unicode=False,
                          width=1 << 16)


def has_control(text: Any) -> bool:
    """Does ``text`` hold a control character or a Unicode line/paragraph separator?

    Example:
        >>> has_control("runs/a"), has_control("a\u2028b"), has_control("a\x85b")
        (False, True, True)
    """
    return any(unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") for c in str(text))


def _check_printable(what: str, text: Any) -> None:
    if has_control(text):
        raise ConfigError(f"{what} must not contain control characters (newlines, tabs, Unicode "
                          f"line separators...), got {str(text)!r}")


def write_experiment(spec: ExperimentSpec, out_dir: str | Path, *, check_budget: bool = True) -> dict:
    """Write ``search_space.json`` and ``config.yml`` into ``out_dir``; returns their paths.

    Everything is validated first (tuner name, budget reachable in the space via one exact budget
    sample, trial and concurrency counts), so a bad request writes nothing.
    """
    out_dir = Path(out_dir)
    _check_printable("the output folder", out_dir.resolve())
    canonical_tuner(spec.tuner)
    if check_budget and not spec.budget.is_empty:
        spec.space.sample_arrays(1, seed=spec.seed, budget=spec.budget, max_draws=2_000_000)
    ss = search_space(spec.space, spec.budget, spec.encoding)
    ss_path, cfg_path = out_dir / "search_space.json", out_dir / "config.yml"
    run = " ".join(shlex.quote(str(a)) for a in ("nnictl", "create", "--config",
                                                   cfg_path.resolve(), "--port", "8080"))
    text = (f"# NNI v2 experiment config written by `regnet-space nni-config`.\n# Run: {run}\n"
            + _yaml(experiment_config(spec, out_dir)))
    out_dir.mkdir(parents=True, exist_ok=True)
    for path in (ss_path, cfg_path):  # never through a link that leads out of the folder
        check_target(path, force=True, root=out_dir)
    atomic_write(ss_path, json.dumps(ss, indent=2) + "\n")
    atomic_write(cfg_path, text)
    return {"search_space": ss_path, "config": cfg_path}
