"""Figures a tuning study logs on its parent run: the optimization history and what mattered."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib

matplotlib.use("Agg")  # studies run on servers and in CI: never open a window
import matplotlib.pyplot as plt
import matplotlib.ticker


def optimization_history(
    rows: Sequence[dict], monitor: str, direction: str, title: str = "Optimization history"
):
    """Each trial's value by trial number (pruned trials at their last report), and the
    best so far as a step line."""
    figure, axis = plt.subplots(figsize=(6.5, 4))
    complete = [r for r in rows if r["state"] == "COMPLETE" and r["value"] is not None]
    pruned = [r for r in rows if r["state"] == "PRUNED" and r["value"] is not None]
    axis.scatter([r["number"] for r in complete], [r["value"] for r in complete], label="trial")
    if pruned:
        axis.scatter(
            [r["number"] for r in pruned],
            [r["value"] for r in pruned],
            marker="x",
            color="grey",
            label="pruned (last report)",
        )
    best, numbers, values = None, [], []
    for row in sorted(complete, key=lambda r: r["number"]):
        value = row["value"]
        better = best is None or (value < best if direction == "min" else value > best)
        best = value if better else best
        numbers.append(row["number"])
        values.append(best)
    if numbers:
        last = max(r["number"] for r in rows)
        steps = ([*numbers, last], [*values, values[-1]])
        axis.step(*steps, where="post", color="C3", label="best so far")
    axis.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
    axis.set_xlabel("trial")
    axis.set_ylabel(f"{monitor} ({'lower' if direction == 'min' else 'higher'} is better)")
    axis.set_title(title)
    axis.grid(alpha=0.3)
    axis.legend()
    figure.tight_layout()
    return figure


def importances(found: dict[str, float], title: str = "Hyperparameter importance"):
    """A horizontal bar per searched setting, the most important on top."""
    names = list(found)[::-1]
    figure, axis = plt.subplots(figsize=(6, 0.5 * len(names) + 1.5))
    axis.barh(names, [found[n] for n in names])
    axis.set_xlabel("importance (fANOVA, share of the objective's variance)")
    axis.set_title(title)
    axis.grid(alpha=0.3, axis="x")
    figure.tight_layout()
    return figure
