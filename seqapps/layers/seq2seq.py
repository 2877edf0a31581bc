"""Encoder-decoder with attention, for outputs whose length differs from the input's.

Training uses teacher forcing: the decoder reads the target shifted right by one (a start
token first) and learns to predict the next target token. At inference ``greedy_decode``
feeds the decoder its own most likely token, step by step, until the end token.
"""

from __future__ import annotations

import keras
import numpy as np

from seqapps.archs import EncoderSettings


def seq2seq(inputs, settings: EncoderSettings, *, kind: str, decoder_inputs=None):
    """LSTM encoder -> LSTM decoder started from its final state -> attention -> (B, T_out, units).

    ``decoder_inputs`` is the embedded, right-shifted target sequence (teacher forcing).
    ``attention`` none leaves the attention out: the classic encoder-decoder (Sutskever et
    al. 2014), the reference attention is measured against.
    """
    from seqapps.archs import SEQ2SEQ_ARCH

    if decoder_inputs is None:
        raise ValueError("seq2seq needs decoder_inputs (the right-shifted target sequence)")
    x = inputs
    for index in range(settings.layers - 1):
        x = keras.layers.LSTM(settings.units, return_sequences=True, name=f"encoder_{index + 1}")(x)
    encoded, state_h, state_c = keras.layers.LSTM(
        settings.units, return_sequences=True, return_state=True, name=f"encoder_{settings.layers}"
    )(x)
    decoded = keras.layers.LSTM(settings.units, return_sequences=True, name="decoder")(
        decoder_inputs, initial_state=[state_h, state_c]
    )
    style = settings.option(SEQ2SEQ_ARCH, "attention")
    if style == "none":  # the decoder sees the source only through the encoder's last state
        output = keras.layers.Dense(settings.units, activation="tanh", name="attentional_state")(
            decoded
        )
    else:
        context = _attention(style)([decoded, encoded])
        combined = keras.layers.Concatenate(name="decoder_with_context")([decoded, context])
        output = keras.layers.Dense(settings.units, activation="tanh", name="attentional_state")(
            combined
        )
    if settings.dropout:
        output = keras.layers.Dropout(settings.dropout, name="decoder_dropout")(output)
    return output


def _attention(style: str):
    if style == "luong":
        return keras.layers.Attention(score_mode="dot", name="luong_attention")
    if style == "bahdanau":
        return keras.layers.AdditiveAttention(name="bahdanau_attention")
    raise ValueError(f"attention must be luong, bahdanau or none. Received: {style!r}")


def greedy_decode(model, encoder_tokens, start_id: int, end_id: int, max_length: int):
    """Decode a batch greedily with a teacher-forced model([encoder_tokens, decoder_tokens]).

    Returns a (batch, <= max_length) int array; steps after an end token are 0 (padding).
    """
    encoder_tokens = np.asarray(encoder_tokens)
    batch = encoder_tokens.shape[0]
    decoded = np.full((batch, 1), start_id, dtype="int32")
    finished = np.zeros(batch, dtype=bool)
    for _ in range(max_length):
        probabilities = model.predict([encoder_tokens, decoded], verbose=0)
        next_token = probabilities[:, -1, :].argmax(axis=-1).astype("int32")
        next_token[finished] = 0
        decoded = np.concatenate([decoded, next_token[:, None]], axis=1)
        finished |= next_token == end_id
        if finished.all():
            break
    return decoded[:, 1:]
