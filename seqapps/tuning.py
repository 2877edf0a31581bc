"""`seqapps tune`: the plan of an Optuna study over run settings, checked before anything trains.

    seqapps tune stock --trials 12 --jobs 2 --pruner median \\
        --search units=16..128:log --search dropout=0..0.5 --search arch=lstm,gru

A study goes: a ``StudyPlan`` (here: what to search, every corner of the space checked);
the study and its parent MLflow run (``study_store``: opened by whichever process comes
first, found by the others); the worker loop every process runs (``study_worker``: this
one, its ``--jobs`` helpers, and any `seqapps tune` on another machine sharing
``--storage``); and the last step (``study_end``), which evaluates the best trial on the test
split, once. Trials see the validation split only.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from typing import Any

from seqapps import config as config_module
from seqapps import goals, registry
from seqapps.config import FIELD_NAMES, RunConfig
from seqapps.exceptions import ConfigError, SeqappsError
from seqapps.search_space import Dimension

SAMPLERS = ("tpe", "random", "grid")
PRUNERS = ("median", "hyperband", "none")
DEFAULT_STORAGE = "sqlite:///optuna.db"
DEFAULT_TRIALS = 20


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


@dataclass
class FixedSettings:
    """The settings every trial shares, as given: `seqapps run`'s flags, a --config file's
    values, --set options."""

    flags: dict[str, Any]
    file_values: dict[str, Any] = field(default_factory=dict)
    config_file: str = ""
    set_values: dict[str, Any] = field(default_factory=dict)


@dataclass
class StudySettings:
    """How the study searches and where it keeps its trials (`seqapps tune`'s own options)."""

    trials: int | None = None
    timeout: float | None = None
    sampler: str = "tpe"
    pruner: str = "median"
    jobs: int = 1
    storage: str | None = None
    name: str | None = None
    heartbeat: int = 10


def plan(
    task_cls: type, fixed: FixedSettings, space: list[Dimension], settings: StudySettings
) -> StudyPlan:
    """Check a study before anything trains: every searched name, both ends of every range
    and every choice must make a valid run of ``task``."""
    from seqapps.run_setup import check_arch

    task = task_cls.name
    trials, timeout, sampler = settings.trials, settings.timeout, settings.sampler
    if not space:
        raise ConfigError("give at least one --search NAME=SPEC, e.g. --search units=16..256:log")
    if trials is not None and trials < 1:
        raise ConfigError(f"--trials must be at least 1, got {trials}")
    if timeout is not None and timeout <= 0:
        raise ConfigError(f"--timeout must be above 0 seconds, got {timeout}")
    if settings.jobs < 1:
        raise ConfigError(f"--jobs must be at least 1, got {settings.jobs}")
    if sampler == "grid":
        ranges = [d.describe() for d in space if not d.choices]
        if ranges:
            raise ConfigError(
                f"--sampler grid needs choices (A,B,C) for every --search; {ranges[0]} is a range"
            )
    if trials is None and timeout is None:
        trials = _grid_size(space) if sampler == "grid" else DEFAULT_TRIALS
    study = StudyPlan(
        task_cls, None, fixed.flags, fixed.file_values, fixed.config_file, fixed.set_values,
        space, trials, timeout, sampler, settings.pruner, settings.jobs,
        check_storage(settings.storage or DEFAULT_STORAGE), "", "", "", "", settings.heartbeat,
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
    study.name = settings.name or default_name(study)
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

    ignored = {"run_name", "experiment", "tracking_uri", "output_dir", "verbose"}
    key = f"{config_module.identity(study.base, ignored)}\n{describe(study.space)}\n{study.monitor}"
    return f"{study.task}-{hashlib.sha256(key.encode()).hexdigest()[:8]}"


def limit_threads(jobs: int) -> None:
    """Share the cores between --jobs processes: each TensorFlow gets its part (set before
    TensorFlow loads; it reads these once)."""
    if jobs <= 1:
        return
    share = max(1, (os.cpu_count() or 1) // jobs)
    os.environ.setdefault("TF_NUM_INTRAOP_THREADS", str(share))
    os.environ.setdefault("TF_NUM_INTEROP_THREADS", "1")
