"""The training steps of a run: input pipeline, build and compile, fit, best weights.

Imported once TensorFlow is loaded.
"""

from __future__ import annotations

import contextlib
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import keras

from seqapps import callbacks, goals, input_pipeline, runstate
from seqapps.exceptions import RunInterrupted, StoreLostError, TrainingError
from seqapps.run_context import RunContext
from seqapps.run_setup import seed_everything


@dataclass
class Batches:
    """The batched splits a run trains and evaluates on."""

    train: Any
    validation: Any
    test: Any
    steps_per_epoch: int


def build_input_pipeline(ctx: RunContext) -> Batches:
    """Step 6: cached, per-epoch shuffled and augmented batches (input_pipeline)."""
    # Seeded here, after the run is open: MLflow names an unnamed run from Python's global
    # random, so seeding earlier gave every unnamed run the same name. Before the pipeline
    # exists: tf.data shuffles combine their seed with the global one.
    seed_everything(ctx.config.seed)
    first_epoch = 0 if ctx.resume is None else ctx.resume[0].epoch
    train, validation, test = input_pipeline.build(
        ctx.task,
        ctx.data,
        ctx.config,
        ctx.global_batch,
        ctx.stateful,
        epochs=(first_epoch, ctx.config.epochs),
    )
    steps = input_pipeline.steps_per_epoch(ctx.task, ctx.data, ctx.global_batch, ctx.stateful)
    return Batches(train, validation, test, steps)


def build_and_compile(ctx: RunContext, steps_per_epoch: int) -> None:
    """Step 7: the task's model under the strategy's scope, compiled with Adam."""
    config, data = ctx.config, ctx.data
    # Seed again right before the weights are drawn: MLflow consumes Python's global random
    # when it invents a run name, which would otherwise make named and unnamed runs differ.
    seed_everything(config.seed)
    with ctx.strategy.strategy.scope():
        ctx.model = ctx.task.build_model(data.spec, ctx.arch, config)
        loss, metrics = ctx.task.loss_and_metrics(data.spec)
        optimizer = keras.optimizers.Adam(
            learning_rate=learning_rate(config, steps_per_epoch),
            global_clipnorm=config.clip_norm or None,
            clipvalue=config.clip_value or None,
        )
        # (inputs, targets, weights): padding has weight 0, in the metrics as in the loss.
        weighted = len(data.train.element_spec) == 3
        ctx.metric_arguments = {"weighted_metrics" if weighted else "metrics": metrics}
        ctx.model.compile(
            optimizer=optimizer,
            loss=loss,
            jit_compile=config.jit_compile,
            steps_per_execution=config.steps_per_execution,
            **ctx.metric_arguments,
        )
    count = ctx.model.count_params()
    ctx.params["model.parameters"] = count
    if ctx.resume is None:
        ctx.tracker.log_params(ctx.run_id, {"model.parameters": count})
    ctx.echo(f"model: {ctx.arch.name}, {count:,} parameters")


#: The cosine schedule ends at this share of --learning-rate, not at 0: the last epochs
#: still learn, and early stopping may end a run before the rate has fallen.
COSINE_FLOOR = 0.05


def learning_rate(config, steps_per_epoch: int):
    """Adam's learning rate: a number, or a schedule of the optimizer's step count (which
    the run state saves, so a resumed run continues the schedule exactly)."""
    if config.lr_schedule == "constant":
        return config.learning_rate
    return keras.optimizers.schedules.CosineDecay(
        config.learning_rate, decay_steps=config.epochs * steps_per_epoch, alpha=COSINE_FLOOR
    )


def fit(ctx: RunContext, batches: Batches) -> None:
    """Step 8: train from the first (or the resumed) epoch; state saved on every stop."""
    is_chief = ctx.strategy.is_chief
    snapshot = runstate.Snapshot(
        ctx.state_directory if is_chief else None,  # only the chief keeps the run's state
        ctx.config.checkpoint_interval,
        runstate.Progress(fingerprint=ctx.data.fingerprint),
    )
    ctx.snapshot, logged_steps = snapshot, set()
    if ctx.strategy.name != "multi-worker":  # its own loop traces its own step
        with ctx.strategy.strategy.scope():
            build_training_state(ctx.model, batches.train.element_spec)
    if ctx.resume is not None:
        snapshot.progress, arrays = ctx.resume
        runstate.restore(ctx.model, arrays)
        snapshot.best = arrays["best"] or None
        logged_steps = _reconcile(ctx)
        done, total = snapshot.progress.epoch, ctx.config.epochs
        if done >= total:
            ctx.echo(f"all {total} epochs were trained before the stop; finishing the run")
        else:
            ctx.echo(f"resuming at epoch {done + 1} of {total}")
    monitor = ctx.config.monitor
    direction = goals.goal(monitor, ctx.task.metric_goals)
    progress = callbacks.RunProgress(snapshot, ctx.config.patience, monitor, direction)
    hooks = [
        callbacks.ValidationMetrics(ctx.task),
        progress,
        callbacks.EpochMetricsToMlflow(ctx.tracker, ctx.run_id, logged_steps),
    ]
    if ctx.stateful:
        hooks.insert(0, callbacks.ResetRecurrentState())
    if ctx.epoch_echo is not None:
        hooks.append(callbacks.EpochLine(ctx.epoch_echo, ctx.config.epochs, monitor))
    if ctx.trial is not None:  # last: it reads what the others added to the logs
        hooks.append(callbacks.ReportEachEpoch(ctx.trial.report_epoch))
    try:
        _fit_loop(ctx, batches, hooks)
    except KeyboardInterrupt:
        with contextlib.suppress(Exception):  # the epochs' metrics first: they are the run
            ctx.tracker.flush()
        snapshot.save()
        if ctx.trial is not None:  # a study continues by running its command again
            raise RunInterrupted(f"interrupted; trial run {ctx.run_id} is KILLED") from None
        raise RunInterrupted(
            f"interrupted; run {ctx.run_id} is KILLED with its state saved after epoch "
            f"{snapshot.progress.epoch}. Resume with: seqapps run {ctx.config.task} "
            f"--resume {ctx.run_id}"
        ) from None
    _check_store(ctx)
    if progress.non_finite:
        snapshot.save()  # the last good epoch, for a resume with other settings
        epoch = snapshot.progress.epoch
        raise TrainingError(
            f"loss became NaN or infinite in epoch {epoch + 1}; lower --learning-rate or "
            f"--clip-norm (the state after epoch {epoch} is kept in {ctx.state_directory})"
        )


