"""A small Transformer encoder baseline with sinusoidal positions (mask-aware, causal option)."""

from __future__ import annotations

import keras
from keras import ops

from seqapps.archs import GENERATION, EncoderSettings, returns_sequences
from seqapps.layers.regularization import kernel_regularizer


@keras.saving.register_keras_serializable(package="seqapps")
class SinusoidalPosition(keras.layers.Layer):
    """Add fixed sine/cosine position encodings (any sequence length; masks pass through)."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def call(self, inputs):
        length, depth = ops.shape(inputs)[1], inputs.shape[-1]
        positions = ops.cast(ops.arange(length), "float32")[:, None]
        channels = ops.cast(ops.arange(depth), "float32")[None, :]
        rates = ops.power(10000.0, -2.0 * ops.floor(channels / 2.0) / float(depth))
        angles = positions * rates
        even = ops.cast(ops.equal(ops.mod(ops.arange(depth), 2), 0), "float32")[None, :]
        encoding = even * ops.sin(angles) + (1.0 - even) * ops.cos(angles)
        return inputs + ops.cast(encoding, inputs.dtype)[None, :, :]


@keras.saving.register_keras_serializable(package="seqapps")
class MaskedSelfAttention(keras.layers.Layer):
    """Multi-head self-attention that never attends to padded steps.

    Keras' MultiHeadAttention only picks up the query's mask when called in a functional
    model, so padded keys would still receive weight; here the padding mask is passed as
    ``value_mask`` explicitly.

    Args:
        heads: Number of attention heads.
        key_dim: Size of each head.
        dropout: Dropout on the attention weights.
        causal: Whether each step may only attend to itself and earlier steps.
    """

    def __init__(
        self, heads: int, key_dim: int, dropout: float = 0.0, causal: bool = False, **kwargs
    ):
        super().__init__(**kwargs)
        if heads < 1 or key_dim < 1:
            raise ValueError(f"heads and key_dim must be at least 1. Received: {heads}, {key_dim}")
        self.heads, self.key_dim, self.dropout, self.causal = heads, key_dim, dropout, causal
        self.attention = keras.layers.MultiHeadAttention(
            heads, key_dim, dropout=dropout, name="mha"
        )
        self.supports_masking = True

    def build(self, input_shape):
        self.attention.build(input_shape, input_shape)

    def call(self, inputs, mask=None, training=None):
        return self.attention(
            inputs, inputs, value_mask=mask, use_causal_mask=self.causal, training=training
        )

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {
            **super().get_config(),
            "heads": self.heads,
            "key_dim": self.key_dim,
            "dropout": self.dropout,
            "causal": self.causal,
        }


def transformer(inputs, settings: EncoderSettings, *, kind: str):
    """Project to --units, add positions, then --layers blocks of self-attention and MLP."""
    from seqapps.archs import TRANSFORMER

    heads = settings.option(TRANSFORMER, "heads")
    causal = kind == GENERATION
    x = keras.layers.Dense(settings.units, name="transformer_projection")(inputs)
    x = SinusoidalPosition(name="transformer_positions")(x)
    for index in range(settings.layers):
        name = f"transformer_{index + 1}"
        attended = MaskedSelfAttention(
            heads,
            max(1, settings.units // heads),
            dropout=settings.dropout,
            causal=causal,
            name=f"{name}_attention",
        )(x)
        x = keras.layers.LayerNormalization(name=f"{name}_norm_1")(
            keras.layers.Add()([x, attended])
        )
        hidden = keras.layers.Dense(
            2 * settings.units,
            activation="relu",
            kernel_regularizer=kernel_regularizer(settings),
            name=f"{name}_mlp_1",
        )(x)
        hidden = keras.layers.Dense(
            settings.units, kernel_regularizer=kernel_regularizer(settings), name=f"{name}_mlp_2"
        )(hidden)
        if settings.dropout:
            hidden = keras.layers.Dropout(settings.dropout, name=f"{name}_dropout")(hidden)
        x = keras.layers.LayerNormalization(name=f"{name}_norm_2")(keras.layers.Add()([x, hidden]))
    if not returns_sequences(kind):
        x = keras.layers.GlobalAveragePooling1D(name="transformer_mean")(x)
    return x
