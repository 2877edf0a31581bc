"""The piano-roll loss: Bernoulli negative log-likelihood summed over the 88 keys."""

from __future__ import annotations

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="seqapps_music")
class SummedBinaryCrossentropy(keras.losses.Loss):
    """Binary cross-entropy summed (not averaged) over the last axis: NLL per time step.

    Keras' BinaryCrossentropy averages over the keys, which divides the published measure
    by 88; summing keeps the loss in the units the chorale literature reports.
    """

    def __init__(self, reduction="sum_over_batch_size", name="summed_binary_crossentropy"):
        super().__init__(reduction=reduction, name=name)

    def call(self, y_true, y_pred):
        y_pred = ops.clip(y_pred, 1e-7, 1 - 1e-7)
        y_true = ops.cast(y_true, y_pred.dtype)
        nll = -(y_true * ops.log(y_pred) + (1 - y_true) * ops.log(1 - y_pred))
        return ops.sum(nll, axis=-1)
