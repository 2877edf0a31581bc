"""The last steps of a run: evaluate, report, export, log, summarize.

Imported once TensorFlow is loaded.
"""

from __future__ import annotations

from typing import Any

import seqapps
from seqapps import callbacks, goals, models
from seqapps.run_context import RunContext, RunResult
from seqapps.tracking import ui_command


def evaluate(ctx: RunContext, test) -> dict[str, float]:
    """Step 10: Keras' metrics on the test split, as ``test_*`` metrics."""
    resets = [callbacks.ResetRecurrentState()] if ctx.stateful else []
    evaluated = ctx.model.evaluate(test, verbose=0, return_dict=True, callbacks=resets)
    return {f"test_{key}": float(value) for key, value in evaluated.items()}


def report(ctx: RunContext, final: dict[str, float]):
    """Step 11: the task's own metrics, figures, texts and files, logged with the run."""
    from seqapps import plots

    found = ctx.task.report(ctx.model, ctx.data, ctx.config)
    progress = ctx.snapshot.progress
    final.update({f"test_{key}": float(value) for key, value in found.metrics.items()})
    final["best_epoch"] = float(progress.best_epoch or 1)
    final["epochs_trained"] = float(len(progress.history.get("loss", [])))
    tracker, run_id = ctx.tracker, ctx.run_id
    tracker.log_metrics(run_id, final)
    headline = goals.headline(ctx.task.headline_metrics, final)
    direction = goals.goal(headline, ctx.task.metric_goals)
    tracker.set_tags(run_id, {goals.HEADLINE_TAG: headline, goals.GOAL_TAG: direction})
    title = f"{ctx.config.task} / {ctx.arch.name}"
    curves = plots.learning_curves(progress.history, title)
    tracker.log_figure(run_id, curves, "figures/learning_curves.png")
    for name, figure in found.figures.items():
        tracker.log_figure(run_id, figure, f"figures/{name}.png")
    for name, text in found.texts.items():
        tracker.log_text(run_id, text, name)
    for name, content in found.files.items():
        tracker.log_bytes(run_id, content, name)
    return found


def export(ctx: RunContext, test) -> None:
    """Step 12: the exported model folder, and the MLflow Model logged from it."""
    from seqapps import exporting, mlflow_model

    task = ctx.task
    metadata = {
        "task": ctx.config.task,
        "arch": ctx.arch.name,
        "seqapps_version": seqapps.__version__,
        "run_id": ctx.run_id,
        **task.export_metadata(ctx.data),
    }
    exported = task.export_model(ctx.model, ctx.data)
    folder = models.save_folder(exported, metadata, ctx.work / "model")
    exporting.save_examples(ctx.model, test, folder)
    example = task.example_table(ctx.data, metadata)
    # The metadata as saved (with the modules of its custom objects), and the model in memory.
    loaded = models.LoadedModel(exported, models.read_metadata(folder), type(task))
    registered = ctx.config.register_model
    mlflow_model.log(ctx.tracker, ctx.run_id, folder, loaded, example, registered_name=registered)


def summary(ctx: RunContext, final: dict[str, float], found: Any) -> RunResult:
    """Step 13: the lines the CLI shows and what a pipeline records of the run."""
    progress = ctx.snapshot.progress
    shown = ctx.task.headline_metrics or [k for k in final if k.startswith("test_")]
    headline = ", ".join(f"{k} {final[k]:.4f}" for k in shown if k in final)
    epochs = len(progress.history.get("loss", []))
    monitor = ctx.config.monitor
    direction = goals.goal(monitor, ctx.task.metric_goals)
    hint = stopped_by_the_cap(progress, ctx.config.epochs, monitor, direction)
    lines = [
        f"run {ctx.run_id} FINISHED (best epoch {progress.best_epoch or 1} of {epochs})",
        f"test: {headline}",
        *found.summary,
        *([hint] if hint else []),
        f"view: {ui_command(ctx.tracker.uri)}",
    ]
    params = {key: str(value) for key, value in ctx.params.items()}
    return RunResult(ctx.run_id, ctx.experiment_id, ctx.tracker.uri, final, lines, params)


