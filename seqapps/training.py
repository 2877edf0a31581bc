"""The run pipeline: config -> data -> model under strategy scope -> fit -> evaluate -> MLflow.

    seqapps run sentiment --arch bilstm

Everything that can be checked before training (task, arch, options, tracking store, data)
is checked before a run is opened, so a user mistake never leaves a run behind. Once the run
is open it ends FINISHED, or FAILED/KILLED with the reason.
"""

from __future__ import annotations

import contextlib
import os
import platform
import shutil
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import seqapps
from seqapps import callbacks as callbacks_module
from seqapps import input_pipeline, models, registry, runstate, stopping
from seqapps.archs import EncoderSettings
from seqapps.config import RunConfig
from seqapps.exceptions import (
    ConfigError,
    RunInterrupted,
    SeqappsError,
    TrackingError,
    TrainingError,
)
from seqapps.runtime import import_tensorflow
from seqapps.tracking import NullTracker, Tracker, ui_command


@dataclass
class RunResult:
    """What a finished run reports back: ids, final metrics and the lines to show."""

    run_id: str
    experiment_id: str
    tracking_uri: str
    metrics: dict[str, float]
    summary: list[str] = field(default_factory=list)
    params: dict[str, str] = field(default_factory=dict)


def encoder_settings(config: RunConfig, stateful: bool = False) -> EncoderSettings:
    """The arch-level settings of a run config (``stateful`` for truncated BPTT)."""
    return EncoderSettings(
        stateful=stateful,
        units=config.units,
        layers=config.layers,
        dropout=config.dropout,
        recurrent_dropout=config.recurrent_dropout,
        l1=config.l1,
        l2=config.l2,
        seed=config.seed,
        options=config.options,
    )


def check_arch(task_cls, arch_name: str, stateful: bool = False):
    """Load the arch and make sure it can serve this task, naming the archs that can."""
    arch = registry.load_arch(arch_name)
    kind = task_cls.arch_kind()
    if not arch.supports(kind):
        fitting = ", ".join(registry.archs_for_kind(kind))
        raise ConfigError(
            f"--arch {arch_name}: cannot serve task {task_cls.name!r} ({kind}); "
            f"archs that fit: {fitting}"
        )
    if stateful and not arch.stateful:
        fitting = ", ".join(
            name for name in registry.archs_for_kind(kind) if registry.load_arch(name).stateful
        )
        raise ConfigError(
            f"--arch {arch_name}: cannot carry state across chunks (truncated BPTT); "
            f"archs that can: {fitting}"
        )
    return arch


def _seed_everything(seed: int) -> None:
    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(seed)
    # Same seed, same metrics on CPU: deterministic kernels cost little at these sizes.
    tf.config.experimental.enable_op_determinism()


def _keras_verbosity(config: RunConfig) -> int:
    # An animated bar in a log file is noise: one line per epoch when not on a terminal.
    if config.verbose == 1 and not sys.stdout.isatty():
        return 2
    return config.verbose


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


