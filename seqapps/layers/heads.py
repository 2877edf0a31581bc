"""Input adapters and output heads shared by tasks."""

from __future__ import annotations

import keras


def token_embedding(vocabulary_size: int, dimension: int, name: str = "embedding"):
    """Embedding of integer tokens with index 0 as padding, so masks reach the encoder."""
    return keras.layers.Embedding(vocabulary_size, dimension, mask_zero=True, name=name)


def classification_head(x, classes: int, name: str = "classes"):
    """Softmax over ``classes`` labels, computed in float32 for stable losses."""
    return keras.layers.Dense(classes, activation="softmax", dtype="float32", name=name)(x)


@keras.saving.register_keras_serializable(package="seqapps")
class WordDropout(keras.layers.Layer):
    """In training, replace each known word id by the unknown id with probability ``rate``.

    Teaches the model what to do with words it has never seen (from context and, with
    character features, spelling). Padding (0) and unknown (1) ids are left alone; at
    inference the layer does nothing.
    """

    def __init__(self, rate: float, unknown_index: int = 1, seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        if not 0 <= rate < 1:
            raise ValueError(f"rate must be in [0, 1). Received: rate={rate}")
        self.rate, self.unknown_index, self.seed = rate, unknown_index, seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, inputs, training=None):
        if not training or not self.rate:
            return inputs
        draws = keras.random.uniform(keras.ops.shape(inputs), seed=self.seed_generator)
        drop = keras.ops.logical_and(draws < self.rate, inputs > self.unknown_index)
        return keras.ops.where(drop, keras.ops.full_like(inputs, self.unknown_index), inputs)

    def get_config(self):
        return {
            **super().get_config(),
            "rate": self.rate,
            "unknown_index": self.unknown_index,
            "seed": self.seed,
        }
