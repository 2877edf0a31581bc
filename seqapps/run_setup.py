"""The first steps of a run: resolve, load data, choose the strategy, open the MLflow run.

Everything that can be checked before training (task, arch, options, tracking store, data)
is checked here, before a run is opened, so a user mistake never leaves a run behind.
"""

from __future__ import annotations

import dataclasses
import os
import platform
from pathlib import Path

import seqapps
from seqapps import heartbeat, registry, resuming
from seqapps.archs import Arch
from seqapps.config import absolute_data_path, experiment_name
from seqapps.exceptions import ConfigError
from seqapps.run_context import RunContext
from seqapps.task import SPLITS
from seqapps.tracking import NullTracker, Tracker


def check_arch(task_cls, config, stateful: bool = False) -> Arch:
    """Load the arch of ``config`` and make sure it can serve this run, naming the archs
    that can."""
    arch = registry.load_arch(config.arch)
    kind = task_cls.arch_kind(config)
    if not arch.supports(kind):
        fitting = ", ".join(registry.archs_for_kind(kind))
        why = "" if kind == task_cls.arch_kind() else ", as its options ask"
        raise ConfigError(
            f"--arch {config.arch}: cannot serve task {task_cls.name!r} ({kind}{why}); "
            f"archs that fit: {fitting}"
        )
    if stateful and not arch.stateful:
        fitting = ", ".join(
            name for name in registry.archs_for_kind(kind) if registry.load_arch(name).stateful
        )
        raise ConfigError(
            f"--arch {config.arch}: cannot carry state across chunks (truncated BPTT); "
            f"archs that can: {fitting}"
        )
    return arch


def resolve(task_cls, config, echo, resuming_run: bool) -> RunContext:
    """Step 1: the task, its arch, the devices and the tracking store, all checked."""
    from seqapps.data.sources import check_local_source
    from seqapps.distribute import multi_worker, request_devices

    check_local_source(config.data)
    if config.folds and not config.fold:
        raise ConfigError(
            f"folds={config.folds} without fold: set fold=1..{config.folds} for one fold, or "
            f"run `seqapps run {config.task} --folds {config.folds}` for all of them"
        )
    task = task_cls()
    chunk = task.truncated_bptt(config)
    arch = check_arch(task_cls, config, stateful=chunk is not None)
    # Both must happen before TensorFlow runs its first op: logical CPU devices, and the
    # collective communication of a multi-worker job.
    cluster = multi_worker(config.devices) if config.strategy == "multi-worker" else None
    if cluster is None:
        request_devices(config.devices)
    if cluster is not None and resuming_run:
        raise ConfigError("--resume is not supported with --strategy multi-worker yet")
    if config.output_dir:
        _check_writable_folder(config.output_dir)
    tracker = Tracker(config.tracking_uri) if cluster is None or cluster.is_chief else NullTracker()
    experiment_id = tracker.experiment_id(experiment_name(config.experiment, config.task))
    tracker.check_artifact_root(experiment_id)
    return RunContext(task, arch, config, echo, chunk, cluster, tracker, experiment_id)


def load_data(ctx: RunContext) -> None:
    """Step 2: the task reads and checks its data, then TensorFlow is imported and seeded."""
    config = ctx.config
    ctx.echo(
        f"seqapps {seqapps.__version__}: task {config.task}, arch {config.arch}, data {config.data}"
    )
    # Tasks read and check their source before importing TensorFlow, so a data mistake is
    # reported at once.
    ctx.data = ctx.task.load_data(config)
    from seqapps.tensorflow_import import import_tensorflow

    import_tensorflow()
    sizes = ctx.data.sizes
    splits = ", ".join(f"{split} {sizes[split]}" for split in SPLITS if split in sizes)
    others = ", ".join(
        f"{name} {_count(count)}" for name, count in sizes.items() if name not in SPLITS
    )
    ctx.echo(
        f"data: {splits} examples{'; ' + others if others else ''} "
        f"(fingerprint {ctx.data.fingerprint})"
    )


def _count(value: float) -> str:
    """A size as people read it: 1,003,860 for a whole number, else as it is."""
    return f"{int(value):,}" if float(value).is_integer() else f"{value:g}"


