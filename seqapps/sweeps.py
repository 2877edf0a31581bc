"""Declarative sweeps: a YAML file of tasks, fixed params and variations, run as nested runs.

    seqapps pipeline run pipelines/sentiment-archs.yaml
    seqapps pipeline run pipelines/smoke.yaml --dry-run

A pipeline file:

    name: sentiment-archs          # optional; default: the file name
    task: sentiment                # or tasks: [sentiment, stock], or tasks: all
    experiment: sentiment-archs    # optional; default: pipeline-<name>
    params: {epochs: 6, max_tokens: 5000}   # run settings and task/arch options
    grid: {arch: [bilstm, lstm, bow], seed: [1, 2]}        # every combination
    variations: [{arch: esn, spectral_radius: 0.95}]       # and/or a list of settings

Every combination is resolved and validated before anything trains. Children run under
one MLflow parent run; a failed child is recorded and the others go on; running the same
pipeline again continues under the same parent and skips children already FINISHED.
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from seqapps import config as config_module
from seqapps import registry
from seqapps.config import FIELD_NAMES, RunConfig
from seqapps.exceptions import ConfigError, SeqappsError

TOP_KEYS = (
    "name",
    "description",
    "task",
    "tasks",
    "experiment",
    "params",
    "grid",
    "variations",
    "search",
    "study",
)
#: Keys of a pipeline's ``study:`` mapping (`seqapps tune`'s options of the same names).
STUDY_KEYS = ("trials", "timeout", "sampler", "pruner", "jobs", "storage", "name")
# Settings that identify where a run is logged, not what it trains.
NOT_PART_OF_IDENTITY = {
    "run_name",
    "experiment",
    "tracking_uri",
    "output_dir",
    "verbose",
    "register_model",
}


@dataclass
class Child:
    """One run of a pipeline: its task, resolved config, a readable label and a stable key."""

    task: str
    config: RunConfig
    label: str
    key: str
    #: The swept values (grid or variation) that make this child.
    point: dict[str, Any] = field(default_factory=dict)


@dataclass
class Pipeline:
    """A validated pipeline, expanded into its children."""

    name: str
    path: Path
    experiment: str
    children: list[Child]
    text: str
    #: A file with ``search:`` is a tuning study (a ``tuning.StudyPlan``), not children.
    study: Any = None
    key: str = field(init=False)

    def __post_init__(self):
        joined = "\n".join(child.key for child in self.children)
        self.key = hashlib.sha256(f"{self.name}\n{joined}".encode()).hexdigest()[:16]


def _fail(path: Path, message: str) -> ConfigError:
    return ConfigError(f"pipeline {path}: {message}")


def _read_yaml(path: Path) -> tuple[dict[str, Any], str]:
    import yaml

    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise _fail(path, f"cannot read ({error.strerror})") from None
    try:
        loaded = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise _fail(path, f"invalid YAML{where}: {getattr(error, 'problem', error)}") from None
    if not isinstance(loaded, dict):
        raise _fail(path, "expected a mapping with task, params, grid or variations")
    unknown = sorted(set(loaded) - set(TOP_KEYS))
    if unknown:
        raise _fail(path, f"unknown key {unknown[0]!r}; allowed: {', '.join(TOP_KEYS)}")
    return loaded, text


def _settings(value: Any, path: Path, where: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise _fail(path, f"{where} must be a mapping of settings")
    flat = {}
    for key, item in value.items():
        if key == "options":
            if not isinstance(item, dict):
                raise _fail(path, f"{where}.options must be a mapping")
            flat.update(item)
        else:
            flat[str(key).replace("-", "_")] = item
    return flat


def _combinations(loaded: dict[str, Any], path: Path) -> list[dict[str, Any]]:
    grid = loaded.get("grid")
    variations = loaded.get("variations")
    points: list[dict[str, Any]] = [{}]
    if grid is not None:
        if not isinstance(grid, dict) or not grid:
            raise _fail(path, "grid is empty; give each key a list of values")
        for key, values in grid.items():
            if not isinstance(values, list) or not values:
                raise _fail(path, f"grid key {key!r} has no values; give it a non-empty list")
        keys = list(grid)
        points = [
            _settings(dict(zip(keys, combo)), path, "grid")
            for combo in itertools.product(*(grid[k] for k in keys))
        ]
    if variations is not None:
        if not isinstance(variations, list) or not variations:
            raise _fail(path, "variations is empty; give a list of settings mappings")
        variants = [_settings(v, path, f"variations[{i}]") for i, v in enumerate(variations)]
        points = [{**point, **variant} for point in points for variant in variants]
    return points


def _loadable_tasks() -> list[str]:
    """Names of the installed tasks that load; a broken plugin is skipped with a warning."""
    import warnings

    from seqapps.exceptions import PluginWarning

    names = []
    for row in registry.list_tasks():
        if row.problem:
            warning = f"tasks: all skips {row.record.name!r}: {row.problem}"
            warnings.warn(warning, PluginWarning, stacklevel=2)
        else:
            names.append(row.record.name)
    return names


def load(path: str | Path, overrides: dict[str, Any] | None = None) -> Pipeline:
    """Read, expand and validate a pipeline file; ``overrides`` (from --set) win over it."""
    path = Path(path)
    loaded, text = _read_yaml(path)
    if "search" in loaded or "study" in loaded:
        return _study(loaded, path, text, overrides or {})
    tasks = loaded.get("tasks", loaded.get("task"))
    if tasks == "all":  # every installed task that loads, third-party ones included
        tasks = _loadable_tasks()
    tasks = [tasks] if isinstance(tasks, str) else tasks
    if not tasks or not all(isinstance(t, str) for t in tasks):
        raise _fail(path, "name the task to run with `task: NAME` or `tasks: [A, B]`")
    name = str(loaded.get("name") or path.stem)
    experiment = str(loaded.get("experiment") or f"pipeline-{name}")
    params = _settings(loaded.get("params"), path, "params")
    points = _combinations(loaded, path)
    varied = sorted({key for point in points for key in point})
    children = []
    for task in tasks:
        try:
            task_cls = registry.load_task(task)
        except SeqappsError as error:
            raise _fail(path, str(error)) from None
        for point in points:
            settings = {**params, **point, **(overrides or {})}
            flags = {k: v for k, v in settings.items() if k in FIELD_NAMES and k != "options"}
            options = {k: v for k, v in settings.items() if k not in FIELD_NAMES}
            flags["experiment"] = experiment
            flags.setdefault("verbose", 0)  # one progress line per child, not per epoch
            label = " ".join(f"{k}={point[k]}" for k in varied if k in point) or "(defaults)"
            if len(tasks) > 1:
                label = f"{task} {label}"
            try:
                resolved = config_module.resolve(
                    task_cls, flags, set_values=options, load_arch=registry.load_arch
                )
                from seqapps.run_setup import check_arch

                check_arch(task_cls, resolved)
            except SeqappsError as error:
                raise _fail(path, f"{label}: {error}") from None
            resolved.run_name = resolved.run_name or short_name(task, point, len(tasks) > 1)
            key = config_module.identity(resolved, NOT_PART_OF_IDENTITY)
            children.append(Child(task, resolved, label, key, point))
    _distinct_names(children)
    return Pipeline(name, path, experiment, children, text)


def _study(loaded: dict[str, Any], path: Path, text: str, overrides: dict[str, Any]) -> Pipeline:
    """A pipeline file with ``search:``: one `seqapps tune` study, checked like the CLI's."""
    from seqapps import search_space, tuning

    if loaded.get("grid") is not None or loaded.get("variations") is not None:
        raise _fail(path, "search excludes grid and variations: a study samples the space")
    if "search" not in loaded:
        raise _fail(path, "study settings without a search: add `search: {units: 16..128}`")
    task = loaded.get("task")
    if not isinstance(task, str) or "tasks" in loaded:
        raise _fail(path, "a search studies one task: name it with `task: NAME`")
    try:
        task_cls = registry.load_task(task)
    except SeqappsError as error:
        raise _fail(path, str(error)) from None
    name = str(loaded.get("name") or path.stem)
    settings = {**_settings(loaded.get("params"), path, "params"), **overrides}
    flags = {k: v for k, v in settings.items() if k in FIELD_NAMES and k != "options"}
    options = {k: v for k, v in settings.items() if k not in FIELD_NAMES}
    flags["experiment"] = str(loaded.get("experiment") or f"pipeline-{name}")
    chosen = loaded.get("study") or {}
    if not isinstance(chosen, dict):
        raise _fail(path, f"study must be a mapping of {', '.join(STUDY_KEYS)}")
    unknown = sorted(set(chosen) - set(STUDY_KEYS))
    if unknown:
        raise _fail(path, f"study: unknown key {unknown[0]!r}; allowed: {', '.join(STUDY_KEYS)}")
    choices = {"sampler": tuning.SAMPLERS, "pruner": tuning.PRUNERS}
    for key, allowed in choices.items():
        if key in chosen and chosen[key] not in allowed:
            shown = ", ".join(allowed)
            raise _fail(path, f"study: {key} {chosen[key]!r} is not one of {shown}")
    try:
        space = search_space.from_mapping(loaded["search"], f"pipeline {path}")
        settings = tuning.StudySettings(
            trials=chosen.get("trials"),
            timeout=chosen.get("timeout"),
            sampler=chosen.get("sampler", "tpe"),
            pruner=chosen.get("pruner", "median"),
            jobs=int(chosen.get("jobs", 1)),
            storage=chosen.get("storage"),
            name=chosen.get("name"),
        )
        study = tuning.plan(
            task_cls, tuning.FixedSettings(flags, set_values=options), space, settings
        )
    except SeqappsError as error:
        message = str(error).removeprefix(f"pipeline {path}: ")
        raise _fail(path, message) from None
    return Pipeline(name, path, study.experiment, [], text, study=study)


