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
