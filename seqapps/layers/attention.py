"""Attention pooling: a recurrent encoder's states weighted by learned relevance.

Each step's state gets a score v . tanh(W h_t + b); padded steps get none of the weight;
the softmax of the scores weighs the states into one vector. The weights are a second
output, so a task can show which tokens the model looked at.
"""

from __future__ import annotations

import keras
from keras import ops

from seqapps.archs import EncoderSettings

LAYER_NAME = "attention_pooling"


@keras.saving.register_keras_serializable(package="seqapps")
class AttentionPooling(keras.layers.Layer):
    """Additive (Bahdanau-style) attention pooling over time.

    Args:
        units: Size of the scoring layer.

    Call arguments:
        inputs: (batch, time, features). mask: optional (batch, time) booleans.

    Returns:
        (context (batch, features), weights (batch, time)).
    """

    def __init__(self, units: int = 64, **kwargs):
        super().__init__(**kwargs)
        if units < 1:
            raise ValueError(f"units must be at least 1. Received: units={units}")
        self.units = units
        self.supports_masking = True

    def build(self, input_shape):
        features = int(input_shape[-1])
        self.kernel = self.add_weight(shape=(features, self.units), name="kernel")
        self.bias = self.add_weight(shape=(self.units,), initializer="zeros", name="bias")
        self.score_vector = self.add_weight(shape=(self.units,), name="score_vector")

    def call(self, inputs, mask=None):
        scores = ops.tensordot(
            ops.tanh(ops.matmul(inputs, self.kernel) + self.bias), self.score_vector, axes=1
        )
        if mask is not None:
            scores = ops.where(mask, scores, ops.full_like(scores, -1e9))
        weights = ops.softmax(scores, axis=-1)
        context = ops.sum(inputs * ops.expand_dims(weights, -1), axis=1)
        return context, weights

    def compute_mask(self, inputs, mask=None):
        return None

    def compute_output_shape(self, input_shape):
        return (input_shape[0], input_shape[-1]), (input_shape[0], input_shape[1])

    def get_config(self):
        return {**super().get_config(), "units": self.units}


def attention(inputs, settings: EncoderSettings, *, kind: str):
    """Bidirectional LSTM states (stacked per --layers) pooled by additive attention."""
    from seqapps.layers.recurrent import stack

    states = stack(inputs, settings, cell="lstm", bidirectional=True, return_sequences=True)
    context, _weights = AttentionPooling(settings.units, name=LAYER_NAME)(states)
    return context