def run(
    task_cls,
    config: RunConfig,
    echo: Callable[[str], None] = print,
    parent_run_id: str | None = None,
    tags: dict[str, str] | None = None,
    resume_run_id: str | None = None,
) -> RunResult:
    """Train, evaluate and log one run of ``task_cls`` as described by ``config``.

    ``parent_run_id`` nests the run under a pipeline's parent run; ``tags`` are added to it.
    ``resume_run_id`` continues that (interrupted) run from its saved state, in the same
    MLflow run.
    """
    task = task_cls()
    chunk = task.truncated_bptt(config)
    arch = check_arch(task_cls, config.arch, stateful=chunk is not None)
    from seqapps.distribute import choose_strategy, multi_worker, request_devices

    # Both must happen before TensorFlow runs its first op: logical CPU devices, and the
    # collective communication of a multi-worker job.
    cluster = multi_worker(config.devices) if config.strategy == "multi-worker" else None
    if cluster is None:
        request_devices(config.devices)
    if cluster is not None and resume_run_id:
        raise ConfigError("--resume is not supported with --strategy multi-worker yet")
    if config.output_dir:
        _check_writable_folder(config.output_dir)
    tracker = Tracker(config.tracking_uri) if cluster is None or cluster.is_chief else NullTracker()
    experiment_name = config.experiment or config.task
    experiment_id = tracker.experiment_id(experiment_name)

    echo(
        f"seqapps {seqapps.__version__}: task {config.task}, arch {config.arch}, data {config.data}"
    )
    # Tasks read and check their source before importing TensorFlow, so a data mistake is
    # reported at once.
    data = task.load_data(config)
    import_tensorflow()
    import keras

    # Before the input pipeline exists: tf.data shuffles combine their seed with the global one.
    _seed_everything(config.seed)
    echo(
        "data: "
        + ", ".join(f"{split} {count}" for split, count in data.sizes.items())
        + f" examples (fingerprint {data.fingerprint})"
    )
    strategy = cluster or choose_strategy(config.strategy, config.devices)
    if chunk is not None and strategy.replicas > 1:
        raise ConfigError(
            f"--strategy {strategy.name}: truncated BPTT carries state row by row across "
            "batches, which replicas would split; use one device"
        )
    if config.mixed_precision:
        import tensorflow as tf

        if not tf.config.list_logical_devices("GPU"):
            raise ConfigError(
                "--mixed-precision needs a GPU: float16 math is emulated on CPUs, and slower"
            )

    resume = None
    if resume_run_id:
        run_id, resume = resume_run_id, _load_resume(tracker, resume_run_id, data)
        echo(f"MLflow run {run_id} continues in experiment {experiment_name!r} ({tracker.uri})")
    else:
        tags = {
            "task": config.task,
            "arch": config.arch,
            "seqapps.data": data.source,
            **(tags or {}),
        }
        if parent_run_id:
            tags["mlflow.parentRunId"] = parent_run_id
        run_id = tracker.start_run(experiment_id, config.run_name, tags)
        directory = runstate.state_directory(config.output_dir, run_id)
        tracker.set_tags(run_id, {"seqapps.state_dir": str(directory)})
        if isinstance(tracker, NullTracker):
            echo(f"worker {cluster.worker_index}: the chief opens and logs the MLflow run")
        else:
            echo(f"MLflow run {run_id} in experiment {experiment_name!r} ({tracker.uri})")
    policy = keras.mixed_precision.global_policy()
    # SIGTERM and SIGHUP take the Ctrl-C path: state saved, metrics flushed, run KILLED.
    with stopping.stop_signals_interrupt() as stop:
        try:
            if config.mixed_precision:
                # Heads compute in float32 (dtype="float32"), so losses stay stable.
                keras.mixed_precision.set_global_policy("mixed_float16")
            result = _train_and_log(
                task,
                arch,
                config,
                data,
                strategy,
                tracker,
                run_id,
                experiment_id,
                keras,
                echo,
                chunk,
                resume,
            )
        except KeyboardInterrupt:
            tracker.fail(run_id, stop.reason, status="KILLED")
            raise
        except RunInterrupted as error:
            tracker.fail(run_id, stop.reason, status="KILLED")
            error.exit_code = stop.exit_code
            raise error from None
        except SeqappsError as error:
            tracker.fail(run_id, str(error))
            raise
        except Exception as error:
            tracker.fail(run_id, f"{type(error).__name__}: {error}")
            raise TrainingError(f"run {run_id} failed: {type(error).__name__}: {error}") from error
        finally:
            keras.mixed_precision.set_global_policy(policy)
    return result


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


def _local_copy(task, data, arch, config, model, loss, metric_arguments):
    """The trained model rebuilt outside the multi-worker strategy, for the chief alone to
    evaluate, report and export (the distributed one would wait for the other workers)."""
    local = task.build_model(data.spec, arch, config)
    loss, metrics = task.loss_and_metrics(data.spec)  # fresh metric objects, not distributed
    key = next(iter(metric_arguments))
    local.compile(loss=loss, **{key: metrics})
    for variable, value in zip(local.variables, model.variables):
        variable.assign(value.numpy())
    return local


def _load_resume(tracker: Tracker, run_id: str, data):
    """The saved state of run ``run_id``, after checking it may continue on this data."""
    run = tracker.get_run(run_id)
    if run.info.status == "FINISHED":
        raise ConfigError(f"--resume {run_id}: the run is already FINISHED")
    directory = run.data.tags.get("seqapps.state_dir")
    if not directory:
        raise ConfigError(f"--resume {run_id}: the run has no seqapps state (seqapps.state_dir)")
    progress, arrays = runstate.load(Path(directory))
    if progress.fingerprint != data.fingerprint:
        raise ConfigError(
            f"--resume {run_id}: the data changed since the run started (fingerprint "
            f"{data.fingerprint}, was {progress.fingerprint}); start a new run instead"
        )
    tracker.reopen(run_id, {"seqapps.resumed_at_epoch": str(progress.epoch + 1)})
    return progress, arrays


