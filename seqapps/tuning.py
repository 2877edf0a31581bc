"""`seqapps tune`: an Optuna study over run settings, every trial a child MLflow run.

    seqapps tune stock --trials 12 --jobs 2 --pruner median \\
        --search units=16..128:log --search dropout=0..0.5 --search arch=lstm,gru

The parts, in order: a ``StudyPlan`` (what to search, checked before anything trains); the
study and its parent MLflow run (opened by whichever process comes first, found by the
others); the worker loop every process runs (this one, its ``--jobs`` helpers, and any
`seqapps tune` on another machine sharing ``--storage``); and the last step, which evaluates
the best trial on the test split, once. Trials see the validation split only.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from seqapps import config as config_module
from seqapps import goals, registry
from seqapps.config import FIELD_NAMES, RunConfig
from seqapps.exceptions import ConfigError, RunInterrupted, SeqappsError, StoreLostError
from seqapps.search_space import Dimension

SAMPLERS = ("tpe", "random", "grid")
PRUNERS = ("median", "hyperband", "none")
DEFAULT_STORAGE = "sqlite:///optuna.db"
DEFAULT_TRIALS = 20
#: A worker that saw this many trials fail in a row stops: something is wrong with every one.
FAILURES_IN_A_ROW = 3
#: How often a worker waiting for the others' last trials looks again (seconds).
POLL_SECONDS = 2.0


@dataclass
class StudyPlan:
    """Everything a worker needs to join the study (picklable: --jobs helpers get a copy)."""

    task_class: type
    base: RunConfig
    flags: dict[str, Any]
    file_values: dict[str, Any]
    config_file: str
    set_values: dict[str, Any]
    space: list[Dimension]
    trials: int | None
    timeout: float | None
    sampler: str
    pruner: str
    jobs: int
    storage: str
    name: str
    monitor: str
    direction: str
    experiment: str
    heartbeat: int = 10

    def config_for(self, point: dict[str, Any]) -> RunConfig:
        """The run settings of one trial: the fixed ones with ``point`` on top."""
        task_cls = self.task_class
        flags = dict(self.flags)
        set_values = dict(self.set_values)
        for name, value in point.items():
            (flags if name in FIELD_NAMES else set_values)[name] = value
        return config_module.resolve(
            task_cls,
            flags,
            self.file_values,
            set_values,
            self.config_file,
            load_arch=registry.load_arch,
        )

    @property
    def task(self) -> str:
        """The task's name."""
        return self.task_class.name

    def fixed_value(self, name: str) -> Any:
        """What a searched setting is when it is not searched (the defaults' trial)."""
        if name in FIELD_NAMES:
            return getattr(self.base, name)
        return self.base.options.get(name)


def plan(
    task_cls: type,
    flags: dict[str, Any],
    file_values: dict[str, Any],
    config_file: str,
    set_values: dict[str, Any],
    space: list[Dimension],
    trials: int | None = None,
    timeout: float | None = None,
    sampler: str = "tpe",
    pruner: str = "median",
    jobs: int = 1,
    storage: str | None = None,
    name: str | None = None,
    heartbeat: int = 10,
) -> StudyPlan:
    """Check a study before anything trains: every searched name, both ends of every range
    and every choice must make a valid run of ``task``."""
    from seqapps.run_setup import check_arch

    task = task_cls.name
    if not space:
        raise ConfigError("give at least one --search NAME=SPEC, e.g. --search units=16..256:log")
    if trials is not None and trials < 1:
        raise ConfigError(f"--trials must be at least 1, got {trials}")
    if timeout is not None and timeout <= 0:
        raise ConfigError(f"--timeout must be above 0 seconds, got {timeout}")
    if jobs < 1:
        raise ConfigError(f"--jobs must be at least 1, got {jobs}")
    if sampler == "grid":
        ranges = [d.describe() for d in space if not d.choices]
        if ranges:
            raise ConfigError(
                f"--sampler grid needs choices (A,B,C) for every --search; {ranges[0]} is a range"
            )
    if trials is None and timeout is None:
        trials = _grid_size(space) if sampler == "grid" else DEFAULT_TRIALS
    storage = check_storage(storage or DEFAULT_STORAGE)
    study = StudyPlan(
        task_cls, None, flags, file_values, config_file, set_values, space, trials, timeout,
        sampler, pruner, jobs, storage, name or "", "", "", "", heartbeat,
    )  # fmt: skip
    study.base = study.config_for({})
    if study.base.strategy == "multi-worker":
        raise ConfigError("--strategy multi-worker: a study spreads trials over machines itself")
    for point in _corners(space):
        try:
            check_arch(task_cls, study.config_for(point))
        except SeqappsError as error:
            shown = " ".join(f"{k}={v}" for k, v in point.items())
            raise ConfigError(f"--search {shown}: {error}") from None
    study.monitor = study.base.monitor
    study.direction = goals.goal(study.monitor, task_cls.metric_goals)
    study.experiment = study.base.experiment or f"tune-{task}"
    study.name = name or default_name(study)
    return study


