"""Score a logged model on new labelled data and log the result as a run linked to the model."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from seqapps import models
from seqapps.config import experiment_name
from seqapps.predicting import model_source


@dataclass
class Evaluation:
    """The new run and the task's metrics on the new data (prefixed ``test_``)."""

    run_id: str
    metrics: dict[str, float]
    summary: list[str]


def _run_name(metadata: dict[str, Any], data: str) -> str:
    return f"evaluate {metadata.get('arch', '?')} on {Path(data).name or data}"[:60]


def evaluate(
    source: str,
    data: str,
    tracking_uri: str | None = None,
    options: dict[str, str] | None = None,
    experiment: str | None = None,
) -> Evaluation:
    """Score model ``source`` on labelled ``data`` with its task's metrics; log a new run."""
    from seqapps.tracking import Tracker

    tracker = Tracker(tracking_uri)
    with model_source(source, tracker.uri) as folder:
        loaded = models.load_folder(folder)
    metadata = loaded.metadata
    task = loaded.task_cls()
    report = task.evaluate(loaded.model, metadata, data, dict(options or {}))
    metrics = {f"test_{key}": float(value) for key, value in report.metrics.items()}
    experiment_id = tracker.experiment_id(experiment_name(experiment, metadata["task"]))
    origin = metadata.get("run_id", "")
    run_id = tracker.start_run(
        experiment_id,
        _run_name(metadata, data),
        {
            "seqapps.kind": "evaluation",
            "seqapps.evaluated_run": origin,
            "seqapps.model": source,
            "mlflow.note.content": f"Model of run {origin} scored on {data}.",
        },
    )
    try:
        tracker.log_params(
            run_id,
            {
                "task": metadata["task"],
                "arch": metadata.get("arch", ""),
                "data": data,
                "model": source,
            },
        )
        tracker.log_metrics(run_id, metrics)
        for name, figure in report.figures.items():
            tracker.log_figure(run_id, figure, f"figures/{name}.png")
        for name, text in report.texts.items():
            tracker.log_text(run_id, text, name)
    except BaseException:
        tracker.fail(run_id, "evaluation could not be logged")
        raise
    tracker.finish(run_id)
    shown = task.headline_metrics or sorted(metrics)
    headline = ", ".join(f"{k} {metrics[k]:.4f}" for k in shown if k in metrics)
    summary = [
        f"run {run_id} FINISHED (model of run {origin} on {data})",
        f"test: {headline}",
        *report.summary,
    ]
    return Evaluation(run_id, metrics, summary)
