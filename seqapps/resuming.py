"""Continuing an interrupted run: finding it, its logged settings, its saved state.

seqapps run sentiment --resume last
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

from seqapps import config as config_module
from seqapps import heartbeat, registry, runstate
from seqapps.exceptions import ConfigError
from seqapps.tracking import epoch_metric_name


@dataclass(frozen=True)
class Resume:
    """Which run to continue, and whether to do so even though it looks alive."""

    run_id: str
    force: bool = False


def resumed_config(
    task_cls, resume: Resume, settings_given: list[str], tracking_uri: str | None, experiment, echo
):
    """The logged config of the run to resume (``resume.run_id`` "last": the newest
    interrupted run of the task in ``experiment``), and that run's id: a resumed run keeps
    its settings.

    ``settings_given`` names the settings the user typed besides --resume (flags, --config,
    --set); any is an error, as the run continues with its own.
    """
    from seqapps.tracking import Tracker

    run_id = resume.run_id
    if settings_given:
        raise ConfigError(
            f"--resume {run_id} continues the run with its logged settings; "
            f"leave out {settings_given[0]}"
        )
    tracker = Tracker(tracking_uri)
    if run_id == "last":
        run_id = last_interrupted_run(tracker, task_cls.name, experiment)
        echo(f"resuming run {run_id}, the last interrupted {task_cls.name} run")
    run = tracker.get_run(run_id)
    check_not_alive(run, resume.force)  # before TensorFlow loads: a refusal comes at once
    if run.data.tags.get("task") != task_cls.name:
        raise ConfigError(
            f"--resume {run_id}: that run is of task {run.data.tags.get('task')!r}, "
            f"not {task_cls.name!r}"
        )
    with tempfile.TemporaryDirectory(prefix="seqapps-resume-") as scratch:
        path = tracker.client.download_artifacts(run_id, "config.yaml", scratch)
        values = config_module.read_config_file(path)
    values["tracking_uri"] = tracker.uri
    options = values.pop("options", None) or {}
    config = config_module.resolve(
        task_cls, {}, values, options, "the run's config.yaml", load_arch=registry.load_arch
    )
    return config, run_id


def last_interrupted_run(tracker, task_name: str, experiment: str | None) -> str:
    """The newest run of ``task_name`` that did not finish and has saved state.

    A RUNNING run counts: a killed process cannot mark its run, so do not resume while the
    run may still be alive elsewhere.
    """
    name = config_module.experiment_name(experiment, task_name)
    found = tracker.client.get_experiment_by_name(name)
    runs = []
    if found is not None:
        runs = tracker.client.search_runs(
            [found.experiment_id],
            filter_string=f"tags.task = '{task_name}' and attributes.status != 'FINISHED'",
            order_by=["attributes.start_time DESC"],
            max_results=50,
        )
    for run in runs:
        folder = run.data.tags.get("seqapps.state_dir")
        if folder and runstate.has_state(Path(folder)):
            return run.info.run_id
    raise ConfigError(
        f"--resume last: no interrupted {task_name} run with saved state in experiment {name!r}"
    )


def check_not_alive(run, force: bool) -> None:
    """Refuse to resume a run some process still trains (unless ``force``)."""
    owner = heartbeat.alive(run)
    if owner and not force:
        raise ConfigError(
            f"--resume {run.info.run_id}: the run is still alive ({owner}); let it finish or "
            "stop it first, or add --force if that process is not training it"
        )


def load_state(tracker, resume: Resume, data):
    """The saved state of the run to resume and its folder, after checking the run is not
    alive elsewhere and may continue on this data; the run is then reopened as ours."""
    run_id = resume.run_id
    run = tracker.get_run(run_id)
    if run.info.status == "FINISHED":
        raise ConfigError(f"--resume {run_id}: the run is already FINISHED")
    check_not_alive(run, resume.force)
    directory = run.data.tags.get("seqapps.state_dir")
    if not directory:
        raise ConfigError(f"--resume {run_id}: the run has no seqapps state (seqapps.state_dir)")
    progress, arrays = runstate.load(Path(directory))
    if progress.fingerprint != data.fingerprint:
        raise ConfigError(
            f"--resume {run_id}: the data changed since the run started (fingerprint "
            f"{data.fingerprint}, was {progress.fingerprint}); start a new run instead"
        )
    tags = {"seqapps.resumed_at_epoch": str(progress.epoch + 1), **heartbeat.owner_tags()}
    tracker.reopen(run_id, tags)
    return progress, arrays, Path(directory)


def reconcile_epoch_metrics(tracker, run_id: str, progress) -> set[int]:
    """Log saved epochs the store lost (buffered when the process died); return every step
    the store now holds, so replayed epochs are not logged twice."""
    logged = tracker.metric_steps(run_id, "train_loss")
    for step in range(1, progress.epoch + 1):
        if step not in logged:
            values = {k: v[step - 1] for k, v in progress.history.items() if len(v) >= step}
            metrics = {epoch_metric_name(k): v for k, v in values.items()}
            tracker.log_metrics(run_id, metrics, step=step)
            logged.add(step)
    return logged
