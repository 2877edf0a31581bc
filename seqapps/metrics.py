"""Classification scores every task shares: confusion matrices, per-class and macro F1."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def confusion_matrix(true: Sequence[int], predicted: Sequence[int], classes: int) -> np.ndarray:
    """Counts of (true, predicted) class-index pairs: rows are the truth."""
    matrix = np.zeros((classes, classes), dtype=int)
    np.add.at(matrix, (np.asarray(true, int), np.asarray(predicted, int)), 1)
    return matrix


def label_confusion(
    true: Sequence[str], predicted: Sequence[str], labels: Sequence[str]
) -> np.ndarray:
    """``confusion_matrix`` of string labels, in the order of ``labels``."""
    index = {label: i for i, label in enumerate(labels)}
    return confusion_matrix(
        [index[label] for label in true], [index[label] for label in predicted], len(labels)
    )


def _ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    numerator = numerator.astype(float)
    return np.divide(numerator, denominator, out=np.zeros_like(numerator), where=denominator > 0)


def per_class_scores(matrix: np.ndarray) -> dict[str, np.ndarray]:
    """Precision, recall, F1 and support of each class (0 where a class is never seen)."""
    hits = np.diag(matrix)
    precision = _ratio(hits, matrix.sum(axis=0))
    recall = _ratio(hits, matrix.sum(axis=1))
    f1 = _ratio(2 * precision * recall, precision + recall)
    return {"precision": precision, "recall": recall, "f1": f1, "support": matrix.sum(axis=1)}


def macro_f1(matrix: np.ndarray) -> float:
    """Unweighted mean of per-class F1 from a confusion matrix (absent classes score 0)."""
    return float(per_class_scores(matrix)["f1"].mean())


def accuracy(matrix: np.ndarray) -> float:
    """Share of the diagonal; NaN for an empty matrix."""
    total = matrix.sum()
    return float(np.trace(matrix) / total) if total else float("nan")


#: Resamples behind every bootstrap interval, and the interval's coverage.
BOOTSTRAP_RESAMPLES = 2000
CONFIDENCE = 0.95


def bootstrap_interval(
    true: Sequence[int],
    predicted: Sequence[int],
    statistic,
    resamples: int = BOOTSTRAP_RESAMPLES,
    seed: int = 0,
) -> tuple[float, float]:
    """Percentile bootstrap interval (CONFIDENCE) of ``statistic(true, predicted)``, the test
    examples drawn with replacement ``resamples`` times; seeded, so a run reproduces it."""
    true, predicted = np.asarray(true), np.asarray(predicted)
    if len(true) == 0:
        return float("nan"), float("nan")
    draws = np.random.default_rng(seed).integers(0, len(true), size=(resamples, len(true)))
    values = np.array([statistic(true[rows], predicted[rows]) for rows in draws])
    tail = (1 - CONFIDENCE) / 2
    low, high = np.quantile(values, [tail, 1 - tail])
    return float(low), float(high)


def accuracy_of(true: np.ndarray, predicted: np.ndarray) -> float:
    """Share of equal pairs (a statistic for ``bootstrap_interval``)."""
    return float(np.mean(true == predicted))


def macro_f1_of(classes: int):
    """Macro F1 of (true, predicted) class indices, as a ``bootstrap_interval`` statistic."""
    return lambda true, predicted: macro_f1(confusion_matrix(true, predicted, classes))
