"""Character-level word features: a small CNN over each word's characters."""

from __future__ import annotations

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="seqapps")
class CharacterCNN(keras.layers.Layer):
    """Convolve each word's character embeddings and max-pool them into one vector.

    Args:
        filters: Size of the per-word feature.
        kernel_size: Characters each filter sees.

    Call arguments:
        inputs: (batch, words, characters, embedding) character embeddings.

    Returns:
        (batch, words, filters). Works for any number of words per batch (the words are
        folded into the batch axis), which Keras' TimeDistributed does not on TensorFlow.
    """

    def __init__(self, filters: int, kernel_size: int = 3, **kwargs):
        super().__init__(**kwargs)
        if filters < 1 or kernel_size < 1:
            raise ValueError(
                f"filters and kernel_size must be >= 1. Received: {filters}, {kernel_size}"
            )
        self.filters, self.kernel_size = filters, kernel_size
        self.convolution = keras.layers.Conv1D(
            filters, kernel_size, padding="same", activation="relu", name="convolution"
        )

    def build(self, input_shape):
        self.convolution.build((None, input_shape[2], input_shape[3]))

    def call(self, inputs):
        shape = ops.shape(inputs)
        words = ops.reshape(inputs, (-1, shape[2], inputs.shape[-1]))
        features = ops.max(self.convolution(words), axis=1)
        return ops.reshape(features, (shape[0], shape[1], self.filters))

    def compute_output_shape(self, input_shape):
        return (input_shape[0], input_shape[1], self.filters)

    def get_config(self):
        return {**super().get_config(), "filters": self.filters, "kernel_size": self.kernel_size}
