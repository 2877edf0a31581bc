"""A tuning study's shared state: the Optuna study in its storage, and its parent MLflow run.

The first process creates both (and queues the fixed settings as trial 0); the others find
them. Trials whose worker vanished are failed here, by their missing heartbeat.
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from seqapps.exceptions import ConfigError
from seqapps.tuning import DEFAULT_TRIALS, StudyPlan


def _sampler(study: StudyPlan, identity: int):
    import optuna

    # Each worker draws its own random proposals (the same seed would propose the same
    # settings in every worker); one worker on a new study is reproducible.
    seed = study.base.seed + 7919 * identity
    if study.sampler == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    if study.sampler == "grid":
        grid = {d.name: list(d.choices) for d in study.space}
        return optuna.samplers.GridSampler(grid, seed=seed)
    startup = max(2, min(10, (study.trials or DEFAULT_TRIALS) // 3))
    return optuna.samplers.TPESampler(seed=seed, n_startup_trials=startup)


def _pruner(study: StudyPlan):
    import optuna

    if study.pruner == "median":
        # Judged from the second epoch on (the first is noisy), once three trials finished.
        return optuna.pruners.MedianPruner(n_startup_trials=3, n_warmup_steps=2)
    if study.pruner == "hyperband":
        return optuna.pruners.HyperbandPruner(min_resource=1, max_resource=study.base.epochs)
    return optuna.pruners.NopPruner()


def _storage(study: StudyPlan):
    import warnings

    import optuna

    with warnings.catch_warnings():  # "experimental" since 2.9; lost workers rely on it
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        return optuna.storages.RDBStorage(
            study.storage,
            heartbeat_interval=study.heartbeat,
            grace_period=3 * study.heartbeat,
        )


@dataclass
class Joined:
    """A worker's handle on the study: the Optuna study, the parent run, the store."""

    study: Any
    parent_id: str
    tracker: Any
    created: bool
    #: Seconds without a heartbeat after which a trial counts as lost.
    grace: int = 30
    #: Failed trials whose MLflow run this worker has seen closed.
    checked: set[int] = dataclasses.field(default_factory=set)


def join(study: StudyPlan, echo: Callable[[str], None], identity: int | None = None) -> Joined:
    """Create the study and its parent run, or join them; refuse a name whose study
    searches something else."""
    import optuna

    from seqapps.tracking import Tracker

    # seqapps prints each trial's end itself; Optuna's warnings repeat failures with tracebacks.
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    tracker = Tracker(study.base.tracking_uri)
    storage = _storage(study)
    direction = "minimize" if study.direction == "min" else "maximize"
    try:
        created_study = optuna.create_study(
            storage=storage,
            study_name=study.name,
            direction=direction,
            sampler=_sampler(study, identity or 0),
            pruner=_pruner(study),
        )
        created = True
    except optuna.exceptions.DuplicatedStudyError:
        created = False
    if created:
        parent_id = _open_parent(study, tracker, created_study)
        return Joined(created_study, parent_id, tracker, True, 3 * study.heartbeat)
    loaded = optuna.load_study(
        study_name=study.name,
        storage=storage,
        sampler=_sampler(study, identity if identity is not None else os.getpid()),
        pruner=_pruner(study),
    )
    _check_same_study(study, loaded)
    parent_id = _wait_for_parent(loaded)
    run = tracker.get_run(parent_id)
    if run.info.status != "RUNNING":  # continued after it ended: running again
        tracker.client.update_run(parent_id, status="RUNNING")
    return Joined(loaded, parent_id, tracker, False, 3 * study.heartbeat)


def _summary_attrs(study: StudyPlan) -> dict[str, str]:
    from seqapps.search_space import describe

    return {"task": study.task, "space": describe(study.space), "monitor": study.monitor}


def _check_same_study(study: StudyPlan, loaded) -> None:
    for key, value in _summary_attrs(study).items():
        found = loaded.user_attrs.get(f"seqapps.{key}")
        if found is not None and found != value:
            raise ConfigError(
                f"--study {study.name}: that study has {key} {found!r}, this command "
                f"{value!r}; give another --study name"
            )


