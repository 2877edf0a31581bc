"""Choose the tf.distribute strategy for a run (the default strategy until told otherwise)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass
class StrategyInfo:
    """The strategy and the facts about it that every run logs."""

    strategy: Any
    name: str
    replicas: int
    devices: list[str]


def choose_strategy() -> StrategyInfo:
    """The default (single-device) strategy; the distribution issue adds mirrored/multi-worker."""
    import tensorflow as tf

    strategy = tf.distribute.get_strategy()
    devices = [d.name for d in tf.config.list_logical_devices() if d.device_type in ("CPU", "GPU")]
    return StrategyInfo(strategy, "default", strategy.num_replicas_in_sync, devices[:1])