def build_training_state(model, element_spec) -> None:
    """Create the optimizer slots and the loss and metric trackers before ``fit`` traces.

    Without a distribution strategy Keras creates them inside the first trace of its train
    step, and TensorFlow then traces the whole step a second time (a tiny run's largest
    cost: 1.5-2 s of 4 s for a bidirectional LSTM). Keras does this build itself under a
    strategy; here it is done for every strategy, from the batches' shapes alone (no batch
    is drawn, so the data order is unchanged). Where Keras cannot (a structure it does not
    know), it builds in the first trace, as it would have anyway.
    """
    build = getattr(model, "_symbolic_build", None)  # Keras 3's own build before fit
    if build is None:
        return
    with contextlib.suppress(Exception):
        build(data_batch=element_spec)


def _reconcile(ctx: RunContext) -> set[int]:
    from seqapps import resuming

    return resuming.reconcile_epoch_metrics(ctx.tracker, ctx.run_id, ctx.snapshot.progress)


def _fit_loop(ctx: RunContext, batches: Batches, hooks: list) -> None:
    """Keras' fit, or our loop where Keras' fit fails (multi-worker)."""
    first = ctx.snapshot.progress.epoch
    if ctx.strategy.name == "multi-worker":
        from seqapps import multi_worker_loop

        plan = multi_worker_loop.Plan(
            batches.steps_per_epoch, first, ctx.config.epochs, ctx.config.verbose
        )
        multi_worker_loop.fit(ctx.model, ctx.strategy.strategy, batches, plan, hooks, ctx.echo)
        return
    ctx.model.fit(
        batches.train,
        validation_data=batches.validation,
        initial_epoch=first,
        epochs=ctx.config.epochs,
        steps_per_epoch=batches.steps_per_epoch,
        callbacks=hooks,
        verbose=keras_verbosity(ctx.config.verbose),
        shuffle=False,  # the input pipeline already shuffles, with the run's seed
    )


def _check_store(ctx: RunContext) -> None:
    """Wait for the buffered epoch metrics; a store gone for good ends the run resumable."""
    try:
        ctx.tracker.flush()
    except Exception as error:  # the store stayed away longer than MLflow's retries
        ctx.snapshot.save()
        raise StoreLostError(
            f"lost the tracking store {ctx.tracker.uri} ({type(error).__name__}); the trained "
            f"state is saved in {ctx.state_directory}. Once the store is back: seqapps run "
            f"{ctx.config.task} --resume {ctx.run_id}"
        ) from None


def keras_verbosity(verbose: int) -> int:
    """Keras' verbose: an animated bar in a log file is noise, so one line per epoch there."""
    if verbose == 1 and not sys.stdout.isatty():
        return 2
    return verbose


def keep_worker_weights(ctx: RunContext) -> None:
    """Multi-worker: each worker's final weights in --output-dir/workers, to check they agree."""
    if ctx.config.output_dir:
        folder = Path(ctx.config.output_dir) / "workers"
        folder.mkdir(parents=True, exist_ok=True)
        ctx.model.save_weights(folder / f"worker-{ctx.strategy.worker_index}.weights.h5")


def restore_best(ctx: RunContext) -> None:
    """Step 9: the weights of the epoch with the best validation loss, on a model the chief
    can use alone (a multi-worker model would wait for the other workers)."""
    if ctx.strategy.name == "multi-worker":
        ctx.model = _local_copy(ctx)
    if ctx.snapshot.best is not None:
        for variable, value in zip(ctx.model.variables, ctx.snapshot.best):
            variable.assign(value)
    if ctx.config.output_dir:
        (ctx.work / "checkpoints").mkdir(exist_ok=True)
        ctx.model.save_weights(ctx.work / "checkpoints" / "best.weights.h5")


def _local_copy(ctx: RunContext):
    """The trained model rebuilt outside the multi-worker strategy."""
    local = ctx.task.build_model(ctx.data.spec, ctx.arch, ctx.config)
    loss, metrics = ctx.task.loss_and_metrics(ctx.data.spec)  # fresh, not distributed
    key = next(iter(ctx.metric_arguments))
    local.compile(loss=loss, **{key: metrics})
    for variable, value in zip(local.variables, ctx.model.variables):
        variable.assign(value.numpy())
    return local
