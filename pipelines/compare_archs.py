"""Train every architecture that fits a task on the same data and print a comparison table.

    python pipelines/compare_archs.py sentiment
    python pipelines/compare_archs.py sentiment --epochs 3 --max-samples 1000 --archs lstm,bow

Each architecture is an ordinary `seqapps run` (same seed, data and settings), logged to
MLflow in the experiment `<task>-archs`, so the runs also compare side by side in the UI.
"""

from __future__ import annotations

import time

import click

from seqapps import config as config_module
from seqapps import registry, training
from seqapps.exceptions import SeqappsError


def compare(task: str, archs: list[str] | None = None, echo=click.echo, **flags) -> list[dict]:
    """Run ``task`` once per arch; return one row per arch with its test metrics and cost."""
    task_cls = registry.load_task(task)
    names = archs or registry.archs_for_kind(task_cls.arch_kind())
    flags.setdefault("experiment", f"{task}-archs")
    rows = []
    for index, arch in enumerate(names, 1):
        echo(f"[{index}/{len(names)}] {task} --arch {arch}")
        settings = {**flags, "arch": arch, "run_name": f"{task}-{arch}"}
        resolved = config_module.resolve(task_cls, settings, load_arch=registry.load_arch)
        started = time.perf_counter()
        try:
            result = training.run(task_cls, resolved, echo=lambda _line: None)
        except SeqappsError as error:  # one failing arch must not end the comparison
            echo(f"    failed: {error}")
            rows.append(
                {"arch": arch, "seconds": time.perf_counter() - started, "failed": str(error)}
            )
            continue
        seconds = time.perf_counter() - started
        parameters = int(result.params.get("model.parameters", 0))
        rows.append(
            {"arch": arch, "seconds": seconds, "parameters": parameters, "run_id": result.run_id}
            | result.metrics
        )
    return rows


def _scored(metric: str) -> bool:
    """A test metric of the model itself: not its loss, an interval bound or a baseline's."""
    if not metric.startswith("test_") or metric == "test_loss":
        return False
    return "_ci_" not in metric and not metric.startswith("test_baseline_")


def table(rows: list[dict], headline: tuple[str, ...] = (), declared=None) -> str:
    """A plain-text table of the headline test metrics, best first by the first of them."""
    from seqapps.compare import lower_is_better

    found = sorted({k for row in rows for k in row if _scored(k)})
    metrics = [m for m in headline if m in found] or found
    first = metrics[0] if metrics else "test_loss"
    sign = 1 if lower_is_better(first, declared) else -1  # the task's goal, else the name
    ordered = sorted(rows, key=lambda row: sign * row.get(first, sign * float("inf")))
    header = ["arch", *metrics, "params", "epochs", "seconds", "run id"]
    lines = [header]
    for row in ordered:
        if "failed" in row:
            lines.append([row["arch"], "FAILED", *[""] * (len(header) - 2)])
            continue
        lines.append(
            [
                row["arch"],
                *(f"{row.get(m, float('nan')):.4f}" for m in metrics),
                f"{row['parameters']:,}",
                f"{row.get('epochs_trained', 0):.0f}",
                f"{row['seconds']:.1f}",
                row["run_id"],
            ]
        )
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(line, widths)).rstrip() for line in lines)


@click.command()
@click.argument("task")
@click.option("--archs", help="Comma-separated archs. [default: every arch that fits the task]")
@click.option("--epochs", type=int)
@click.option("--max-samples", type=int)
@click.option("--units", type=int)
@click.option("--seed", type=int)
@click.option("--tracking-uri")
@click.option("--experiment", help="[default: <task>-archs]")
def main(task, archs, **flags):
    """Train TASK with every fitting architecture and print the comparison."""
    flags = {k: v for k, v in flags.items() if v is not None}
    flags["verbose"] = 0
    rows = compare(task, archs.split(",") if archs else None, **flags)
    task_cls = registry.load_task(task)
    click.echo(table(rows, task_cls.headline_metrics, task_cls.metric_goals))


if __name__ == "__main__":
    main()
