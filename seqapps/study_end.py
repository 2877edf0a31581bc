"""A tuning study's last step: the best trial tested once, the parent run summed up."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from typing import Any

from seqapps.config import FIELD_NAMES
from seqapps.exceptions import SeqappsError
from seqapps.study_store import Joined, close_lost_trials, counts
from seqapps.study_worker import short_value
from seqapps.tuning import StudyPlan


def trial_rows(optuna_study) -> list[dict[str, Any]]:
    """One row per trial: number, state, value (a pruned trial's last report), params,
    seconds, run id, and why it failed."""
    rows = []
    for trial in optuna_study.get_trials(deepcopy=False):
        if trial.user_attrs.get("surplus"):
            continue
        value = trial.value
        if value is None and trial.intermediate_values:
            value = trial.intermediate_values[max(trial.intermediate_values)]
        seconds = None
        if trial.datetime_start and trial.datetime_complete:
            seconds = round((trial.datetime_complete - trial.datetime_start).total_seconds(), 1)
        rows.append(
            {
                "number": trial.number,
                "state": trial.state.name,
                "value": value,
                "epochs": len(trial.intermediate_values),
                **{f"param.{k}": v for k, v in trial.params.items()},
                "seconds": seconds,
                "run_id": trial.user_attrs.get("mlflow_run_id", ""),
                "reason": trial.user_attrs.get("seqapps.reason", ""),
            }
        )
    return rows


def finish(study: StudyPlan, joined: Joined, echo: Callable[[str], None]) -> list[str] | None:
    """The study's last step, done once by the worker that ends it: the best trial evaluated
    on the test split, and the parent run given the best params, the trials table and the
    figures. None while other workers still run trials."""
    import optuna

    from seqapps.tracking import ui_command

    close_lost_trials(joined, echo)
    found = counts(joined.study)
    tracker, parent_id = joined.tracker, joined.parent_id
    if found.get("RUNNING"):
        echo(
            f"{found['RUNNING']} trial(s) still run in other workers; the last worker to end "
            "evaluates the best trial"
        )
        return None
    complete = joined.study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
    rows = trial_rows(joined.study)
    _log_trials(study, joined, rows, found)
    if not complete:
        tracker.fail(parent_id, "no trial completed; see the trials' runs for why")
        raise SeqappsError(f"study {study.name}: no trial completed (parent run {parent_id})")
    best = joined.study.best_trial
    best_run = best.user_attrs["mlflow_run_id"]
    tags = {f"best.{k}": str(v) for k, v in best.params.items()}
    tags.update({"seqapps.best_trial": str(best.number), "seqapps.best_run_id": best_run})
    tracker.set_tags(parent_id, tags)
    metrics = {f"best_trial.{study.monitor}": best.value, "best_trial.number": best.number}
    tested = _tested(study, joined, best, echo)
    tracker.log_metrics(parent_id, {**metrics, **tested})
    tracker.finish(parent_id)
    declared = study.task_class.headline_metrics
    shown = declared or sorted(k.removeprefix("best_trial.") for k in tested)
    scores = ", ".join(
        f"{k} {tested[f'best_trial.{k}']:.4f}" for k in shown if f"best_trial.{k}" in tested
    )
    settings = " ".join(f"{k}={short_value(v)}" for k, v in best.params.items())
    return [
        f"study {study.name} FINISHED: {_states_line(found)} (parent run {parent_id})",
        f"best: trial {best.number}, {study.monitor} {best.value:.4f}: {settings}",
        f"test (best trial, run {best_run}): {scores}",
        f"again: {_command(study, best.params)}",
        f"view: {ui_command(tracker.uri)}",
    ]


def _tested(study: StudyPlan, joined: Joined, best, echo) -> dict[str, float]:
    """The best trial's test metrics (``best_trial.test_*``): evaluated now, unless an
    earlier end of this study already did (a continued study whose best did not change)."""
    from seqapps import training

    parent = joined.tracker.get_run(joined.parent_id)
    if parent.data.tags.get("seqapps.tested_trial") == str(best.number):
        echo(f"trial {best.number} was evaluated on the test split already")
        return {k: v for k, v in parent.data.metrics.items() if k.startswith("best_trial.test_")}
    echo(f"best: trial {best.number}; evaluating it on the test split (its first read)")
    config = dataclasses.replace(
        study.config_for(best.params),
        tracking_uri=joined.tracker.uri,
        experiment=study.experiment,
        verbose=0,
    )
    run_id = best.user_attrs["mlflow_run_id"]
    result = training.evaluate_trial(study.task_class, config, run_id, echo=lambda _line: None)
    joined.tracker.set_tags(joined.parent_id, {"seqapps.tested_trial": str(best.number)})
    return {f"best_trial.{k}": v for k, v in result.metrics.items() if k.startswith("test_")}


def _states_line(found: dict[str, int]) -> str:
    names = (("COMPLETE", "finished"), ("PRUNED", "pruned"), ("FAIL", "failed"))
    return ", ".join(f"{found.get(state, 0)} {word}" for state, word in names)


def _command(study: StudyPlan, params: dict[str, Any]) -> str:
    """The `seqapps run` that trains the best trial's settings again."""
    parts = [f"seqapps run {study.task}"]
    for key, value in {**study.flags, **params}.items():
        if value is None or key in ("experiment", "tracking_uri", "run_name", "verbose"):
            continue
        if key in FIELD_NAMES:
            parts.append(f"--{key.replace('_', '-')} {value}")
        else:
            parts.append(f"--set {key}={value}")
    parts += [f"--set {k}={v}" for k, v in study.set_values.items() if k not in params]
    return " ".join(parts)


def _log_trials(study: StudyPlan, joined: Joined, rows: list[dict], found: dict[str, int]) -> None:
    """The trials table and the figures, on the parent run."""
    import optuna

    from seqapps import study_plots

    tracker, parent_id = joined.tracker, joined.parent_id
    columns: dict[str, list] = {}
    for row in rows:
        for key in row:
            columns.setdefault(key, [])
    for row in rows:
        for key in columns:
            columns[key].append(row.get(key))
    tracker.log_table(parent_id, columns, "trials.json")
    tracker.log_text(parent_id, json.dumps(rows, indent=1, default=str), "trials_rows.json")
    counted = {f"trials_{word}": float(found.get(state, 0)) for state, word in (
        ("COMPLETE", "finished"), ("PRUNED", "pruned"), ("FAIL", "failed"))}  # fmt: skip
    tracker.log_metrics(parent_id, counted)
    title = f"{study.task}: study {study.name}"
    figure = study_plots.optimization_history(rows, study.monitor, study.direction, title)
    tracker.log_figure(parent_id, figure, "figures/optimization_history.png")
    try:
        found_importances = optuna.importance.get_param_importances(joined.study)
    except Exception:  # fewer than two finished trials, or one value everywhere
        return
    if found_importances:
        figure = study_plots.importances(found_importances, f"{title}: importance")
        tracker.log_figure(parent_id, figure, "figures/param_importances.png")
        tracker.log_metrics(
            parent_id, {f"importance.{k}": float(v) for k, v in found_importances.items()}
        )
