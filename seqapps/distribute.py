"""Choose the tf.distribute strategy and the devices of a run.

    --strategy auto         several GPUs: mirrored; one GPU: one-device; else the default
    --strategy mirrored --devices gpu:0,gpu:1
    --strategy mirrored --devices cpu:0,cpu:1   # splits the CPU into logical devices

Asking for more CPU devices than exist splits the physical CPU into that many logical
devices (how tf.distribute is exercised without GPUs). That must happen before TensorFlow
starts its runtime, so ``request_devices`` runs before any data is loaded.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from typing import Any

from seqapps.exceptions import ConfigError

STRATEGIES = ("auto", "default", "one-device", "mirrored", "multi-worker")
_DEVICE = re.compile(r"^/?(?:device:)?(cpu|gpu):(\d+)$", re.IGNORECASE)


@dataclass
class StrategyInfo:
    """The strategy and the facts about it that every run logs."""

    strategy: Any
    name: str
    replicas: int
    devices: list[str]
    workers: int = 1
    is_chief: bool = True
    worker_index: int = 0


def parse_devices(text: str | None) -> list[tuple[str, int]]:
    """``"gpu:0,gpu:1"`` -> [("GPU", 0), ("GPU", 1)]; a clear error for anything else."""
    if not text:
        return []
    devices = []
    for item in text.split(","):
        match = _DEVICE.match(item.strip())
        if not match:
            raise ConfigError(f"--devices {text}: {item.strip()!r} is not like cpu:0 or gpu:1")
        devices.append((match.group(1).upper(), int(match.group(2))))
    if len(set(devices)) != len(devices):
        raise ConfigError(f"--devices {text}: a device is named twice")
    return devices


def request_devices(devices_text: str | None) -> None:
    """Split the CPU into logical devices if more CPUs are asked for than exist.

    Call before TensorFlow's runtime starts (before any tensor or dataset is made).
    """
    wanted = [index for kind, index in parse_devices(devices_text) if kind == "CPU"]
    if not wanted:
        return
    from seqapps.tensorflow_import import import_tensorflow

    tf = import_tensorflow()
    (cpu, *_) = tf.config.list_physical_devices("CPU")
    count = max(wanted) + 1
    if count > 1:
        existing = tf.config.get_logical_device_configuration(cpu)
        if existing and len(existing) >= count:
            return
        try:
            tf.config.set_logical_device_configuration(
                cpu, [tf.config.LogicalDeviceConfiguration() for _ in range(count)]
            )
        except RuntimeError:
            raise ConfigError(
                f"--devices: cannot split the CPU into {count} devices once TensorFlow has "
                "started (run seqapps in a fresh process)"
            ) from None


def choose_strategy(name: str = "default", devices_text: str | None = None) -> StrategyInfo:
    """The strategy ``name`` over ``devices_text`` (see module docstring)."""
    import tensorflow as tf

    if name not in STRATEGIES:
        raise ConfigError(f"--strategy {name}: expected one of {', '.join(STRATEGIES)}")
    gpus = [d.name for d in tf.config.list_logical_devices("GPU")]
    available = [
        d.name for d in tf.config.list_logical_devices() if d.device_type in ("CPU", "GPU")
    ]
    chosen = [_device_name(kind, index, available) for kind, index in parse_devices(devices_text)]
    if name == "auto":
        name = "mirrored" if len(chosen or gpus) > 1 else "one-device" if gpus else "default"
    if name == "default":
        if len(chosen) > 1:
            raise ConfigError("--devices names several devices; use --strategy mirrored")
        strategy = tf.distribute.get_strategy()
        return StrategyInfo(strategy, "default", 1, chosen or available[:1])
    if name == "one-device":
        if len(chosen) > 1:
            raise ConfigError("--strategy one-device takes one device in --devices")
        device = (chosen or gpus or available)[0]
        return StrategyInfo(tf.distribute.OneDeviceStrategy(device), name, 1, [device])
    if name == "mirrored":
        replicas = chosen or gpus
        if len(replicas) < 2:
            raise ConfigError(
                "--strategy mirrored needs two or more devices: name them with --devices "
                "(cpu:0,cpu:1 splits the CPU into logical devices)"
            )
        strategy = tf.distribute.MirroredStrategy(replicas)
        return StrategyInfo(strategy, name, strategy.num_replicas_in_sync, replicas)
    raise ConfigError("--strategy multi-worker is set up by multi_worker() at start-up")


def cluster_role(tf_config: str | None = None) -> tuple[int, int, bool]:
    """(workers, this worker's index, is chief) from the standard TF_CONFIG."""
    text = tf_config if tf_config is not None else os.environ.get("TF_CONFIG", "")
    if not text:
        raise ConfigError(
            "--strategy multi-worker needs TF_CONFIG, e.g. "
            '{"cluster": {"worker": ["host1:12345", "host2:12345"]}, '
            '"task": {"type": "worker", "index": 0}} (docs/distributed.md)'
        )
    try:
        spec = json.loads(text)
        cluster, task = spec["cluster"], spec["task"]
        kind, index = task["type"], int(task["index"])
    except (ValueError, KeyError, TypeError):
        raise ConfigError(f"TF_CONFIG is not valid: {text[:200]}") from None
    workers = len(cluster.get("chief", [])) + len(cluster.get("worker", []))
    chief = kind == "chief" or (kind == "worker" and index == 0 and not cluster.get("chief"))
    return workers, index if kind == "worker" else 0, chief


def multi_worker(devices_text: str | None = None) -> StrategyInfo:
    """MultiWorkerMirroredStrategy from TF_CONFIG. Call before TensorFlow runs any op:
    collective communication can only be configured at start-up."""
    workers, index, chief = cluster_role()
    request_devices(devices_text)
    from seqapps.tensorflow_import import import_tensorflow

    tf = import_tensorflow()
    strategy = tf.distribute.MultiWorkerMirroredStrategy()
    devices = [d.name for d in tf.config.list_logical_devices() if d.device_type in ("CPU", "GPU")]
    return StrategyInfo(
        strategy, "multi-worker", strategy.num_replicas_in_sync, devices, workers, chief, index
    )


def _device_name(kind: str, index: int, available: list[str]) -> str:
    for name in available:
        if name.upper().endswith(f"/DEVICE:{kind}:{index}"):
            return name
    raise ConfigError(
        f"--devices: no {kind.lower()}:{index} on this machine; available: "
        + ", ".join(n.split("device:")[-1].lower() for n in available)
    )
