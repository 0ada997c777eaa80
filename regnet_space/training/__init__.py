"""The training room: data sets, the brief-training recipe, and ``evaluate(config) -> EvalResult``.

Modules: :mod:`.recipe` (TrainSettings, presets, the learning rate; no torch), :mod:`.options`
(their command-line flags; no torch), :mod:`.data` (data sets as device tensors, splits,
augmentation), :mod:`.evaluator` (brief training of one candidate). Importing this package does not
import torch; the names below that need it are loaded on first use.

Example:
    >>> from regnet_space.config import NetConfig
    >>> from regnet_space.training import evaluate, load_data
    >>> cfg = NetConfig.from_lists([1, 1], [16, 32], gs=8, stem="small", stem_w=16,
    ...                            resolution=28, in_channels=1, num_classes=10)
    >>> r = evaluate(cfg, load_data("synthetic", train_size=256, test_size=128), epochs=1,
    ...              progress=False)
    >>> r.status
    'ok'
"""

import importlib
from typing import Any

from .recipe import PRESETS, TrainSettings, as_settings, cosine_lr, lr_at, preset_data

_LAZY = {
    "Data": "data", "DeviceData": "data", "Split": "data", "dataset_names": "data",
    "load_data": "data", "EvalResult": "evaluator", "STATUSES": "evaluator",
    "as_config": "evaluator", "evaluate": "evaluator", "match_input": "evaluator",
    "resolve_device": "evaluator",
}


def __getattr__(name: str) -> Any:  # PEP 562: torch is imported only when training is used
    if name in _LAZY:
        return getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["PRESETS", "TrainSettings", "as_settings", "cosine_lr", "lr_at", "preset_data",
           *_LAZY]