def _grid_size(space: list[Dimension]) -> int:
    size = 1
    for dimension in space:
        size *= len(dimension.choices)
    return size


def _corners(space: list[Dimension]) -> list[dict[str, Any]]:
    """Each searched value at its ends, beside every arch choice when the arch is searched
    (an arch's options are only valid with that arch)."""
    archs = next((d.choices for d in space if d.name == "arch"), (None,))
    points = []
    for arch in archs:
        base = {} if arch is None else {"arch": arch}
        points.append(base)
        for dimension in space:
            if dimension.name != "arch":
                points += [{**base, dimension.name: value} for value in dimension.corners()]
    return points


def check_storage(url: str) -> str:
    """An Optuna RDB URL (sqlite for one machine, postgresql or mysql for several), with a
    sqlite file's folder checked now rather than after the first trial."""
    from pathlib import Path

    scheme = url.split(":", 1)[0].split("+", 1)[0]
    if scheme not in ("sqlite", "postgresql", "mysql"):
        raise ConfigError(
            f"--storage {url}: expected a database URL, sqlite:///FILE for one machine or "
            "postgresql://... / mysql://... shared by several"
        )
    if scheme == "sqlite":
        path = url.split("///", 1)[1] if "///" in url else ""
        if not path:
            raise ConfigError(f"--storage {url}: expected sqlite:///FILE")
        folder = Path(path).expanduser().resolve().parent
        if not folder.is_dir():
            raise ConfigError(f"--storage {url}: folder {folder} does not exist")
    return url


def default_name(study: StudyPlan) -> str:
    """The same command names the same study (so running it again continues it)."""
    from seqapps.search_space import describe
    from seqapps.sweeps import identity

    key = f"{identity(study.base)}\n{describe(study.space)}\n{study.monitor}"
    return f"{study.task}-{hashlib.sha256(key.encode()).hexdigest()[:8]}"


class TrialLink:
    """What a trial's run tells the study: its MLflow run id, each epoch's validation
    value (the pruner decides on it), and whether it was pruned."""

    def __init__(self, trial, monitor: str):
        self.trial, self.monitor = trial, monitor
        self.key = monitor.removeprefix("train_")
        self.pruned_after = 0
        self.prune_reason = ""
        self.run_id = ""

    @property
    def number(self) -> int:
        """The trial's number in the study."""
        return self.trial.number

    def opened(self, run_id: str) -> None:
        """The run is open: remember it, so a lost worker's run can be closed by another."""
        self.run_id = run_id
        self.trial.set_user_attr("mlflow_run_id", run_id)

    def report_epoch(self, epoch: int, logs: dict[str, float]) -> bool:
        """Report this epoch's value; True when the pruner says stop."""
        value = logs.get(self.key)
        if value is None and self.key == "val_loss":
            value = logs.get("loss")
        if value is None or value != value or abs(value) == float("inf"):
            return False
        self.trial.report(float(value), epoch)
        if not self.trial.should_prune():
            return False
        self.pruned_after = epoch
        self.prune_reason = (
            f"pruned after epoch {epoch}: {self.monitor} {value:.4g} was worse than the "
            "pruner allows at that epoch"
        )
        return True


class _Surplus(Exception):
    """The study already has its trials: this one is not run (another worker was first)."""


