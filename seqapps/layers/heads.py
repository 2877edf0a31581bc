"""Input adapters and output heads shared by tasks."""

from __future__ import annotations

import keras


def token_embedding(vocabulary_size: int, dimension: int, name: str = "embedding"):
    """Embedding of integer tokens with index 0 as padding, so masks reach the encoder."""
    return keras.layers.Embedding(vocabulary_size, dimension, mask_zero=True, name=name)


def classification_head(x, classes: int, name: str = "classes"):
    """Softmax over ``classes`` labels, computed in float32 for stable losses."""
    return keras.layers.Dense(classes, activation="softmax", dtype="float32", name=name)(x)
