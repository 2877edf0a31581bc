"""The callbacks of every run: progress and resumable state, MLflow logging, state resets.

Imported once TensorFlow is loaded (it imports Keras at module level).
"""

from __future__ import annotations

from typing import Any

import keras

from seqapps import runstate
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


class RunProgress(keras.callbacks.Callback):
    """History, best weights, early stopping and the resumable state, in one place.

    Stops when an epoch's loss is NaN or infinite (checked per epoch, not per batch like
    Keras' TerminateOnNaN: reading the loss after every batch forces a device sync that
    costs several percent on small batches); the last good state is kept. Keeps the best
    weights in memory: writing a file each time the loss improved cost short epochs a
    noticeable share of their time (docs/benchmarks.md).
    """

    def __init__(self, snapshot: runstate.Snapshot, patience: int):
        super().__init__()
        self.snapshot, self.patience = snapshot, patience
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
        self._track_best(epoch, logs.get("val_loss", loss))
        self.snapshot.capture(self.model)
        if self.patience and progress.wait >= self.patience:
            self.model.stop_training = True
        if self.snapshot.due():
            self.snapshot.save()

    def _track_best(self, epoch: int, monitored) -> None:
        progress = self.snapshot.progress
        if monitored is not None and finite(float(monitored)) and monitored < progress.best_loss:
            progress.best_loss, progress.best_epoch, progress.wait = float(monitored), epoch + 1, 0
            self.snapshot.capture_best(self.model)
        else:
            progress.wait += 1
