"""Temporal convolution baseline: stacked Conv1D, causal when it must not read ahead."""

from __future__ import annotations

import keras

from seqapps.archs import GENERATION, EncoderSettings, returns_sequences
from seqapps.layers.masking import ZeroPadding
from seqapps.layers.regularization import kernel_regularizer


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