def _reconcile_epoch_metrics(tracker: Tracker, run_id: str, progress) -> set[int]:
    """Log saved epochs the store lost (buffered when the process died); return every step
    the store now holds, so replayed epochs are not logged twice."""
    logged = tracker.metric_steps(run_id, "train_loss")
    for step in range(1, progress.epoch + 1):
        if step not in logged:
            values = {k: v[step - 1] for k, v in progress.history.items() if len(v) >= step}
            metrics = {callbacks_module.epoch_metric_name(k): v for k, v in values.items()}
            tracker.log_metrics(run_id, metrics, step=step)
            logged.add(step)
    return logged


def _train_and_log(
    task,
    arch,
    config,
    data,
    strategy,
    tracker,
    run_id,
    experiment_id,
    keras,
    echo,
    chunk,
    resume=None,
):
    global_batch = config.batch_size * strategy.replicas
    params = config.as_params()
    params.update(
        {
            "data.source": data.source,
            "data.fingerprint": data.fingerprint,
            **{f"data.{split}_size": count for split, count in data.sizes.items()},
            "strategy": strategy.name,
            "replicas": strategy.replicas,
            "workers": strategy.workers,
            "devices": ",".join(strategy.devices),
            "global_batch_size": global_batch,
            "tbptt_chunk": chunk or "",
            **_versions(),
        }
    )
    if resume is None:  # a resumed run keeps the params it was started with
        tracker.log_params(run_id, params)
        tracker.log_text(run_id, config.to_yaml(), "config.yaml")

    stateful = chunk is not None
    first_epoch = 0 if resume is None else resume[0].epoch
    train, validation, test = input_pipeline.build(
        task, data, config, global_batch, stateful, epochs=(first_epoch, config.epochs)
    )
    steps = input_pipeline.steps_per_epoch(task, data, global_batch, stateful)
    # Seed again right before the weights are drawn: MLflow consumes Python's global random
    # when it invents a run name, which would otherwise make named and unnamed runs differ.
    _seed_everything(config.seed)
    with strategy.strategy.scope():
        model = task.build_model(data.spec, arch, config)
        loss, metrics = task.loss_and_metrics(data.spec)
        optimizer = keras.optimizers.Adam(
            learning_rate=config.learning_rate,
            global_clipnorm=config.clip_norm or None,
            clipvalue=config.clip_value or None,
        )
        if len(data.train.element_spec) == 3:
            # (inputs, targets, weights): padding has weight 0, in the metrics as in the loss.
            metric_arguments = {"weighted_metrics": metrics}
        else:
            metric_arguments = {"metrics": metrics}
        model.compile(
            optimizer=optimizer,
            loss=loss,
            jit_compile=config.jit_compile,
            steps_per_execution=config.steps_per_execution,
            **metric_arguments,
        )
    params["model.parameters"] = model.count_params()
    if resume is None:
        tracker.log_params(run_id, {"model.parameters": params["model.parameters"]})
    echo(f"model: {arch.name}, {model.count_params():,} parameters")

    directory = runstate.state_directory(config.output_dir, run_id)
    snapshot = runstate.Snapshot(
        directory if strategy.is_chief else None,  # only the chief keeps the run's state
        config.checkpoint_interval,
        runstate.Progress(fingerprint=data.fingerprint),
    )
    logged_steps: set[int] = set()
    if resume is not None:
        snapshot.progress, arrays = resume
        runstate.restore(model, arrays)
        snapshot.best = arrays["best"] or None
        logged_steps = _reconcile_epoch_metrics(tracker, run_id, snapshot.progress)
        echo(f"resuming at epoch {snapshot.progress.epoch + 1} of {config.epochs}")

    with tempfile.TemporaryDirectory(prefix="seqapps-") as scratch:
        work = Path(config.output_dir) / run_id if config.output_dir else Path(scratch)
        work.mkdir(parents=True, exist_ok=True)
        callbacks = callbacks_module.run_callbacks(
            tracker, run_id, config, stateful, snapshot, logged_steps
        )
        try:
            if strategy.name == "multi-worker":
                from seqapps import own_loop

                own_loop.fit(
                    model,
                    strategy.strategy,
                    train,
                    validation,
                    steps,
                    snapshot.progress.epoch,
                    config.epochs,
                    callbacks,
                    echo,
                    config.verbose,
                )
            else:
                model.fit(
                    train,
                    validation_data=validation,
                    initial_epoch=snapshot.progress.epoch,
                    epochs=config.epochs,
                    steps_per_epoch=steps,
                    callbacks=callbacks,
                    verbose=_keras_verbosity(config),
                    shuffle=False,  # the input pipeline already shuffles, with the run's seed
                )
        except KeyboardInterrupt:
            with contextlib.suppress(Exception):  # the epochs' metrics first: they are the run
                tracker.flush()
            snapshot.save()
            raise RunInterrupted(
                f"interrupted; run {run_id} is KILLED with its state saved after epoch "
                f"{snapshot.progress.epoch}. Resume with: seqapps run {config.task} "
                f"--resume {run_id}"
            ) from None
        try:
            tracker.flush()
        except Exception as error:  # the store stayed away longer than MLflow's retries
            snapshot.save()
            raise TrackingError(
                f"lost the tracking store {tracker.uri} ({type(error).__name__}); the trained "
                f"state is saved in {directory}. Once the store is back: seqapps run "
                f"{config.task} --resume {run_id}"
            ) from None
        progress = snapshot.progress
        history = progress.history
        if next(c for c in callbacks if type(c).__name__ == "RunProgress").non_finite:
            snapshot.save()  # the last good epoch, for a resume with other settings
            raise TrainingError(
                f"loss became NaN or infinite in epoch {progress.epoch + 1}; lower "
                "--learning-rate or --clip-norm (the state after epoch "
                f"{progress.epoch} is kept in {directory})"
            )
        if strategy.name == "multi-worker":
            if config.output_dir:  # each worker's final weights, to check they agree
                folder = Path(config.output_dir) / "workers"
                folder.mkdir(parents=True, exist_ok=True)
                model.save_weights(folder / f"worker-{strategy.worker_index}.weights.h5")
            if not strategy.is_chief:
                return RunResult(
                    "",
                    "",
                    tracker.uri,
                    {},
                    [
                        f"worker {strategy.worker_index} of {strategy.workers} finished; "
                        "the chief evaluates and logs the run"
                    ],
                    {},
                )
            model = _local_copy(task, data, arch, config, model, loss, metric_arguments)
        if snapshot.best is not None:  # the epoch with the best validation loss
            for variable, value in zip(model.variables, snapshot.best):
                variable.assign(value)
        if config.output_dir:
            (work / "checkpoints").mkdir(exist_ok=True)
            model.save_weights(work / "checkpoints" / "best.weights.h5")
        best_epoch = progress.best_epoch or 1
        losses = history.get("loss", [])

        resets = [callbacks_module.reset_state_callback(keras)] if stateful else []
        evaluated = model.evaluate(test, verbose=0, return_dict=True, callbacks=resets)
        report = task.report(model, data, config)
        final = {f"test_{k}": float(v) for k, v in evaluated.items()}
        final.update({f"test_{k}": float(v) for k, v in report.metrics.items()})
        final["best_epoch"] = float(best_epoch)
        final["epochs_trained"] = float(len(losses))
        tracker.log_metrics(run_id, final)

        from seqapps import plots

        tracker.log_figure(
            run_id,
            plots.learning_curves(history, f"{config.task} / {arch.name}"),
            "figures/learning_curves.png",
        )
        for name, figure in report.figures.items():
            tracker.log_figure(run_id, figure, f"figures/{name}.png")
        for name, text in report.texts.items():
            tracker.log_text(run_id, text, name)
        for name, content in report.files.items():
            tracker.log_bytes(run_id, content, name)

        exported = task.export_model(model, data)
        metadata = {
            "task": config.task,
            "arch": arch.name,
            "seqapps_version": seqapps.__version__,
            "run_id": run_id,
            **task.export_metadata(data),
        }
        model_dir = models.save_folder(exported, metadata, work / "model")
        from seqapps import exporting, mlflow_model

        exporting.save_examples(model, test, model_dir)

        mlflow_model.log(
            tracker,
            run_id,
            model_dir,
            task,
            task.example_table(data, metadata),
            registered_name=config.register_model,
        )
        tracker.finish(run_id)
    if not config.output_dir:  # finished and logged: nothing left to resume
        shutil.rmtree(directory, ignore_errors=True)

    shown = task.headline_metrics or [k for k in final if k.startswith("test_")]
    headline = ", ".join(f"{k} {final[k]:.4f}" for k in shown if k in final)
    summary = [
        f"run {run_id} FINISHED (best epoch {best_epoch} of {len(losses)})",
        f"test: {headline}",
        *report.summary,
        f"view: {ui_command(tracker.uri)}",
    ]
    logged = {key: str(value) for key, value in params.items()}
    return RunResult(run_id, experiment_id, tracker.uri, final, summary, logged)