#: What a tuning trial keeps with its run for the study's final test evaluation.
TRIAL_FOLDER = "trial"
TRIAL_WEIGHTS = "best_weights.npz"
TRIAL_PROGRESS = "progress.json"


def end_trial(ctx: RunContext) -> RunResult:
    """A tuning trial's last step, instead of evaluate..summary: the best epoch's validation
    value, the learning curves, and (unless pruned) the best weights kept with the run. The
    test split is never read."""
    import dataclasses
    import json

    import numpy as np

    from seqapps import plots

    progress, link = ctx.snapshot.progress, ctx.trial
    tracker, run_id = ctx.tracker, ctx.run_id
    monitor = ctx.config.monitor
    direction = goals.goal(monitor, ctx.task.metric_goals)
    value = progress.best_loss if direction == "min" else -progress.best_loss
    final = {
        "best_epoch": float(progress.best_epoch or 1),
        "epochs_trained": float(len(progress.history.get("loss", []))),
    }
    if progress.best_epoch:
        final[f"best_{monitor}"] = float(value)
    tracker.log_metrics(run_id, final)
    title = f"{ctx.config.task} / {ctx.arch.name} (trial {link.number})"
    curves = plots.learning_curves(progress.history, title)
    tracker.log_figure(run_id, curves, "figures/learning_curves.png")
    state = "PRUNED" if link.pruned_after else "COMPLETE"
    tags = {"seqapps.trial_state": state}
    if link.pruned_after:
        tags["seqapps.stop_reason"] = link.prune_reason
    else:
        folder = ctx.work / TRIAL_FOLDER
        folder.mkdir(exist_ok=True)
        # The variables alone: a fresh model has no optimizer slots to match a Keras file's.
        arrays = {f"w{i}": value for i, value in enumerate(ctx.model.get_weights())}
        np.savez(folder / TRIAL_WEIGHTS, **arrays)
        (folder / TRIAL_PROGRESS).write_text(json.dumps(dataclasses.asdict(progress)))
        tracker.log_directory(run_id, folder, TRIAL_FOLDER)
    tracker.set_tags(run_id, tags)
    tracker.finish(run_id)
    params = {key: str(v) for key, v in ctx.params.items()}
    metrics = {**final, monitor: float(value)} if progress.best_epoch else final
    return RunResult(run_id, ctx.experiment_id, tracker.uri, metrics, [], params)


def load_trial_weights(model, path) -> None:
    """Put a trial's kept weights (``end_trial``) into a freshly built model."""
    import numpy as np

    with np.load(path) as stored:
        model.set_weights([stored[f"w{i}"] for i in range(len(stored.files))])


def download_trial(ctx: RunContext):
    """The weights and history a trial kept (``end_trial``), in the run's work folder."""
    from pathlib import Path

    local = ctx.tracker.client.download_artifacts(ctx.run_id, TRIAL_FOLDER, str(ctx.work))
    return Path(local)


def stopped_by_the_cap(progress, epochs: int, monitor: str, direction: str) -> str:
    """A hint when training ended at --epochs while still improving: the best epoch was the
    last one and it beat the one before by at least 1% of the run's range of that metric (a
    loss creeping from 3.5e-5 to 3.0e-5 has converged). Empty otherwise."""
    key = monitor.removeprefix("train_")
    values = progress.history.get(key) or progress.history.get("loss", [])
    trained = len(progress.history.get("loss", []))
    if trained < 2 or trained < epochs or progress.best_epoch != trained or len(values) < 2:
        return ""
    gain = values[-2] - values[-1] if direction == "min" else values[-1] - values[-2]
    if gain <= 0.01 * (max(values) - min(values)):
        return ""
    return (
        f"note: the best epoch was the last of --epochs {epochs} and {monitor} was still "
        f"improving ({values[-2]:.4g} -> {values[-1]:.4g}); more epochs may help"
    )


def worker_result(ctx: RunContext) -> RunResult:
    """What a multi-worker job's non-chief worker reports: the chief logs the run."""
    strategy = ctx.strategy
    line = (
        f"worker {strategy.worker_index} of {strategy.workers} finished; "
        "the chief evaluates and logs the run"
    )
    return RunResult("", "", ctx.tracker.uri, {}, [line], {})
