"""Recurrent encoders: SimpleRNN, LSTM, GRU, their bidirectional forms, stacked N deep.

Defaults keep LSTM and GRU eligible for the fused cuDNN kernel on GPU: tanh/sigmoid
activations, no recurrent dropout, no unrolling, biases on, GRU ``reset_after=True``, and
right-padded masks (the task's padding puts zeros at the end of each sequence).
"""

from __future__ import annotations

import warnings

import keras

from seqapps.archs import EncoderSettings, returns_sequences
from seqapps.layers.regularization import kernel_regularizer

_warned_recurrent_dropout = False


def _warn_recurrent_dropout(settings: EncoderSettings) -> None:
    global _warned_recurrent_dropout
    if settings.recurrent_dropout and not _warned_recurrent_dropout:
        _warned_recurrent_dropout = True
        warnings.warn(
            "recurrent dropout > 0 disables the fused cuDNN kernel on GPU (slower training)",
            stacklevel=3,
        )


def _recurrent_layer(cell: str, settings: EncoderSettings, return_sequences: bool, name: str):
    common = dict(
        units=settings.units,
        return_sequences=return_sequences,
        recurrent_dropout=settings.recurrent_dropout,
        stateful=settings.stateful,
        kernel_regularizer=kernel_regularizer(settings),
        recurrent_regularizer=kernel_regularizer(settings),
        name=name,
    )
    if cell == "lstm":
        return keras.layers.LSTM(activation="tanh", recurrent_activation="sigmoid", **common)
    if cell == "gru":
        return keras.layers.GRU(
            activation="tanh", recurrent_activation="sigmoid", reset_after=True, **common
        )
    return keras.layers.SimpleRNN(activation="tanh", **common)


def stack(
    inputs, settings: EncoderSettings, *, cell: str, bidirectional: bool, return_sequences: bool
):
    """Apply ``settings.layers`` recurrent layers of ``cell``, with dropout between them."""
    if bidirectional and settings.stateful:
        raise ValueError("bidirectional layers cannot carry state across chunks (stateful)")
    _warn_recurrent_dropout(settings)
    x = inputs
    prefix = ("bi" if bidirectional else "") + cell
    for index in range(settings.layers):
        last = index == settings.layers - 1
        layer = _recurrent_layer(
            cell, settings, return_sequences or not last, name=f"{prefix}_{index + 1}"
        )
        if bidirectional:
            layer = keras.layers.Bidirectional(
                layer, merge_mode="concat", name=f"{prefix}_{index + 1}_bi"
            )
        x = layer(x)
        if settings.dropout:
            x = keras.layers.Dropout(settings.dropout, name=f"{prefix}_{index + 1}_dropout")(x)
    return x


def rnn(inputs, settings: EncoderSettings, *, kind: str):
    """SimpleRNN encoder."""
    return stack(
        inputs, settings, cell="rnn", bidirectional=False, return_sequences=returns_sequences(kind)
    )


def lstm(inputs, settings: EncoderSettings, *, kind: str):
    """LSTM encoder."""
    return stack(
        inputs, settings, cell="lstm", bidirectional=False, return_sequences=returns_sequences(kind)
    )


def gru(inputs, settings: EncoderSettings, *, kind: str):
    """GRU encoder."""
    return stack(
        inputs, settings, cell="gru", bidirectional=False, return_sequences=returns_sequences(kind)
    )


def birnn(inputs, settings: EncoderSettings, *, kind: str):
    """Bidirectional SimpleRNN encoder."""
    return stack(
        inputs, settings, cell="rnn", bidirectional=True, return_sequences=returns_sequences(kind)
    )


def bilstm(inputs, settings: EncoderSettings, *, kind: str):
    """Bidirectional LSTM encoder."""
    return stack(
        inputs, settings, cell="lstm", bidirectional=True, return_sequences=returns_sequences(kind)
    )


def bigru(inputs, settings: EncoderSettings, *, kind: str):
    """Bidirectional GRU encoder."""
    return stack(
        inputs, settings, cell="gru", bidirectional=True, return_sequences=returns_sequences(kind)
    )
