"""Sampling the next step of a generated sequence from the model's output.

Temperature T rescales log-probabilities by 1/T: T = 1 samples the model's own
distribution, T < 1 sharpens it towards the most likely choice (T = 0 is argmax), T > 1
flattens it towards uniform. Top-k keeps only the k likeliest choices before sampling, so a
long sample never wanders into the tail of rare symbols.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

_TINY = 1e-12


def tempered(
    probabilities: np.ndarray, temperature: float, banned: Iterable[int] = (), top_k: int = 0
) -> np.ndarray:
    """The categorical distribution actually sampled at ``temperature``: ``banned`` get 0,
    and with ``top_k`` > 0 so does everything outside the k likeliest choices."""
    p = np.asarray(probabilities, np.float64).copy()
    banned = list(banned)
    p[banned] = 0.0
    if 0 < top_k < len(p):
        below = np.argsort(p)[: len(p) - top_k]  # ties at the cut: the lower index goes
        p[below] = 0.0
        banned = sorted({*banned, *below.tolist()})
    if temperature <= 0:
        one_hot = np.zeros_like(p)
        one_hot[int(np.argmax(p))] = 1.0
        return one_hot
    logits = np.log(np.maximum(p, _TINY)) / temperature
    logits[banned] = -np.inf
    logits -= logits.max()
    weights = np.exp(logits)
    return weights / weights.sum()


def sample_categorical(
    probabilities: np.ndarray,
    temperature: float,
    rng: np.random.Generator,
    banned: Iterable[int] = (),
    top_k: int = 0,
) -> int:
    """One index drawn from ``probabilities`` at ``temperature`` (and ``top_k``), never one
    of ``banned``."""
    distribution = tempered(probabilities, temperature, banned, top_k)
    return int(rng.choice(len(distribution), p=distribution))


def tempered_bernoulli(probabilities: np.ndarray, temperature: float) -> np.ndarray:
    """Per-key probabilities at ``temperature``: logit(p) / T, squashed again."""
    p = np.clip(np.asarray(probabilities, np.float64), _TINY, 1 - _TINY)
    if temperature <= 0:
        return (p > 0.5).astype(np.float64)
    logits = np.log(p / (1 - p)) / temperature
    return 1.0 / (1.0 + np.exp(-logits))


def sample_bernoulli(
    probabilities: np.ndarray, temperature: float, rng: np.random.Generator
) -> np.ndarray:
    """A multi-hot row: each key on independently with its tempered probability."""
    return (rng.random(len(probabilities)) < tempered_bernoulli(probabilities, temperature)).astype(
        np.uint8
    )
