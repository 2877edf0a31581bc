"""What `seqapps tasks` and `seqapps archs --format json` print: plain, stable records."""

from __future__ import annotations

from typing import Any

from seqapps import goals


def _options(options: dict) -> dict[str, dict[str, Any]]:
    return {
        key: {"default": option.default, "help": option.help, "choices": list(option.choices)}
        for key, option in options.items()
    }


def task_record(row) -> dict[str, Any]:
    """One installed task (a registry row) as a JSON-ready dict; a broken one names why."""
    record = row.record
    found: dict[str, Any] = {
        "name": record.name,
        "distribution": record.distribution,
        "version": record.version,
    }
    if row.obj is None:
        return {**found, "broken": row.problem}
    task = row.obj
    headline = task.headline_metrics[0] if task.headline_metrics else "test_loss"
    return {
        **found,
        "summary": task.summary,
        "kind": task.kind,
        "arch_kind": task.arch_kind(),
        "default_arch": task.default_arch,
        "data_sources": list(task.data_sources),
        "options": _options(task.options),
        "predict_options": _options(task.predict_options),
        "run_defaults": dict(task.defaults),
        "headline_metric": headline,
        "goal": goals.goal(headline, task.metric_goals),
        "monitor": task.monitor,
        "cross_validation": getattr(task, "cross_validation", None),
    }


def arch_record(row) -> dict[str, Any]:
    """One installed arch (a registry row) as a JSON-ready dict; a broken one names why."""
    found = {"name": row.record.name, "distribution": row.record.distribution}
    if row.obj is None:
        return {**found, "broken": row.problem}
    arch = row.obj
    return {
        **found,
        "summary": arch.summary,
        "kinds": list(arch.kinds),
        "fused_gpu_kernel": arch.fused_gpu_kernel,
        "masks": arch.masks,
        "options": _options(arch.options),
    }
