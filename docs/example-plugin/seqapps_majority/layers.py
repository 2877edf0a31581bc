"""The example architecture's Keras factory."""

import keras

from seqapps.archs import EncoderSettings, returns_sequences


def lngru(inputs, settings: EncoderSettings, *, kind: str):
    """One GRU layer of --units, then layer normalization."""
    x = keras.layers.GRU(settings.units, return_sequences=returns_sequences(kind), name="lngru")(
        inputs
    )
    return keras.layers.LayerNormalization(name="lngru_norm")(x)
