"""Figures logged with runs: learning curves and confusion matrices (matplotlib, no display)."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib

matplotlib.use("Agg")  # runs happen on servers and in CI: never open a window
import matplotlib.pyplot as plt
import numpy as np


def learning_curves(history: dict[str, Sequence[float]], title: str = "Learning curves"):
    """One panel per metric, training and validation over epochs."""
    names = [k for k in history if not k.startswith("val_")]
    figure, axes = plt.subplots(1, len(names), figsize=(4.5 * len(names), 3.5), squeeze=False)
    for axis, name in zip(axes[0], names):
        epochs = np.arange(1, len(history[name]) + 1)
        axis.plot(epochs, history[name], marker="o", label="train")
        if f"val_{name}" in history:
            axis.plot(epochs, history[f"val_{name}"], marker="o", label="validation")
        axis.set_xlabel("epoch")
        axis.set_title(name)
        axis.grid(alpha=0.3)
        axis.legend()
    figure.suptitle(title)
    figure.tight_layout()
    return figure


def confusion_matrix(matrix: np.ndarray, labels: Sequence[str], title: str = "Confusion matrix"):
    """Counts of true (rows) against predicted (columns) labels, annotated."""
    size = max(3.5, 0.6 * len(labels) + 2)
    figure, axis = plt.subplots(figsize=(size, size))
    image = axis.imshow(matrix, cmap="Blues")
    axis.set_xticks(range(len(labels)), labels, rotation=45, ha="right")
    axis.set_yticks(range(len(labels)), labels)
    axis.set_xlabel("predicted")
    axis.set_ylabel("true")
    threshold = matrix.max() / 2 if matrix.size else 0
    for row in range(matrix.shape[0]):
        for column in range(matrix.shape[1]):
            value = matrix[row, column]
            color = "white" if value > threshold else "black"
            axis.text(column, row, str(value), ha="center", va="center", color=color)
    figure.colorbar(image, ax=axis, fraction=0.046)
    axis.set_title(title)
    figure.tight_layout()
    return figure


def attention_weights(sentences: Sequence[Sequence[str]], weights: Sequence[Sequence[float]]):
    """One heat strip per example: how much attention each token received."""
    rows = len(sentences)
    longest = max((len(words) for words in sentences), default=1)
    figure, axes = plt.subplots(rows, 1, figsize=(max(6, 0.7 * longest), 1.1 * rows + 0.6))
    axes = np.atleast_1d(axes)
    for axis, words, row in zip(axes, sentences, weights):
        values = np.asarray(row[: len(words)])[None, :]
        axis.imshow(values, cmap="Oranges", aspect="auto", vmin=0.0, vmax=max(values.max(), 1e-6))
        axis.set_xticks(range(len(words)), words, rotation=30, ha="right", fontsize=8)
        axis.set_yticks([])
    figure.suptitle("Attention weights per token")
    figure.tight_layout()
    return figure


def forecast_vs_actual(dates, actual, forecast, persistence, name: str = "value"):
    """Actual values over the test period with the model's and persistence's forecasts."""
    figure, axis = plt.subplots(figsize=(10, 4))
    axis.plot(dates, actual, label="actual", color="black", linewidth=1.2)
    axis.plot(dates, forecast, label="model", linewidth=1.0)
    axis.plot(dates, persistence, label="persistence", linewidth=1.0, linestyle="--", alpha=0.8)
    axis.set_title(f"{name}: one-step-ahead forecasts on the test period")
    axis.grid(alpha=0.3)
    axis.legend()
    figure.autofmt_xdate()
    figure.tight_layout()
    return figure


def error_by_step(errors: dict[str, Sequence[float]]):
    """RMSE at each forecast step, one line per forecaster."""
    figure, axis = plt.subplots(figsize=(6, 3.5))
    names = list(errors)
    steps = len(next(iter(errors.values()), []))
    if steps == 1:  # one step ahead: bars compare better than dots
        values = [float(errors[name][0]) for name in names]
        axis.bar(names, values, color=[f"C{i}" for i in range(len(names))])
        low, high = min(values), max(values)
        axis.set_ylim(low - (high - low) * 2 - 1e-9, high + (high - low) * 0.5 + 1e-9)
    else:
        for name in names:
            axis.plot(np.arange(1, steps + 1), errors[name], marker="o", label=name)
        axis.set_xticks(np.arange(1, steps + 1))
        axis.legend()
    axis.set_xlabel("steps ahead" if steps > 1 else "forecaster (1 step ahead)")
    axis.set_ylabel("RMSE")
    axis.set_title("Error by forecast step")
    axis.grid(alpha=0.3)
    figure.tight_layout()
    return figure


def leaderboard_bars(
    labels: Sequence[str], means: Sequence[float], stds: Sequence[float], metric: str
):
    """Horizontal bars of a metric per configuration, best at the top, with ± std whiskers."""
    height = max(2.5, 0.45 * len(labels) + 1.2)
    figure, axis = plt.subplots(figsize=(7, height))
    positions = np.arange(len(labels))[::-1]
    axis.barh(positions, means, xerr=stds, color="C0", alpha=0.85, capsize=3)
    axis.set_yticks(positions, labels)
    for position, mean in zip(positions, means):
        axis.text(mean, position, f" {mean:.4f}", va="center", fontsize=8)
    axis.set_xlabel(metric)
    axis.set_title(f"Leaderboard: {metric}")
    axis.grid(axis="x", alpha=0.3)
    figure.tight_layout()
    return figure


def overlay_curves(curves: dict[str, Sequence[float]], name: str):
    """One line per configuration of a per-epoch metric."""
    figure, axis = plt.subplots(figsize=(7, 4))
    for index, (label, values) in enumerate(curves.items()):
        if len(values):
            # tab20 and two line styles keep up to 40 lines apart.
            style = "-" if index % 2 == 0 else "--"
            color = plt.cm.tab20(index % 20)
            steps = np.arange(1, len(values) + 1)
            axis.plot(steps, values, style, marker=".", color=color, label=label)
    axis.set_xlabel("epoch")
    axis.set_ylabel(name)
    axis.set_title(f"{name} per epoch")
    axis.grid(alpha=0.3)
    axis.legend(fontsize=7, ncol=2)
    figure.tight_layout()
    return figure