#: How a swept setting shows in a child's name: ``bilstm u128 s1``, not ``arch=bilstm
#: units=128 seed=1`` (the MLflow runs table shows about 24 characters of a name).
_SHORT_KEYS = {
    "arch": "",
    "units": "u",
    "layers": "l",
    "seed": "s",
    "dropout": "d",
    "epochs": "e",
    "batch_size": "b",
    "learning_rate": "lr",
    "max_samples": "n",
    "patience": "p",
}
NAME_LIMIT = 24


def short_name(task: str, point: dict[str, Any], several_tasks: bool = False) -> str:
    """A child's run name: the swept values, arch first, keys shortened; the task leads
    when the pipeline runs several."""
    keys = sorted(point, key=lambda k: (k != "arch", k))
    parts = [f"{_short_key(k)}{point[k]}" for k in keys]
    if several_tasks or not parts:
        parts.insert(0, task)
    return " ".join(parts)[:NAME_LIMIT].rstrip()


def _short_key(key: str) -> str:
    """units -> u; a task option of several words by its initials (validation_fraction ->
    vf); one word stays whole (window=)."""
    if key in _SHORT_KEYS:
        return _SHORT_KEYS[key]
    words = key.split("_")
    return "".join(w[0] for w in words if w) if len(words) > 1 else f"{key}="


