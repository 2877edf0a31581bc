"""Figures logged with speech runs: log-mel spectrograms of test utterances."""

from __future__ import annotations

import numpy as np


def spectrograms(features: list[np.ndarray], titles: list[str], hop_ms: float):
    """One panel per utterance: normalized features over time (seconds)."""
    from seqapps.api import plots

    plt = plots.plt
    figure, axes = plt.subplots(len(features), 1, figsize=(7, 1.9 * len(features) + 0.4))
    axes = np.atleast_1d(axes)
    for axis, x, title in zip(axes, features, titles):
        seconds = len(x) * hop_ms / 1000
        axis.imshow(
            np.asarray(x).T,
            origin="lower",
            aspect="auto",
            cmap="magma",
            extent=(0, seconds, 0, x.shape[1]),
        )
        axis.set_title(title, fontsize=9)
        axis.set_ylabel("channel")
    axes[-1].set_xlabel("seconds")
    figure.tight_layout()
    return figure
