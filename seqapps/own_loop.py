"""model.fit's contract, run by our own loop: for strategies where Keras' fit fails.

Keras 3 ``model.fit`` fails under MultiWorkerMirroredStrategy (keras issue 20585: a
PerReplica value reaches code that expects a tensor). The per-replica work is still Keras'
own ``train_step``/``test_step``; only the outer loop is ours: ``strategy.run`` on each
batch, a mean across replicas, and the same callbacks and logs as ``fit``, so metrics,
early stopping, state saving and MLflow logging behave identically.
"""

from __future__ import annotations

from collections.abc import Callable


def fit(
    model,
    strategy,
    train,
    validation,
    steps_per_epoch: int,
    initial_epoch: int,
    epochs: int,
    callbacks: list,
    echo: Callable[[str], None],
    verbose: int,
) -> None:
    """Train like ``model.fit(train, validation_data=validation, ...)`` under ``strategy``."""
    import keras
    import tensorflow as tf

    options = tf.data.Options()
    # Our datasets come from memory, not files: shard by element, never by file.
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    train_batches = iter(strategy.experimental_distribute_dataset(train.with_options(options)))
    validation_batches = strategy.experimental_distribute_dataset(validation.with_options(options))

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

    hooks = keras.callbacks.CallbackList(callbacks, model=model)
    model.stop_training = False
    hooks.on_train_begin()
    for epoch in range(initial_epoch, epochs):
        model.reset_metrics()
        hooks.on_epoch_begin(epoch)
        for _ in range(steps_per_epoch):
            results = train_step(train_batches)
        logs = {key: float(value) for key, value in results.items()}
        model.reset_metrics()
        checked = None
        for batch in validation_batches:
            checked = test_step(batch)
        logs.update({f"val_{key}": float(value) for key, value in (checked or {}).items()})
        if verbose:
            shown = " - ".join(f"{key}: {value:.4f}" for key, value in logs.items())
            echo(f"Epoch {epoch + 1}/{epochs} - {shown}")
        hooks.on_epoch_end(epoch, logs)  # identical logs on every worker: same decisions
        if model.stop_training:
            break
    hooks.on_train_end()
