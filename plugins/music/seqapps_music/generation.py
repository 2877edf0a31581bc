"""One-to-many generation: extend a prime step by step, sampling each next step.

The whole buffer (prime + room for the continuation) is fed at every step with one fixed
shape, so Keras traces the predict function once; the models are causal, so the empty tail
of the buffer never changes the step being sampled.
"""

from __future__ import annotations

import numpy as np

from seqapps.api import sample_bernoulli, sample_categorical


def generate_tokens(
    model,
    prime: list[int],
    length: int,
    temperature: float,
    rng: np.random.Generator,
    banned: list[int],
) -> list[int]:
    """``length`` token ids continuing ``prime`` (which starts with the start token)."""
    import tensorflow as tf

    buffer = np.zeros((1, len(prime) + length), np.int32)
    buffer[0, : len(prime)] = prime
    for position in range(len(prime) - 1, len(prime) - 1 + length):
        probabilities = model.predict_on_batch(tf.constant(buffer))[0, position]
        buffer[0, position + 1] = sample_categorical(probabilities, temperature, rng, banned)
    return buffer[0, len(prime) :].tolist()


def generate_roll(
    model, prime: np.ndarray, length: int, temperature: float, rng: np.random.Generator
) -> np.ndarray:
    """``length`` piano-roll rows continuing ``prime`` (which starts with a silent row)."""
    import tensorflow as tf

    buffer = np.zeros((1, len(prime) + length, prime.shape[1]), np.float32)
    buffer[0, : len(prime)] = prime
    for position in range(len(prime) - 1, len(prime) - 1 + length):
        probabilities = model.predict_on_batch(tf.constant(buffer))[0, position]
        buffer[0, position + 1] = sample_bernoulli(probabilities, temperature, rng)
    return buffer[0, len(prime) :].astype(np.uint8)
