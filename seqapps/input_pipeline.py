"""The input pipeline every run trains on: cache, per-epoch seeded shuffle, batch, augment.

Each epoch's order is a function of the run's seed and the epoch number alone, so a resumed
run replays exactly the batches the uninterrupted run would have seen.
"""

from __future__ import annotations

import dataclasses


def with_known_size(dataset, size: int | None):
    """Tell tf.data how many examples a generator-backed split holds.

    Keras then knows the steps per epoch: no "ran out of data" warning after the first
    epoch, and a progress bar with a total.
    """
    import tensorflow as tf

    if size and dataset.cardinality() == tf.data.UNKNOWN_CARDINALITY:
        return dataset.apply(tf.data.experimental.assert_cardinality(size))
    return dataset


def epoch_seed(seed: int, epoch):
    """The shuffle seed of one epoch: data order is a function of (seed, epoch) alone, so a
    resumed run sees exactly the order the uninterrupted run would have seen."""
    import tensorflow as tf

    return tf.cast(epoch, tf.int64) + seed * 1_000_003


def build(
    task,
    data,
    config,
    global_batch: int,
    stateful: bool,
    epochs: tuple[int, int] | None = None,
):
    """Batched train, validation and test datasets.

    With ``epochs=(first, last)`` the training dataset holds epochs first..last-1 one after
    another, each shuffled with its own seed; fit it with ``steps_per_epoch`` (see
    ``steps_per_epoch``). Without, every new iterator reshuffles (one epoch per pass).
    """
    import tensorflow as tf

    data = dataclasses.replace(
        data,
        train=with_known_size(data.train, data.sizes.get("train")),
        validation=with_known_size(data.validation, data.sizes.get("validation")),
        test=with_known_size(data.test, data.sizes.get("test")),
    )
    if stateful:
        # Row j of each batch continues row j of the previous one: keep order and size.
        train = data.train.batch(global_batch, drop_remainder=True)
        if epochs is not None:  # the same order every epoch
            train = train.repeat(epochs[1] - epochs[0])
        train = train.prefetch(tf.data.AUTOTUNE)
        validation = data.validation.batch(global_batch, drop_remainder=True)
        test = data.test.batch(global_batch, drop_remainder=True)
        return train, validation.prefetch(tf.data.AUTOTUNE), test.prefetch(tf.data.AUTOTUNE)
    buffer = min(max(data.sizes.get("train", 1), 1), 50_000)
    cached = data.train.cache()
    if epochs is None:
        train = cached.shuffle(buffer, seed=config.seed, reshuffle_each_iteration=True)
        train = task.augment(task.batch(train, global_batch), config.seed)
    else:

        def one_epoch(epoch):
            seed = epoch_seed(config.seed, epoch)
            order = cached.shuffle(buffer, seed=seed, reshuffle_each_iteration=False)
            return task.augment(task.batch(order, global_batch), seed)

        train = tf.data.Dataset.range(*epochs).flat_map(one_epoch)
    train = train.prefetch(tf.data.AUTOTUNE)
    validation = with_known_batches(task.batch(data.validation.cache(), global_batch))
    test = with_known_batches(task.batch(data.test, global_batch))
    return train, validation.prefetch(tf.data.AUTOTUNE), test.prefetch(tf.data.AUTOTUNE)


def with_known_batches(batched):
    """A batched split whose batch count tf.data cannot tell (a task that buckets by
    length), counted once: Keras then never warns that the input "ran out of data"."""
    import tensorflow as tf

    if batched.cardinality() != tf.data.UNKNOWN_CARDINALITY:
        return batched
    count = batched.reduce(tf.constant(0, tf.int64), lambda n, _: n + 1)
    return batched.apply(tf.data.experimental.assert_cardinality(count))


def steps_per_epoch(task, data, global_batch: int, stateful: bool) -> int:
    """Training batches per epoch (counted once when tf.data cannot tell)."""
    import tensorflow as tf

    if stateful:
        batched = data.train.batch(global_batch, drop_remainder=True)
    else:
        batched = task.batch(data.train, global_batch)
    count = int(batched.cardinality())
    if count < 0:  # unknown: count them
        count = int(batched.reduce(tf.constant(0, tf.int64), lambda n, _: n + 1))
    return count
