"""Ending a padding mask on purpose, for layers and heads that must not see one."""

from __future__ import annotations

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="seqapps")
class ZeroPadding(keras.layers.Layer):
    """Zero the padded steps and drop the mask.

    Used before layers that cannot read masks (Conv1D), and before a per-step output when
    sample weights already exclude padding: Keras rescales a propagated mask per batch,
    which would skew weighted metrics accumulated over batches.
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def call(self, inputs, mask=None):
        if mask is None:
            return inputs
        return inputs * ops.expand_dims(ops.cast(mask, inputs.dtype), -1)

    def compute_mask(self, inputs, mask=None):
        return None


@keras.saving.register_keras_serializable(package="seqapps")
class MaskOfIds(keras.layers.Layer):
    """Pass ``features`` through, masked where ``ids`` is 0 (padding).

    Keras' Concatenate keeps a step when *any* input is unmasked there: joining masked word
    embeddings with unmasked per-word character features would unmask the padding, and the
    recurrent layers after it would read padded steps (predictions would change with the
    batch). Giving the character features the words' mask keeps the padding out.
    """

    def call(self, inputs):
        features, _ids = inputs
        return features

    def compute_mask(self, inputs, mask=None):
        return ops.not_equal(inputs[1], 0)
