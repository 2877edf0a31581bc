"""The piano-roll figure logged with every music run."""

from __future__ import annotations

import numpy as np

from seqapps_music.notes import LOWEST, pitch_name


def piano_roll_figure(roll: np.ndarray, steps_per_quarter: int, title: str):
    """Keys over time (quarter notes on the x axis), cropped to the keys that sound."""
    from seqapps.api import plots

    plt = plots.plt
    active = np.flatnonzero(np.asarray(roll).any(axis=0))
    low, high = (active.min(), active.max()) if active.size else (39, 51)
    low, high = max(0, low - 2), min(roll.shape[1] - 1, high + 2)
    width = min(16, 3 + len(roll) / (2 * steps_per_quarter))
    figure, axis = plt.subplots(figsize=(width, 4))
    axis.imshow(
        np.asarray(roll)[:, low : high + 1].T,
        origin="lower",
        aspect="auto",
        cmap="Greys",
        interpolation="nearest",
        extent=(0, len(roll) / steps_per_quarter, low - 0.5, high + 0.5),
    )
    ticks = [k for k in range(low, high + 1) if (k + LOWEST) % 12 == 0] or [low]
    axis.set_yticks(ticks, [pitch_name(k + LOWEST) for k in ticks])
    axis.set_xlabel("quarter notes")
    axis.set_ylabel("pitch")
    axis.grid(axis="x", alpha=0.3)
    axis.set_title(title)
    figure.tight_layout()
    return figure
