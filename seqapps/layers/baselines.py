"""Order-blind baselines a recurrent model must beat to earn its cost."""

from __future__ import annotations

import keras

from seqapps.archs import EncoderSettings
from seqapps.layers.regularization import kernel_regularizer


def bag_of_words(inputs, settings: EncoderSettings, *, kind: str):
    """Masked mean over time, then a ReLU layer: sees which tokens occur, not their order."""
    x = keras.layers.GlobalAveragePooling1D(name="bow_mean")(inputs)
    x = keras.layers.Dense(
        settings.units,
        activation="relu",
        kernel_regularizer=kernel_regularizer(settings),
        name="bow_dense",
    )(x)
    if settings.dropout:
        x = keras.layers.Dropout(settings.dropout, name="bow_dropout")(x)
    return x