def _distinct_names(children: list[Child]) -> None:
    """Names cut to the limit may collide: number the later ones."""
    seen: dict[str, int] = {}
    for child in children:
        name = child.config.run_name
        if name in seen:
            seen[name] += 1
            suffix = f" #{seen[name]}"
            child.config.run_name = name[: NAME_LIMIT - len(suffix)].rstrip() + suffix
        else:
            seen[name] = 1


@dataclass
class Outcome:
    """What happened to one child."""

    child: Child
    status: str  # FINISHED, FAILED, SKIPPED
    run_id: str | None = None
    metrics: dict[str, float] = field(default_factory=dict)
    seconds: float = 0.0
    error: str | None = None
    #: The metrics shown in the progress line (the task's headline metrics).
    headline: tuple[str, ...] = ()


def _find_parent(tracker, experiment_id: str, key: str) -> str | None:
    runs = tracker.client.search_runs(
        [experiment_id],
        filter_string=f"tags.`seqapps.pipeline_key` = '{key}'",
        order_by=["attributes.start_time DESC"],
        max_results=1,
    )
    return runs[0].info.run_id if runs else None


def _children_of(tracker, experiment_id: str, parent_id: str):
    return tracker.client.search_runs(
        [experiment_id], filter_string=f"tags.`mlflow.parentRunId` = '{parent_id}'"
    )


def run(
    pipeline: Pipeline,
    tracking_uri: str | None = None,
    echo: Callable[[str], None] = print,
) -> tuple[str, list[Outcome]]:
    """Run every child not already FINISHED under one parent run; return (parent id, outcomes)."""
    from seqapps.tracking import Tracker

    tracker = Tracker(tracking_uri)
    parent_id, finished = _open_parent(tracker, pipeline, echo)
    outcomes = []
    total = len(pipeline.children)
    started = time.monotonic()
    try:
        for index, child in enumerate(pipeline.children, 1):
            prefix = f"[{index}/{total}] {child.config.run_name}"
            if child.key in finished:
                outcomes.append(Outcome(child, "SKIPPED", finished[child.key]))
                echo(f"{prefix}: skipped, already FINISHED ({finished[child.key]})")
                continue
            echo(f"{prefix}: running ({total - index} after this)")
            outcome = _run_child(child, pipeline.name, tracker, parent_id, prefix, echo)
            outcomes.append(outcome)
            echo(f"{prefix}: {_outcome_line(outcome)}")
            trained = [o for o in outcomes if o.status != "SKIPPED"]
            echo(_time_line(time.monotonic() - started, trained, total - index))
    except KeyboardInterrupt:
        tracker.fail(parent_id, "interrupted by the user (Ctrl-C)", "KILLED")
        raise
    failed = [o for o in outcomes if o.status == "FAILED"]
    if failed:
        tracker.fail(parent_id, "failed children: " + "; ".join(o.child.label for o in failed))
    else:
        tracker.finish(parent_id)
    return parent_id, outcomes


