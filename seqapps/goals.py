"""Which metric judges a run and which way is better: declared by the task, else read from the name.

A task declares its headline metric (the first of ``Task.headline_metrics`` that a run
logged) and the direction of its own metrics (``Task.metric_goals``). Each run records its
headline and that metric's goal as tags, so ``compare`` and pipeline leaderboards rank any
task, a third party's too, without importing it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

#: Tags every finished run carries.
HEADLINE_TAG = "seqapps.headline_metric"
GOAL_TAG = "seqapps.headline_goal"
#: The goals a task may declare.
GOALS = ("max", "min")
#: Words in a metric's name that mean smaller is better, when the task declares nothing.
LOWER_IS_BETTER = ("loss", "rmse", "mae", "mape", "mase", "ratio", "error", "perplexity", "nll")
_SPLITS = ("test_", "val_", "train_")


def base_name(metric: str) -> str:
    """``metric`` without its split prefix: test_entity_f1 -> entity_f1."""
    for prefix in _SPLITS:
        if metric.startswith(prefix):
            return metric[len(prefix) :]
    return metric


def goal(metric: str, declared: Mapping[str, str] | None = None) -> str:
    """ "max" or "min" for ``metric``: the task's declaration, else guessed from the name."""
    found = (declared or {}).get(base_name(metric))
    if found:
        return found
    return "min" if any(word in metric for word in LOWER_IS_BETTER) else "max"


def headline(declared: Iterable[str], logged: Iterable[str]) -> str:
    """The first declared headline metric a run logged; test_loss when none was."""
    logged = set(logged)
    return next((m for m in declared if m in logged), "test_loss")
