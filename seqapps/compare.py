"""Leaderboards from the tracking store: runs grouped by what differs, mean ± std over seeds.

seqapps compare sentiment
seqapps compare --parent <pipeline run id> --metric test_macro_f1 --format csv
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from seqapps import goals
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


#: Params that make replicates of one setting (averaged together, never a separate entry).
REPLICATES = ("seed", "fold")


def lower_is_better(metric: str, declared: dict[str, str] | None = None) -> bool:
    """Whether a smaller value of ``metric`` is better: the task's goal, else its name."""
    return goals.goal(metric, declared) == "min"


@dataclass
class Entry:
    """One group of runs that share every differing param except the seed and the fold."""

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
    #: "max" or "min": which way the metric is better.
    direction: str = "max"


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


def build(
    runs,
    metric: str | None = None,
    task: str | None = None,
    where: dict[str, str] | None = None,
    declared: dict[str, str] | None = None,
) -> Board:
    """Group runs by the params that differ (seed and fold aside) and rank by ``metric``.

    ``task`` keeps only that task's runs (an experiment or a pipeline may hold several);
    ``where`` only the runs whose task options have these values ({"mode": "ctc"}). Without
    ``metric``, the runs' headline metric (the task's declaration, recorded on each run) in
    its declared direction; ``declared`` are the task's metric goals for any other metric.
    """
    runs = _select(runs, task, where)
    direction = None
    if metric is None:
        metric, direction = _headline(runs)
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
        if k not in REPLICATES
        and len({run.data.params[k] for run in runs if k in run.data.params}) > 1
    )
    groups: dict[tuple, Entry] = {}
    for run in runs:
        settings = {k: run.data.params.get(k, "") for k in varying}
        entry = groups.setdefault(tuple(settings.values()), Entry(settings, [], []))
        entry.values.append(run.data.metrics[metric])
        entry.run_ids.append(run.info.run_id)
        bounds = [run.data.metrics.get(f"{metric}_ci_{end}") for end in ("low", "high")]
        if None not in bounds:  # the run's own 95% interval over its test examples
            entry.extra.setdefault("intervals", []).append(tuple(bounds))
    direction = direction or goals.goal(metric, declared)
    sign = 1 if direction == "min" else -1
    # Ties keep a stable, readable order: by the settings that differ.
    entries = sorted(groups.values(), key=lambda e: (sign * e.mean, list(e.settings.values())))
    return Board(metric, varying, entries, direction)


def _select(runs, task: str | None, where: dict[str, str] | None) -> list:
    runs = [run for run in runs if run.data.metrics]
    if task:
        runs = [run for run in runs if run.data.tags.get("task", task) == task]
    for key, value in (where or {}).items():
        runs = [run for run in runs if run.data.params.get(f"option.{key}") == value]
    if not runs:
        chosen = (f" for task {task!r}" if task else "") + "".join(
            f" with {k}={v}" for k, v in (where or {}).items()
        )
        raise UserInputError(f"no finished runs to compare{chosen}")
    return runs


def _headline(runs) -> tuple[str, str | None]:
    """The headline metric most of the runs recorded, and its goal; for runs older than
    the headline tags, the first test metric with a known meaning."""
    recorded = Counter(
        (run.data.tags[goals.HEADLINE_TAG], run.data.tags.get(goals.GOAL_TAG))
        for run in runs
        if goals.HEADLINE_TAG in run.data.tags
    )
    if recorded:
        return recorded.most_common(1)[0][0]
    available = set().union(*(run.data.metrics for run in runs))
    fallback = ("test_accuracy", "test_rmse", "test_loss")
    found = next((m for m in fallback if m in available), None)
    return found or sorted(m for m in available if m.startswith("test_"))[0], None


def render(board: Board, form: str = "table") -> str:
    """The leaderboard as an aligned table, CSV or JSON."""
    if form == "json":
        return json.dumps(
            [
                {
                    **e.settings,
                    "metric": board.metric,
                    "goal": board.direction,
                    "mean": e.mean,
                    "std": e.std,
                    "runs": len(e.values),
                    "run_ids": e.run_ids,
                    **({"ci95": list(_interval(e))} if _interval(e) else {}),
                }
                for e in board.entries
            ],
            indent=2,
        )
    shown = any(_interval(e) for e in board.entries)
    header = ["rank", *board.varying, f"{board.metric} mean", "std", "runs", "run ids"]
    if shown:
        header.insert(-2, "95% CI")
    rows = []
    for rank, e in enumerate(board.entries, 1):
        row = [str(rank), *e.settings.values(), f"{e.mean:.4f}", f"{e.std:.4f}"]
        if shown:
            interval = _interval(e)
            row.append(f"{interval[0]:.4f}-{interval[1]:.4f}" if interval else "")
        rows.append([*row, str(len(e.values)), " ".join(e.run_ids)])
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