def _open_parent(tracker, pipeline: Pipeline, echo) -> tuple[str, dict[str, str]]:
    """The parent run (new, or the one this file made before) and its FINISHED children by
    key; children an interrupted pipeline left RUNNING are marked KILLED."""
    experiment_id = tracker.experiment_id(pipeline.experiment)
    parent_id = _find_parent(tracker, experiment_id, pipeline.key)
    total = len(pipeline.children)
    if parent_id is None:
        tags = {"seqapps.pipeline": pipeline.name, "seqapps.pipeline_key": pipeline.key}
        parent_id = tracker.start_run(experiment_id, pipeline.name, tags)
        tracker.log_params(parent_id, {"pipeline": pipeline.name, "children": total})
        tracker.log_text(parent_id, pipeline.text, "pipeline.yaml")
        echo(f"pipeline {pipeline.name}: parent run {parent_id} ({total} runs)")
        return parent_id, {}
    tracker.client.update_run(parent_id, status="RUNNING")
    finished = {}
    for run in _children_of(tracker, experiment_id, parent_id):
        key = run.data.tags.get("seqapps.child_key")
        if run.info.status == "FINISHED" and key:
            finished[key] = run.info.run_id
        elif run.info.status == "RUNNING":  # left behind by an interrupted pipeline
            tracker.fail(run.info.run_id, "interrupted; the pipeline was run again", "KILLED")
    echo(
        f"pipeline {pipeline.name}: continuing parent run {parent_id} "
        f"({len(finished)} of {total} already finished)"
    )
    return parent_id, finished


def _clock(seconds: float) -> str:
    """m:ss, or h:mm:ss from an hour on."""
    hours, rest = divmod(int(seconds), 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"


def _time_line(elapsed: float, trained: list[Outcome], left: int) -> str:
    """Elapsed time, and what is left at the mean pace of the children trained so far."""
    line = f"      elapsed {_clock(elapsed)}"
    if left and trained:
        pace = sum(o.seconds for o in trained) / len(trained)
        line += f", about {_clock(pace * left)} left for {left} more"
    return line


def _run_child(
    child: Child, pipeline_name: str, tracker, parent_id: str, prefix: str, echo
) -> Outcome:
    """Train one child under the parent, a line per epoch; a failure is recorded, not raised."""
    from seqapps import training

    started = time.perf_counter()
    task_cls = registry.load_task(child.task)
    tags = {
        "seqapps.child_key": child.key,
        "seqapps.pipeline": pipeline_name,
        "mlflow.parentRunId": parent_id,
    }
    tags.update({f"seqapps.swept.{k}": str(v) for k, v in child.point.items()})
    # Children log to the parent's store, whatever the file or environment says.
    child_config = dataclasses.replace(child.config, tracking_uri=tracker.uri)
    try:
        result = training.run(
            task_cls,
            child_config,
            echo=lambda _line: None,
            tags=tags,
            epoch_echo=lambda line: echo(f"{prefix}: {line}"),
        )
    except SeqappsError as error:  # recorded on the child run; the others go on
        return Outcome(child, "FAILED", None, {}, time.perf_counter() - started, str(error))
    seconds = time.perf_counter() - started
    outcome = Outcome(child, "FINISHED", result.run_id, result.metrics, seconds)
    outcome.headline = task_cls.headline_metrics[:2]
    return outcome


def _outcome_line(outcome: Outcome) -> str:
    if outcome.status == "FAILED":
        return f"FAILED after {outcome.seconds:.1f} s: {outcome.error}"
    metrics = outcome.metrics
    shown = outcome.headline or [k for k in metrics if k.startswith("test_")][:2]
    scores = ", ".join(f"{k} {metrics[k]:.4f}" for k in shown if k in metrics)
    return f"FINISHED in {outcome.seconds:.1f} s: {scores}"
