"""Temporal convolution baseline: stacked Conv1D, causal when it must not read ahead."""

from __future__ import annotations

import keras
from keras import ops

from seqapps.archs import GENERATION, EncoderSettings, returns_sequences
from seqapps.layers.regularization import kernel_regularizer


@keras.saving.register_keras_serializable(package="seqapps")
class ZeroPadding(keras.layers.Layer):
    """Zero the padded steps and drop the mask (for layers that cannot read masks)."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def call(self, inputs, mask=None):
        if mask is None:
            return inputs
        return inputs * ops.expand_dims(ops.cast(mask, inputs.dtype), -1)

    def compute_mask(self, inputs, mask=None):
        return None


def conv1d(inputs, settings: EncoderSettings, *, kind: str):
    """--layers Conv1D blocks of --units filters, then global max pooling for one vector."""
    from seqapps.archs import CONV1D

    width = settings.option(CONV1D, "kernel_size")
    padding = "causal" if kind == GENERATION else "same"
    x = ZeroPadding(name="conv_zero_padding")(inputs)
    for index in range(settings.layers):
        x = keras.layers.Conv1D(
            settings.units,
            width,
            padding=padding,
            activation="relu",
            kernel_regularizer=kernel_regularizer(settings),
            name=f"conv_{index + 1}",
        )(x)
        if settings.dropout:
            x = keras.layers.Dropout(settings.dropout, name=f"conv_{index + 1}_dropout")(x)
    if not returns_sequences(kind):
        x = keras.layers.GlobalMaxPooling1D(name="conv_max")(x)
    return x
