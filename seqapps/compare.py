"""Leaderboards from the tracking store: runs grouped by what differs, mean ± std over seeds.

seqapps compare sentiment
seqapps compare --parent <pipeline run id> --metric test_macro_f1 --format csv
"""

from __future__ import annotations

import csv
import io
import json
import math
from dataclasses import dataclass, field
from typing import Any

from seqapps.exceptions import UserInputError

# Params that never explain a difference in results (where and when a run was logged).
IGNORED_PARAMS = {
    "run_name",
    "experiment",
    "tracking_uri",
    "output_dir",
    "verbose",
    "devices",
    "model.parameters",
    "data.fingerprint",
}
# Metric names where smaller is better.
LOWER_IS_BETTER = ("loss", "rmse", "mae", "mape", "mase", "ratio", "error", "perplexity", "nll")
PREFERRED_METRICS = ("test_accuracy", "test_rmse", "test_loss")


def lower_is_better(metric: str) -> bool:
    """Whether a smaller value of ``metric`` is better (losses and errors)."""
    return any(word in metric for word in LOWER_IS_BETTER)


@dataclass
class Entry:
    """One group of runs that share every differing param except the seed."""

    settings: dict[str, str]
    values: list[float]
    run_ids: list[str]
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def mean(self) -> float:
        """Mean of the metric over the group's runs."""
        return sum(self.values) / len(self.values)

    @property
    def std(self) -> float:
        """Sample standard deviation over the group's runs (0 for a single run)."""
        if len(self.values) < 2:
            return 0.0
        mean = self.mean
        return math.sqrt(sum((v - mean) ** 2 for v in self.values) / (len(self.values) - 1))


@dataclass
class Board:
    """A ranked leaderboard."""

    metric: str
    varying: list[str]
    entries: list[Entry]


def fetch_runs(client, experiment: str | None = None, parent: str | None = None):
    """FINISHED runs of an experiment, or the FINISHED children of a parent run."""
    if parent:
        try:
            parent_run = client.get_run(parent)
        except Exception:
            raise UserInputError(f"--parent {parent}: no such run in the tracking store") from None
        experiment_ids = [parent_run.info.experiment_id]
        query = f"tags.`mlflow.parentRunId` = '{parent}' and attributes.status = 'FINISHED'"
    else:
        found = client.get_experiment_by_name(experiment)
        if found is None:
            names = ", ".join(sorted(e.name for e in client.search_experiments()))
            raise UserInputError(
                f"no experiment {experiment!r} in the tracking store; experiments: {names}"
            )
        experiment_ids = [found.experiment_id]
        query = "attributes.status = 'FINISHED'"
    return client.search_runs(experiment_ids, filter_string=query, max_results=5000)


def build(runs, metric: str | None = None, task: str | None = None) -> Board:
    """Group runs by the params that differ (the seed aside) and rank by ``metric``.

    ``task`` keeps only that task's runs (an experiment or a pipeline may hold several).
    """
    runs = [run for run in runs if run.data.metrics]
    if task:
        runs = [run for run in runs if run.data.tags.get("task", task) == task]
    if not runs:
        raise UserInputError(
            "no finished runs to compare" + (f" for task {task!r}" if task else "")
        )
    if metric is None:
        available = set().union(*(run.data.metrics for run in runs))
        metric = next((m for m in PREFERRED_METRICS if m in available), None)
        metric = metric or sorted(m for m in available if m.startswith("test_"))[0]
    runs = [run for run in runs if metric in run.data.metrics]
    if not runs:
        raise UserInputError(f"no finished run has the metric {metric!r}")
    keys = set().union(*(run.data.params for run in runs)) - IGNORED_PARAMS
    keys = {k for k in keys if not k.startswith("version.")}
    # A param varies when it takes two or more values where it is set; one that only some
    # runs have (an arch's own option) follows from another param and would only add noise.
    varying = sorted(
        k
        for k in keys
        if k != "seed" and len({run.data.params[k] for run in runs if k in run.data.params}) > 1
    )
    groups: dict[tuple, Entry] = {}
    for run in runs:
        settings = {k: run.data.params.get(k, "") for k in varying}
        entry = groups.setdefault(tuple(settings.values()), Entry(settings, [], []))
        entry.values.append(run.data.metrics[metric])
        entry.run_ids.append(run.info.run_id)
    sign = 1 if lower_is_better(metric) else -1
    # Ties keep a stable, readable order: by the settings that differ.
    entries = sorted(groups.values(), key=lambda e: (sign * e.mean, list(e.settings.values())))
    return Board(metric, varying, entries)


def render(board: Board, form: str = "table") -> str:
    """The leaderboard as an aligned table, CSV or JSON."""
    if form == "json":
        return json.dumps(
            [
                {
                    **e.settings,
                    "mean": e.mean,
                    "std": e.std,
                    "runs": len(e.values),
                    "run_ids": e.run_ids,
                }
                for e in board.entries
            ],
            indent=2,
        )
    header = ["rank", *board.varying, f"{board.metric} mean", "std", "runs", "run ids"]
    rows = [
        [
            str(rank),
            *e.settings.values(),
            f"{e.mean:.4f}",
            f"{e.std:.4f}",
            str(len(e.values)),
            " ".join(e.run_ids),
        ]
        for rank, e in enumerate(board.entries, 1)
    ]
    if form == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(header)
        writer.writerows(rows)
        return buffer.getvalue()
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    return "\n".join(
        "  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in [header, *rows]
    )


def figures(board: Board, client) -> dict[str, Any]:
    """A bar chart of the metric (± std) and an overlay of validation-loss curves."""
    from seqapps import plots

    labels = [", ".join(f"{v}" for v in e.settings.values()) or "all" for e in board.entries]
    bars = plots.leaderboard_bars(
        labels, [e.mean for e in board.entries], [e.std for e in board.entries], board.metric
    )
    curves = {}
    for label, entry in zip(labels, board.entries):
        history = client.get_metric_history(entry.run_ids[0], "val_loss")
        curves[label] = [m.value for m in sorted(history, key=lambda m: m.step)]
    return {"leaderboard": bars, "learning_curves": plots.overlay_curves(curves, "validation loss")}


def log_pipeline_leaderboards(tracker, parent_id: str, tasks: list[str], echo) -> None:
    """After a pipeline: each task's leaderboard of its children, shown and logged (with
    its figures) to the parent run, so the MLflow UI shows who won."""
    from seqapps.exceptions import SeqappsError

    runs = fetch_runs(tracker.client, parent=parent_id)
    for task in tasks:
        try:
            board = build(runs, task=task)
        except SeqappsError:
            continue  # nothing of this task finished: no leaderboard to show
        if len(tasks) > 1:
            echo(f"{task}:")
        echo(render(board))
        for name, figure in figures(board, tracker.client).items():
            tracker.log_figure(parent_id, figure, f"compare/{task}-{name}.png")
