"""model.fit's contract, run by our own loop: for MultiWorkerMirroredStrategy.

Keras 3 ``model.fit`` fails under MultiWorkerMirroredStrategy (keras issue 20585: a
PerReplica value reaches code that expects a tensor). The per-replica work is still Keras'
own ``train_step``/``test_step``; only the outer loop is ours: ``strategy.run`` on each
batch, a mean across replicas, and the same callbacks and logs as ``fit``, so metrics,
early stopping, state saving and MLflow logging behave identically.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Plan:
    """How long to train: steps per epoch, the epochs [initial_epoch, epochs), verbosity."""

    steps_per_epoch: int
    initial_epoch: int
    epochs: int
    verbose: int


def fit(model, strategy, batches: Any, plan: Plan, callbacks: list, echo: Callable) -> None:
    """Train like ``model.fit(batches.train, validation_data=batches.validation, ...)``."""
    import keras

    train_step, test_step = _steps(model, strategy)
    train_batches = iter(_distributed(strategy, batches.train))
    validation_batches = _distributed(strategy, batches.validation)
    hooks = keras.callbacks.CallbackList(callbacks, model=model)
    model.stop_training = False
    hooks.on_train_begin()
    for epoch in range(plan.initial_epoch, plan.epochs):
        model.reset_metrics()
        hooks.on_epoch_begin(epoch)
        for _ in range(plan.steps_per_epoch):
            results = train_step(train_batches)
        logs = {key: float(value) for key, value in results.items()}
        model.reset_metrics()
        checked = None
        for batch in validation_batches:
            checked = test_step(batch)
        logs.update({f"val_{key}": float(value) for key, value in (checked or {}).items()})
        if plan.verbose:
            shown = " - ".join(f"{key}: {value:.4f}" for key, value in logs.items())
            echo(f"Epoch {epoch + 1}/{plan.epochs} - {shown}")
        hooks.on_epoch_end(epoch, logs)  # identical logs on every worker: same decisions
        if model.stop_training:
            break
    hooks.on_train_end()


def _distributed(strategy, dataset):
    import tensorflow as tf

    options = tf.data.Options()
    # Our datasets come from memory, not files: shard by element, never by file.
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    return strategy.experimental_distribute_dataset(dataset.with_options(options))


def _steps(model, strategy):
    """One training step on the next batch, one evaluation step: means over replicas."""
    import tensorflow as tf

    def mean(outputs):
        return {
            k: strategy.reduce(tf.distribute.ReduceOp.MEAN, v, axis=None)
            for k, v in outputs.items()
        }

    @tf.function
    def train_step(iterator):
        return mean(strategy.run(model.train_step, args=(next(iterator),)))

    @tf.function
    def test_step(batch):
        return mean(strategy.run(model.test_step, args=(batch,)))

    return train_step, test_step
