"""Entry-point discovery: find plugins without importing them, load one on demand.

Two groups are read, and built-in tasks and architectures are registered in them exactly
like a third party's:

- ``seqapps.tasks``: ``name = package.module:TaskClass`` (a subclass of seqapps.task.Task)
- ``seqapps.archs``: ``name = package.module:ARCH`` (an instance of seqapps.archs.Arch)

Set ``SEQAPPS_TRACE_PLUGINS=1`` to print each discovery and load to stderr.
"""

from __future__ import annotations

import importlib.metadata
import os
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from seqapps.exceptions import DuplicatePluginError, PluginLoadError, UnknownNameError

TASK_GROUP = "seqapps.tasks"
ARCH_GROUP = "seqapps.archs"


@dataclass(frozen=True, order=True)
class PluginRecord:
    """A plugin found in packaging metadata, not yet imported."""

    name: str
    distribution: str
    version: str
    group: str = field(compare=False)
    entry_point: importlib.metadata.EntryPoint = field(compare=False, repr=False)

    @property
    def target(self) -> str:
        """The ``module:attribute`` the entry point names."""
        return self.entry_point.value


def _trace(message: str) -> None:
    if os.environ.get("SEQAPPS_TRACE_PLUGINS"):
        print(f"[seqapps plugins] {message}", file=sys.stderr)


def _record_for(entry_point: importlib.metadata.EntryPoint, group: str) -> PluginRecord:
    dist = getattr(entry_point, "dist", None)
    name = dist.metadata["Name"] if dist is not None else "(unknown distribution)"
    version = dist.version if dist is not None else "?"
    return PluginRecord(entry_point.name, name, version, group, entry_point)


def find_plugins(
    group: str, entry_points: Iterable[importlib.metadata.EntryPoint] | None = None
) -> list[PluginRecord]:
    """Return every plugin registered in ``group``, sorted by name, without importing any.

    ``entry_points`` replaces the installed ones (tests build EntryPoint objects directly).
    """
    if entry_points is None:
        entry_points = importlib.metadata.entry_points(group=group)
    seen: set[tuple[str, str]] = set()
    records = []
    for entry_point in entry_points:
        record = _record_for(entry_point, group)
        # Some environments put one distribution on sys.path twice; list it once.
        key = (record.name, record.distribution)
        if key in seen:
            continue
        seen.add(key)
        records.append(record)
        _trace(f"found {group} {record.name!r} -> {record.target} ({record.distribution})")
    return sorted(records)


def duplicates(records: list[PluginRecord]) -> dict[str, list[str]]:
    """Map each name claimed by more than one distribution to those distributions."""
    claims: dict[str, list[str]] = {}
    for record in records:
        claims.setdefault(record.name, []).append(record.distribution)
    return {name: dists for name, dists in claims.items() if len(dists) > 1}


def select(records: list[PluginRecord], name: str, kind: str) -> PluginRecord:
    """Pick the record for ``name``; unknown or doubly-claimed names are clear errors."""
    matches = [record for record in records if record.name == name]
    if not matches:
        available = sorted({record.name for record in records})
        raise UnknownNameError(kind, name, available)
    if len(matches) > 1:
        raise DuplicatePluginError(matches[0].group, name, [m.distribution for m in matches])
    return matches[0]


def load(record: PluginRecord) -> Any:
    """Import the object a plugin's entry point names; any failure becomes PluginLoadError."""
    _trace(f"loading {record.group} {record.name!r} from {record.target}")
    try:
        loaded = record.entry_point.load()
    except Exception as error:  # a plugin may fail in any way while importing
        if os.environ.get("SEQAPPS_TRACE_PLUGINS"):
            import traceback

            traceback.print_exception(error, file=sys.stderr)
        raise PluginLoadError(record.name, record.distribution, error) from error
    _trace(f"loaded {record.group} {record.name!r}")
    return loaded
