"""Simple baselines every run is compared with, and the sentence that says how it went.

A model that loses to the majority class or to a bag-of-words model has learned less than
it seems; a user should read that in the run's own output, not find it out later.
"""

from __future__ import annotations

import re
from collections import Counter

import numpy as np

_WORD = re.compile(r"[\w']+")


def verdict_line(metric: str, model: float, baselines: dict[str, float], direction: str) -> str:
    """One line: each baseline's test score, and plainly whether the model beats the best."""
    shown = ", ".join(f"{name} {value:.4f}" for name, value in baselines.items())
    pick = min if direction == "min" else max
    best = pick(baselines, key=baselines.get)
    value = baselines[best]
    better = model < value if direction == "min" else model > value
    head = f"baselines (test {metric}): {shown}; the model ({model:.4f})"
    if better:
        return f"{head} beats {'them all' if len(baselines) > 1 else 'it'}"
    return f"{head} does NOT beat {best}"


def majority(train_targets, count: int) -> np.ndarray:
    """The majority class of training, for ``count`` examples."""
    return np.full(count, Counter(np.asarray(train_targets).tolist()).most_common(1)[0][0])


def words(text: str) -> list[str]:
    """Lowercased word tokens (letters, digits, apostrophes)."""
    return _WORD.findall(text.lower())


def naive_bayes(train_texts, train_targets, texts, classes: int) -> np.ndarray:
    """Multinomial naive Bayes on bags of words (add-one smoothing): the classic linear
    text baseline, fitted on the training texts and applied to ``texts``."""
    vocabulary: dict[str, int] = {}
    for text in train_texts:
        for word in words(text):
            vocabulary.setdefault(word, len(vocabulary))
    counts = np.ones((classes, len(vocabulary)))  # add-one smoothing
    prior = np.ones(classes)
    for text, target in zip(train_texts, train_targets):
        prior[target] += 1
        for word in words(text):
            counts[target, vocabulary[word]] += 1
    log_likelihood = np.log(counts / counts.sum(axis=1, keepdims=True))
    log_prior = np.log(prior / prior.sum())
    predicted = []
    for text in texts:
        known = [vocabulary[w] for w in words(text) if w in vocabulary]
        predicted.append(int(np.argmax(log_prior + log_likelihood[:, known].sum(axis=1))))
    return np.array(predicted, dtype=int)


def softmax_regression(
    train_vectors, train_targets, vectors, classes: int, l2: float = 1e-3, steps: int = 500
) -> np.ndarray:
    """A multinomial logistic regression on fixed-length vectors (standardized on training,
    L2-penalized, full-batch gradient descent from zero, so it is deterministic): the linear
    baseline for inputs that are not words."""
    train = np.asarray(train_vectors, np.float64)
    mean, std = train.mean(axis=0), train.std(axis=0) + 1e-8
    x = np.hstack([(train - mean) / std, np.ones((len(train), 1))])
    y = np.eye(classes)[np.asarray(train_targets, int)]
    weights = np.zeros((x.shape[1], classes))
    rate = 0.5
    for _ in range(steps):
        logits = x @ weights
        logits -= logits.max(axis=1, keepdims=True)
        p = np.exp(logits)
        p /= p.sum(axis=1, keepdims=True)
        gradient = x.T @ (p - y) / len(x) + l2 * weights
        weights -= rate * gradient
    test = (np.asarray(vectors, np.float64) - mean) / std
    scores = np.hstack([test, np.ones((len(test), 1))]) @ weights
    return scores.argmax(axis=1)
