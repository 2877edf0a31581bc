"""Reading long texts on purpose: which tokens a model sees, and chunks encoded one by one.

A review of 600 tokens cut to its first 400 loses its verdict, which reviewers tend to put
last. ``TokenWindow`` keeps the head, the tail, or both ends of each text, or cuts it into
fixed chunks; it sits in the logged model behind the vectorizer, so serving reads a text
exactly as training did. With chunks, ``ChunkEncoder`` runs one encoder over every chunk and
pools what it found (mean and max over the chunks that hold words): a recurrent model never
has to carry a state over a thousand steps.
"""

from __future__ import annotations

import keras
from keras import ops

from seqapps.data.text import TRUNCATE_MODES as MODES


def window_positions(lengths, length: int, mode: str):
    """(batch, length) indices into right-padded rows whose texts have ``lengths`` tokens."""
    steps = ops.expand_dims(ops.arange(length, dtype="int32"), 0)
    lengths = ops.expand_dims(ops.cast(lengths, "int32"), 1)
    shifted = lengths - length + steps  # the last ``length`` tokens
    long = ops.greater(lengths, length)
    if mode == "tail":
        return ops.where(long, shifted, steps)
    if mode == "head+tail":
        # The first half (rounded up) from the start, the rest from the end.
        return ops.where(ops.logical_and(long, steps >= length - length // 2), shifted, steps)
    return ops.broadcast_to(steps, ops.shape(shifted))  # head, and chunks of the head


@keras.saving.register_keras_serializable(package="seqapps")
class TokenWindow(keras.layers.Layer):
    """(batch, any width) right-padded token ids -> the ``length`` ids a model reads, or
    (batch, length // chunk_length, chunk_length) in ``chunks`` mode. Id 0 is padding."""

    def __init__(self, length: int, mode: str = "head", chunk_length: int = 0, **kwargs):
        super().__init__(**kwargs)
        if mode not in MODES:
            raise ValueError(f"TokenWindow: mode {mode!r} is not one of {MODES}")
        self.length, self.mode, self.chunk_length = int(length), mode, int(chunk_length)

    def call(self, tokens):
        tokens = ops.cast(tokens, "int32")
        padded = ops.pad(tokens, [[0, 0], [0, self.length]])  # at least ``length`` columns
        lengths = ops.sum(ops.cast(ops.not_equal(tokens, 0), "int32"), axis=1)
        positions = window_positions(lengths, self.length, self.mode)
        kept = ops.take_along_axis(padded, positions, axis=1)
        if self.mode != "chunks":
            return kept
        return ops.reshape(kept, (-1, self.length // self.chunk_length, self.chunk_length))

    def compute_output_shape(self, input_shape):
        if self.mode == "chunks":
            return (input_shape[0], self.length // self.chunk_length, self.chunk_length)
        return (input_shape[0], self.length)

    def get_config(self):
        return {
            **super().get_config(),
            "length": self.length,
            "mode": self.mode,
            "chunk_length": self.chunk_length,
        }


@keras.saving.register_keras_serializable(package="seqapps")
class ChunksToRows(keras.layers.Layer):
    """(batch, chunks, chunk_length) ids -> (batch * chunks, chunk_length): one row a chunk."""

    def call(self, chunks):
        return ops.reshape(chunks, (-1, ops.shape(chunks)[-1]))

    def compute_output_shape(self, input_shape):
        return (None, input_shape[-1])


@keras.saving.register_keras_serializable(package="seqapps")
class PoolChunks(keras.layers.Layer):
    """Encoded rows back to (batch, chunks, units), then the mean and the max over the chunks
    that hold a word (empty chunks of short texts are left out): (batch, 2 * units)."""

    def __init__(self, chunks: int, **kwargs):
        super().__init__(**kwargs)
        self.chunks = int(chunks)

    def call(self, encoded, chunk_ids):
        units = ops.shape(encoded)[-1]
        encoded = ops.reshape(encoded, (-1, self.chunks, units))
        present = ops.any(ops.not_equal(chunk_ids, 0), axis=-1, keepdims=True)
        weight = ops.cast(present, encoded.dtype)
        count = ops.maximum(ops.sum(weight, axis=1), 1.0)
        mean = ops.sum(encoded * weight, axis=1) / count
        lowest = ops.full_like(encoded, -1e4)
        top = ops.max(ops.where(present, encoded, lowest), axis=1)
        # An empty text has no chunk with a token: its max is 0, not -1e4.
        top = ops.where(ops.any(present, axis=1), top, ops.zeros_like(top))
        return ops.concatenate([mean, top], axis=-1)

    def compute_output_shape(self, encoded_shape, chunk_ids_shape):
        units = encoded_shape[-1]
        return (chunk_ids_shape[0], 2 * units if units else None)

    def get_config(self):
        return {**super().get_config(), "chunks": self.chunks}
