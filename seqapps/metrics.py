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