def _interval(entry: Entry) -> tuple[float, float] | None:
    """A one-run group's own 95% interval (bootstrap over its test examples); groups of
    several runs show their spread over seeds instead."""
    intervals = entry.extra.get("intervals", [])
    return intervals[0] if len(entry.values) == 1 and len(intervals) == 1 else None


def ranking_line(board: Board) -> str:
    """What the board is ranked by, and which way: shown under the table."""
    way = "higher" if board.direction == "max" else "lower"
    return f"ranked by {board.metric}, {way} is better"


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
    """After a pipeline: each task's leaderboard of its children, shown and logged to the
    parent run as data the MLflow UI shows (best value, winner, table, figures)."""
    from seqapps.exceptions import SeqappsError

    runs = fetch_runs(tracker.client, parent=parent_id)
    notes = []
    for task in tasks:
        try:
            board = build(runs, task=task, declared=task_goals(task))
        except SeqappsError:
            continue  # nothing of this task finished: no leaderboard to show
        if len(tasks) > 1:
            echo(f"{task}:")
        echo(render(board))
        echo(ranking_line(board))
        prefix = f"{task}." if len(tasks) > 1 else ""
        notes.append(log_winner(tracker, parent_id, board, runs, prefix))
        for name, figure in figures(board, tracker.client).items():
            tracker.log_figure(parent_id, figure, f"compare/{task}-{name}.png")
    if notes:  # the run page's description
        tracker.set_tags(parent_id, {"mlflow.note.content": "\n\n".join(notes)})


def log_winner(tracker, parent_id: str, board: Board, runs, prefix: str = "") -> str:
    """Log ``board`` on the parent run: ``best_<metric>`` as a metric, the winning run as the
    tags ``seqapps.winner``/``seqapps.winner_run_id``, the table as an MLflow table artifact
    (``leaderboard.json``); return the description (Markdown) naming the winner."""
    names = {run.info.run_id: run.info.run_name for run in runs}
    values = {run.info.run_id: run.data.metrics.get(board.metric) for run in runs}
    sign = 1 if board.direction == "min" else -1
    best = board.entries[0]
    winner = min(best.run_ids, key=lambda run_id: sign * values[run_id])
    tracker.log_metrics(parent_id, {f"{prefix}best_{board.metric}": values[winner]})
    tracker.set_tags(
        parent_id,
        {f"seqapps.{prefix}winner": names[winner], f"seqapps.{prefix}winner_run_id": winner},
    )
    table = {"rank": list(range(1, len(board.entries) + 1))}
    for key in board.varying:
        table[key] = [e.settings[key] for e in board.entries]
    table[f"{board.metric} mean"] = [round(e.mean, 6) for e in board.entries]
    table["std"] = [round(e.std, 6) for e in board.entries]
    table["runs"] = [" ".join(names[r] for r in e.run_ids) for e in board.entries]
    table["run ids"] = [" ".join(e.run_ids) for e in board.entries]
    tracker.log_table(parent_id, table, f"{prefix}leaderboard.json")
    way = "higher" if board.direction == "max" else "lower"
    rows = "\n".join(
        f"| {rank} | {' '.join(names[r] for r in e.run_ids)} | {e.mean:.4f} |"
        for rank, e in enumerate(board.entries, 1)
    )
    return (
        f"**{prefix}winner: {names[winner]}** ({board.metric} {values[winner]:.4f}, "
        f"{way} is better)\n\n| rank | runs | {board.metric} |\n|---|---|---|\n{rows}"
    )


def task_goals(task: str | None) -> dict[str, str]:
    """The metric goals ``task`` declares; none when it is not installed (or not named)."""
    if not task:
        return {}
    from seqapps import registry
    from seqapps.exceptions import SeqappsError

    try:
        return dict(registry.load_task(task).metric_goals)
    except SeqappsError:
        return {}