def choose_strategy(ctx: RunContext) -> None:
    """Step 3: the tf.distribute strategy, and the settings it rules out."""
    from seqapps.distribute import choose_strategy as strategy_for

    config = ctx.config
    ctx.strategy = ctx.cluster or strategy_for(config.strategy, config.devices)
    if ctx.stateful and ctx.strategy.replicas > 1:
        raise ConfigError(
            f"--strategy {ctx.strategy.name}: truncated BPTT carries state row by row across "
            "batches, which replicas would split; use one device"
        )
    if config.mixed_precision:
        import tensorflow as tf

        if not tf.config.list_logical_devices("GPU"):
            raise ConfigError(
                "--mixed-precision needs a GPU: float16 math is emulated on CPUs, and slower"
            )


def open_run(ctx: RunContext, tags, resume: resuming.Resume | None):
    """Step 4: a new MLflow run (with ``tags``: mlflow.parentRunId nests it), or the resumed
    one."""
    name = experiment_name(ctx.config.experiment, ctx.config.task)
    tracker = ctx.tracker
    if resume is not None:
        ctx.run_id = resume.run_id
        progress, arrays, ctx.state_dir = resuming.load_state(tracker, resume, ctx.data)
        ctx.resume = (progress, arrays)
        ctx.echo(f"MLflow run {ctx.run_id} continues in experiment {name!r} ({tracker.uri})")
        return
    tags = {
        "task": ctx.config.task,
        "arch": ctx.config.arch,
        "seqapps.data": ctx.data.source,
        **(tags or {}),
    }
    ctx.run_id = tracker.start_run(ctx.experiment_id, ctx.config.run_name, tags)
    owner = heartbeat.owner_tags()
    tracker.set_tags(ctx.run_id, {"seqapps.state_dir": str(ctx.state_directory), **owner})
    if isinstance(tracker, NullTracker):
        ctx.echo(f"worker {ctx.cluster.worker_index}: the chief opens and logs the MLflow run")
    else:
        ctx.echo(f"MLflow run {ctx.run_id} in experiment {name!r} ({tracker.uri})")


def log_params(ctx: RunContext) -> None:
    """Step 5: every setting, data fact and version as MLflow params (new runs only: a
    resumed run keeps the params it was started with)."""
    strategy, data = ctx.strategy, ctx.data
    # Recorded absolute: a resume from another folder must find the data.
    recorded = dataclasses.replace(ctx.config, data=absolute_data_path(ctx.config.data))
    ctx.params = recorded.as_params()
    ctx.params.update(
        {
            "data.source": data.source,
            "data.fingerprint": data.fingerprint,
            # data.train_size for a split's examples; data.<name> for any other count.
            **{
                f"data.{name}_size" if name in SPLITS else f"data.{name}": count
                for name, count in data.sizes.items()
            },
            "strategy": strategy.name,
            "replicas": strategy.replicas,
            "workers": strategy.workers,
            "devices": ",".join(strategy.devices),
            "global_batch_size": ctx.global_batch,
            "tbptt_chunk": ctx.chunk or "",
            **_versions(),
            **plugin_versions(ctx.config.task, ctx.arch.name),
        }
    )
    if ctx.resume is None:
        ctx.tracker.log_params(ctx.run_id, ctx.params)
        ctx.tracker.log_dataset(ctx.run_id, data.source, data.fingerprint, data.sizes)
        ctx.tracker.log_text(ctx.run_id, recorded.to_yaml(), "config.yaml")


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy, TensorFlow and Keras, and make TensorFlow's kernels deterministic."""
    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(seed)
    # Same seed, same metrics on CPU: deterministic kernels cost little at these sizes.
    tf.config.experimental.enable_op_determinism()


def _versions() -> dict[str, str]:
    import keras
    import mlflow
    import tensorflow as tf

    return {
        "version.seqapps": seqapps.__version__,
        "version.tensorflow": tf.__version__,
        "version.keras": keras.__version__,
        "version.mlflow": mlflow.__version__,
        "version.python": platform.python_version(),
    }


def plugin_versions(task: str, arch: str) -> dict[str, str]:
    """``version.<distribution>`` of the plugins a run used: its task's and its arch's."""
    found = {}
    for records, name in ((registry.task_records(), task), (registry.arch_records(), arch)):
        for record in records:
            if record.name == name:
                found[f"version.{record.distribution}"] = record.version
    return found


def _check_writable_folder(folder: str) -> None:
    """Fail before anything trains if --output-dir cannot take files."""
    path = Path(folder)
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / f".seqapps-probe-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as error:
        raise ConfigError(
            f"--output-dir {folder}: not a writable folder ({error.strerror or error})"
        ) from None
