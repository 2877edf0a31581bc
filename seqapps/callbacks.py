"""The callbacks of every run: progress and resumable state, MLflow logging, state resets.

Imported once TensorFlow is loaded (it imports Keras at module level).
"""

from __future__ import annotations

import time
from typing import Any

import keras

from seqapps import runstate
from seqapps.exceptions import ConfigError
from seqapps.tracking import epoch_metric_name


def finite(value: float) -> bool:
    """Neither NaN nor infinite."""
    return value == value and abs(value) != float("inf")


def stateful_layers(model):
    """Every stateful recurrent layer in ``model``, nested models included."""
    for layer in getattr(model, "layers", []):
        if getattr(layer, "stateful", False) and hasattr(layer, "reset_state"):
            yield layer
        yield from stateful_layers(layer)


class ResetRecurrentState(keras.callbacks.Callback):
    """Start every epoch, and every evaluation, from a zero recurrent state (truncated BPTT)."""

    def _reset(self):
        for layer in stateful_layers(self.model):
            layer.reset_state()

    def on_epoch_begin(self, epoch, logs=None):
        self._reset()

    def on_test_begin(self, logs=None):
        self._reset()

    def on_predict_begin(self, logs=None):
        self._reset()


class EpochMetricsToMlflow(keras.callbacks.Callback):
    """Log each epoch's train and validation metrics with step = epoch (1-based).

    After a resume, epochs that reached the store before the crash are replayed but not
    logged again (``logged_steps``), so no step is recorded twice.
    """

    def __init__(self, tracker: Any, run_id: str, logged_steps: set[int]):
        super().__init__()
        self.tracker, self.run_id, self.logged_steps = tracker, run_id, logged_steps

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if epoch + 1 in self.logged_steps or not finite(float(logs.get("loss", 0.0))):
            return
        metrics = {epoch_metric_name(k): float(v) for k, v in logs.items()}
        # Buffered, not awaited: the next epoch starts while the store writes.
        self.tracker.log_metrics(self.run_id, metrics, step=epoch + 1, wait=False)


class ValidationMetrics(keras.callbacks.Callback):
    """Add the task's own validation metrics (``Task.validation_metrics``) to each epoch's
    logs as ``val_<name>``, before the callbacks that log, monitor or stop read them."""

    def __init__(self, task: Any):
        super().__init__()
        self.task = task

    def on_epoch_end(self, epoch, logs=None):
        if logs is None:
            return
        for name, value in self.task.validation_metrics(self.model).items():
            logs[f"val_{name}"] = float(value)


class ReportEachEpoch(keras.callbacks.Callback):
    """Hand each epoch's logs to ``report(epoch, logs)`` (1-based epoch); training stops when
    it returns True (a tuning study's pruner)."""

    def __init__(self, report):
        super().__init__()
        self.report = report

    def on_epoch_end(self, epoch, logs=None):
        if self.report(epoch + 1, dict(logs or {})):
            self.model.stop_training = True


class EpochLine(keras.callbacks.Callback):
    """One short line per epoch for ``echo``: the epoch, the monitored metric, the time."""

    def __init__(self, echo, epochs: int, monitor: str):
        super().__init__()
        self.echo, self.epochs = echo, epochs
        self.key = monitor.removeprefix("train_")
        self.monitor = monitor
        self.started = time.monotonic()

    def on_epoch_end(self, epoch, logs=None):
        value = (logs or {}).get(self.key)
        shown = f", {self.monitor} {float(value):.4f}" if value is not None else ""
        seconds = time.monotonic() - self.started
        self.echo(f"epoch {epoch + 1}/{self.epochs}{shown} ({seconds:.0f} s)")


class RunProgress(keras.callbacks.Callback):
    """History, best weights, early stopping and the resumable state, in one place.

    Stops when an epoch's loss is NaN or infinite (checked per epoch, not per batch like
    Keras' TerminateOnNaN: reading the loss after every batch forces a device sync that
    costs several percent on small batches); the last good state is kept. Keeps the best
    weights in memory: writing a file each time the loss improved cost short epochs a
    noticeable share of their time (docs/benchmarks.md).
    """

    def __init__(self, snapshot: runstate.Snapshot, patience: int, monitor: str, direction: str):
        super().__init__()
        self.snapshot, self.patience = snapshot, patience
        # Keras names training metrics without a prefix (loss), validation ones with val_.
        self.key = monitor.removeprefix("train_")
        self.monitor, self.direction = monitor, direction
        self.non_finite = False

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        loss = logs.get("loss")
        if loss is not None and not finite(float(loss)):
            self.non_finite = True
            self.model.stop_training = True
            return
        progress = self.snapshot.progress
        for key, value in logs.items():
            progress.history.setdefault(key, []).append(float(value))
        progress.epoch = epoch + 1
        self._track_best(epoch, self._monitored(logs))
        self.snapshot.capture(self.model)
        if self.patience and progress.wait >= self.patience:
            self.model.stop_training = True
        if self.snapshot.due():
            self.snapshot.save()

    def _monitored(self, logs: dict) -> float:
        if self.key in logs:
            return float(logs[self.key])
        if self.key == "val_loss" and "loss" in logs:  # no validation data: watch the loss
            return float(logs["loss"])
        known = ", ".join(sorted(epoch_metric_name(k) for k in logs))
        raise ConfigError(f"--monitor {self.monitor}: the run logs no such metric; it logs {known}")

    def _track_best(self, epoch: int, monitored: float) -> None:
        progress = self.snapshot.progress
        # The state keeps the best as a value to minimize, whatever the direction.
        score = -monitored if self.direction == "max" else monitored
        if finite(monitored) and score < progress.best_loss:
            progress.best_loss, progress.best_epoch, progress.wait = score, epoch + 1, 0
            self.snapshot.capture_best(self.model)
        else:
            progress.wait += 1
