"""The callbacks of every run: progress and resumable state, MLflow logging, state resets."""

from __future__ import annotations

from seqapps import runstate
from seqapps.config import RunConfig
from seqapps.tracking import Tracker


def epoch_metric_name(key: str) -> str:
    """MLflow name of a Keras log key: train_loss, val_loss, train_accuracy, ..."""
    return key if key.startswith("val_") else f"train_{key}"


def stateful_layers(model):
    """Every stateful recurrent layer in ``model``, nested models included."""
    for layer in getattr(model, "layers", []):
        if getattr(layer, "stateful", False) and hasattr(layer, "reset_state"):
            yield layer
        yield from stateful_layers(layer)


def reset_state_callback(keras):
    """A callback that zeroes recurrent state at each epoch and evaluation (truncated BPTT)."""

    class ResetRecurrentState(keras.callbacks.Callback):
        """Start every epoch, and every evaluation, from a zero recurrent state."""

        def _reset(self):
            for layer in stateful_layers(self.model):
                layer.reset_state()

        def on_epoch_begin(self, epoch, logs=None):
            self._reset()

        def on_test_begin(self, logs=None):
            self._reset()

        def on_predict_begin(self, logs=None):
            self._reset()

    return ResetRecurrentState()


def run_callbacks(
    tracker: Tracker,
    run_id: str,
    config: RunConfig,
    stateful: bool,
    snapshot: runstate.Snapshot,
    logged_steps: set[int],
):
    """The callbacks of a run: progress and state (first), then per-epoch MLflow logging."""
    import keras

    progress = snapshot.progress

    class EpochMetricsToMlflow(keras.callbacks.Callback):
        """Log each epoch's train and validation metrics with step = epoch (1-based).

        After a resume, epochs that reached the store before the crash are replayed but
        not logged again, so no step is recorded twice.
        """

        def on_epoch_end(self, epoch, logs=None):
            if epoch + 1 in logged_steps or not finite(float((logs or {}).get("loss", 0.0))):
                return
            metrics = {epoch_metric_name(k): float(v) for k, v in (logs or {}).items()}
            # Buffered, not awaited: the next epoch starts while the store writes.
            tracker.log_metrics(run_id, metrics, step=epoch + 1, wait=False)

    class RunProgress(keras.callbacks.Callback):
        """History, best weights, early stopping and the resumable state, in one place.

        Stops when an epoch's loss is NaN or infinite (checked per epoch, not per batch
        like Keras' TerminateOnNaN: reading the loss after every batch forces a device sync
        that costs several percent on small batches); the last good state is kept.
        Keeps the best weights in memory: writing a file each time the loss improved cost
        short epochs a noticeable share of their time (docs/benchmarks.md).
        """

        non_finite = False

        def on_epoch_end(self, epoch, logs=None):
            logs = logs or {}
            loss = logs.get("loss")
            if loss is not None and not finite(float(loss)):
                self.non_finite = True
                self.model.stop_training = True
                return
            for key, value in logs.items():
                progress.history.setdefault(key, []).append(float(value))
            progress.epoch = epoch + 1
            monitored = logs.get("val_loss", loss)
            if (
                monitored is not None
                and finite(float(monitored))
                and monitored < progress.best_loss
            ):
                progress.best_loss, progress.best_epoch, progress.wait = (
                    float(monitored),
                    epoch + 1,
                    0,
                )
                snapshot.capture_best(self.model)
            else:
                progress.wait += 1
            snapshot.capture(self.model)
            if config.patience and progress.wait >= config.patience:
                self.model.stop_training = True
            if snapshot.due():
                snapshot.save()

    callbacks = [RunProgress(), EpochMetricsToMlflow()]
    if stateful:
        callbacks.insert(0, reset_state_callback(keras))
    return callbacks


def finite(value: float) -> bool:
    """Neither NaN nor infinite."""
    return value == value and abs(value) != float("inf")
