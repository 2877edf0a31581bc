"""The two registries (tasks and architectures) built on entry-point discovery."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from seqapps import plugins
from seqapps.archs import Arch
from seqapps.exceptions import PluginLoadError, SeqappsError
from seqapps.task import Task, check_task_class


@dataclass
class Listing:
    """One row of `seqapps tasks` / `seqapps archs`: a record, its object or its problem."""

    record: plugins.PluginRecord
    obj: Any = None
    problem: str | None = None


def task_records() -> list[plugins.PluginRecord]:
    """Installed task plugins, not imported."""
    return plugins.find_plugins(plugins.TASK_GROUP)


def arch_records() -> list[plugins.PluginRecord]:
    """Installed architecture plugins, not imported."""
    return plugins.find_plugins(plugins.ARCH_GROUP)


def _load_task(record: plugins.PluginRecord) -> type[Task]:
    return check_task_class(plugins.load(record), record.name, record.distribution)


def _load_arch(record: plugins.PluginRecord) -> Arch:
    obj = plugins.load(record)
    if not isinstance(obj, Arch):
        raise PluginLoadError(record.name, record.distribution, "entry point is not a seqapps Arch")
    if obj.name != record.name:
        raise PluginLoadError(
            record.name,
            record.distribution,
            f"entry point name {record.name!r} differs from Arch.name {obj.name!r}",
        )
    return obj


def load_task(name: str, records: list[plugins.PluginRecord] | None = None) -> type[Task]:
    """Find and import the task called ``name``."""
    records = task_records() if records is None else records
    return _load_task(plugins.select(records, name, "task"))


def load_arch(name: str, records: list[plugins.PluginRecord] | None = None) -> Arch:
    """Find and import the architecture called ``name``."""
    records = arch_records() if records is None else records
    return _load_arch(plugins.select(records, name, "arch"))


def _listing(records: list[plugins.PluginRecord], loader) -> list[Listing]:
    clashes = plugins.duplicates(records)
    rows = []
    for record in records:
        if record.name in clashes:
            rows.append(
                Listing(
                    record,
                    problem="name also claimed by "
                    + ", ".join(d for d in clashes[record.name] if d != record.distribution),
                )
            )
            continue
        try:
            rows.append(Listing(record, loader(record)))
        except SeqappsError as error:
            # A broken plugin is shown with its error; the others keep working.
            rows.append(Listing(record, problem=str(error)))
    return rows


def list_tasks(records: list[plugins.PluginRecord] | None = None) -> list[Listing]:
    """Every installed task, loaded where possible (task modules must not import TensorFlow)."""
    return _listing(task_records() if records is None else records, _load_task)


def list_archs(records: list[plugins.PluginRecord] | None = None) -> list[Listing]:
    """Every installed architecture, loaded where possible."""
    return _listing(arch_records() if records is None else records, _load_arch)


def archs_for_kind(kind: str) -> list[str]:
    """Names of the loadable architectures that serve arch kind ``kind``."""
    return [row.obj.name for row in list_archs() if row.obj is not None and row.obj.supports(kind)]