def _wait_for_parent(loaded, seconds: float = 60.0) -> str:
    """The parent run id, which the study's creator sets right after creating it."""
    deadline = time.monotonic() + seconds
    while True:
        parent = loaded.user_attrs.get("seqapps.parent_run_id")
        if parent:
            return parent
        if time.monotonic() > deadline:
            raise ConfigError(f"study {loaded.study_name}: it has no parent MLflow run")
        time.sleep(0.5)
        loaded = type(loaded)(loaded.study_name, loaded._storage)


def _open_parent(study: StudyPlan, tracker, optuna_study) -> str:
    """The parent run that sums the study up, and the defaults' trial queued first."""
    from seqapps.search_space import describe

    experiment_id = tracker.experiment_id(study.experiment)
    tags = {"seqapps.study": study.name, "task": study.task, "seqapps.kind": "tuning study"}
    parent_id = tracker.start_run(experiment_id, f"study {study.name}", tags)
    params = {
        "study": study.name,
        "task": study.task,
        "search": describe(study.space),
        "trials": study.trials or "",
        "timeout": study.timeout or "",
        "sampler": study.sampler,
        "pruner": study.pruner,
        "objective": study.monitor,
        "direction": study.direction,
        "storage": without_password(study.storage),
    }
    params.update({f"search.{d.name}": d.describe().split("=", 1)[1] for d in study.space})
    tracker.log_params(parent_id, params)
    tracker.log_text(parent_id, study.base.to_yaml(), "fixed_settings.yaml")
    for key, value in _summary_attrs(study).items():
        optuna_study.set_user_attr(f"seqapps.{key}", value)
    optuna_study.set_user_attr("seqapps.parent_run_id", parent_id)
    optuna_study.set_user_attr("seqapps.experiment_id", experiment_id)
    defaults = {d.name: study.fixed_value(d.name) for d in study.space}
    if all(d.contains(defaults[d.name]) for d in study.space):
        # The fixed settings are trial 0: the study can only improve on them.
        optuna_study.enqueue_trial(defaults, user_attrs={"seqapps.origin": "fixed settings"})
    return parent_id


def without_password(url: str) -> str:
    """A database URL as it may be shown and logged: user kept, password hidden."""
    head, at, tail = url.rpartition("@")
    if not at or "://" not in head:
        return url
    scheme, credentials = head.split("://", 1)
    user = credentials.split(":", 1)[0]
    return f"{scheme}://{user}:***@{tail}"


def counts(optuna_study) -> dict[str, int]:
    """How many trials are in each state (COMPLETE, PRUNED, RUNNING, FAIL, WAITING)."""
    found: dict[str, int] = {}
    for trial in optuna_study.get_trials(deepcopy=False):
        found[trial.state.name] = found.get(trial.state.name, 0) + 1
    return found


def results(found: dict[str, int]) -> int:
    return found.get("COMPLETE", 0) + found.get("PRUNED", 0)


def close_lost_trials(joined: Joined, echo: Callable[[str], None]) -> None:
    """Trials whose worker stopped without a word (killed, machine lost) are failed by their
    missing heartbeat; their MLflow runs are closed KILLED, and they are never a result."""
    import warnings

    import optuna

    with warnings.catch_warnings():  # "experimental" since 2.9; the heartbeat relies on it
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        optuna.storages.fail_stale_trials(joined.study)
    for trial in joined.study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.FAIL,)):
        run_id = trial.user_attrs.get("mlflow_run_id")
        if not run_id or trial.number in joined.checked:
            continue
        run = joined.tracker.client.get_run(run_id)
        if run.info.status == "RUNNING":
            reason = (
                f"its worker stopped without a word (no heartbeat for {joined.grace} s or more); "
                "the trial is failed and not counted"
            )
            joined.tracker.fail(run_id, reason, status="KILLED")
            echo(f"trial {trial.number}: its worker was lost; failed, not counted")
        joined.checked.add(trial.number)  # a failed trial stays failed: look once