class _TrialFailed(Exception):
    """A trial's run failed; recorded on the trial and its run, the study goes on."""


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

    optuna.logging.set_verbosity(optuna.logging.WARNING)
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
        "storage": _without_password(study.storage),
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


def _without_password(url: str) -> str:
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


def _results(found: dict[str, int]) -> int:
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


def work(study: StudyPlan, joined: Joined, echo: Callable[[str], None], worker: str = "") -> None:
    """Run trials until the study has its count (or --timeout passes), waiting for the
    other workers' last trials rather than starting surplus ones."""
    from seqapps import training

    task_cls = study.task_class
    started = time.monotonic()
    failures = 0
    label = f" ({worker})" if worker else ""

    def objective(trial):
        return _run_trial(study, joined, task_cls, training, trial, echo, label)

    while True:
        close_lost_trials(joined, echo)
        found = counts(joined.study)
        if study.trials and _results(found) >= study.trials:
            return
        if study.timeout and time.monotonic() - started >= study.timeout:
            echo(f"--timeout {study.timeout:g} s reached{label}: no new trials")
            return
        if study.trials and _results(found) + found.get("RUNNING", 0) >= study.trials:
            time.sleep(POLL_SECONDS)  # the last trials are the other workers'
            continue
        before = len(joined.study.get_trials(deepcopy=False))
        joined.study.optimize(objective, n_trials=1, catch=(_Surplus, _TrialFailed))
        last = joined.study.get_trials(deepcopy=False)[before:]
        mine = [t for t in last if t.user_attrs.get("seqapps.worker") == f"{os.getpid()}"]
        if mine and mine[-1].state.name == "FAIL" and not mine[-1].user_attrs.get("surplus"):
            failures += 1
            if failures >= FAILURES_IN_A_ROW:
                raise _every_trial_fails(mine[-1])
        elif mine:
            failures = 0


def _every_trial_fails(trial) -> SeqappsError:
    from seqapps.exceptions import TrainingError

    reason = trial.user_attrs.get("seqapps.reason", "see the failed trials' runs")
    return TrainingError(f"{FAILURES_IN_A_ROW} trials in a row failed; the last: {reason}")


def _run_trial(study, joined, task_cls, training, trial, echo, label) -> float:
    """One trial: a child run of the parent with the sampled settings, judged on its best
    validation epoch."""
    import optuna

    from seqapps.sweeps import short_name

    trial.set_user_attr("seqapps.worker", f"{os.getpid()}")
    states = (
        optuna.trial.TrialState.COMPLETE,
        optuna.trial.TrialState.PRUNED,
        optuna.trial.TrialState.RUNNING,
    )
    if study.trials:
        ahead = [
            t
            for t in joined.study.get_trials(deepcopy=False, states=states)
            if t.number < trial.number
        ]
        if len(ahead) >= study.trials:
            trial.set_user_attr("surplus", True)
            raise _Surplus(f"the study already has its {study.trials} trials")
    point = {d.name: d.suggest(trial) for d in study.space}
    rounded = {k: _short(v) for k, v in point.items()}
    shown = " ".join(f"{k}={v}" for k, v in rounded.items())
    try:
        config = study.config_for(point)
    except SeqappsError as error:
        trial.set_user_attr("seqapps.reason", str(error))
        echo(f"trial {trial.number}{label}: {shown}: FAILED: {error}")
        raise _TrialFailed(str(error)) from None
    config = dataclasses.replace(
        config,
        tracking_uri=joined.tracker.uri,
        experiment=study.experiment,
        verbose=0,
        run_name=f"t{trial.number} " + short_name(study.task, rounded),
    )
    tags = {
        "mlflow.parentRunId": joined.parent_id,
        "seqapps.study": study.name,
        "seqapps.trial": str(trial.number),
        **{f"seqapps.swept.{k}": str(v) for k, v in point.items()},
    }
    if trial.user_attrs.get("seqapps.origin"):
        tags["seqapps.trial_origin"] = trial.user_attrs["seqapps.origin"]
    link = TrialLink(trial, study.monitor)
    echo(f"trial {trial.number}{label}: {shown}")
    began = time.perf_counter()
    try:
        result = training.run(
            task_cls,
            config,
            echo=lambda _line: None,
            tags=tags,
            epoch_echo=lambda line: echo(f"trial {trial.number}{label}: {line}"),
            trial=link,
        )
    except (RunInterrupted, StoreLostError):
        raise
    except SeqappsError as error:
        trial.set_user_attr("seqapps.reason", str(error))
        echo(f"trial {trial.number}{label}: FAILED: {error}")
        raise _TrialFailed(str(error)) from None
    seconds = time.perf_counter() - began
    if link.pruned_after:
        echo(f"trial {trial.number}{label}: {link.prune_reason} ({seconds:.0f} s)")
        raise optuna.TrialPruned(link.prune_reason)
    value = result.metrics.get(study.monitor)
    if value is None:
        trial.set_user_attr("seqapps.reason", f"no finite {study.monitor} in any epoch")
        raise _TrialFailed(f"no finite {study.monitor} in any epoch")
    best = _best_so_far(joined.study, study.direction, value)
    echo(
        f"trial {trial.number}{label}: {study.monitor} {value:.4f} ({seconds:.0f} s; best so "
        f"far {best:.4f})"
    )
    return value


def _best_so_far(optuna_study, direction: str, value: float) -> float:
    import optuna

    done = optuna_study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
    values = [t.value for t in done] + [value]
    return min(values) if direction == "min" else max(values)


def _short(value: Any) -> Any:
    """A float to 3 significant digits, for names and progress lines."""
    return float(f"{value:.3g}") if isinstance(value, float) else value


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

    from seqapps import training
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
    parent = tracker.get_run(parent_id)
    metrics = {f"best_trial.{study.monitor}": best.value, "best_trial.number": best.number}
    if parent.data.tags.get("seqapps.tested_trial") == str(best.number):
        tested = {k: v for k, v in parent.data.metrics.items() if k.startswith("best_trial.test_")}
        echo(f"trial {best.number} was evaluated on the test split already")
    else:
        echo(f"best: trial {best.number}; evaluating it on the test split (its first read)")
        config = dataclasses.replace(
            study.config_for(best.params),
            tracking_uri=tracker.uri,
            experiment=study.experiment,
            verbose=0,
        )
        quiet = lambda _line: None  # noqa: E731
        result = training.evaluate_trial(study.task_class, config, best_run, echo=quiet)
        tested = {f"best_trial.{k}": v for k, v in result.metrics.items() if k.startswith("test_")}
        tracker.set_tags(parent_id, {"seqapps.tested_trial": str(best.number)})
    tracker.log_metrics(parent_id, {**metrics, **tested})
    tracker.finish(parent_id)
    declared = study.task_class.headline_metrics
    shown = declared or sorted(k.removeprefix("best_trial.") for k in tested)
    scores = ", ".join(
        f"{k} {tested[f'best_trial.{k}']:.4f}" for k in shown if f"best_trial.{k}" in tested
    )
    settings = " ".join(f"{k}={_short(v)}" for k, v in best.params.items())
    return [
        f"study {study.name} FINISHED: {_states_line(found)} (parent run {parent_id})",
        f"best: trial {best.number}, {study.monitor} {best.value:.4f}: {settings}",
        f"test (best trial, run {best_run}): {scores}",
        f"again: {_command(study, best.params)}",
        f"view: {ui_command(tracker.uri)}",
    ]


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


def limit_threads(jobs: int) -> None:
    """Share the cores between --jobs processes: each TensorFlow gets its part (set before
    TensorFlow loads; it reads these once)."""
    if jobs <= 1:
        return
    share = max(1, (os.cpu_count() or 1) // jobs)
    os.environ.setdefault("TF_NUM_INTRAOP_THREADS", str(share))
    os.environ.setdefault("TF_NUM_INTEROP_THREADS", "1")


def helper_main(study: StudyPlan, index: int) -> None:
    """A --jobs helper process: join the study and work until it is done."""
    import signal
    import sys

    limit_threads(study.jobs)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the main process tells helpers when to stop

    def echo(line: str) -> None:
        print(line, flush=True)

    try:
        joined = join(study, echo, identity=index)
        work(study, joined, echo, worker=f"worker {index}")
    except RunInterrupted:
        sys.exit(130)
    except SeqappsError as error:
        echo(f"worker {index}: {error}")
        sys.exit(1)
