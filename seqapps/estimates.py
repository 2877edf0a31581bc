"""Honest estimates on small data: one setting trained over K folds and/or N seeds, as
child runs of one parent that logs the mean ± std of every test metric.

    seqapps run sentiment --data reviews.csv --folds 5
    seqapps run sentiment --repeats 3            # seeds 42, 43, 44
    seqapps run sentiment --folds 5 --repeats 2  # repeated 5-fold cross-validation

The children are a pipeline (seqapps.sweeps): running the same command again continues
under the same parent and skips the children already FINISHED.
"""

from __future__ import annotations

import dataclasses
import statistics
from pathlib import Path

from seqapps import sweeps
from seqapps.config import RunConfig, experiment_name, identity

#: Test metrics that describe one run's own uncertainty, not a score to average.
_NOT_AVERAGED = ("_ci_low", "_ci_high")


@dataclasses.dataclass
class Estimate:
    """Mean, sample standard deviation and range of one test metric over the children."""

    metric: str
    values: list[float]

    @property
    def mean(self) -> float:
        """The mean over the children."""
        return statistics.fmean(self.values)

    @property
    def std(self) -> float:
        """The sample standard deviation (0 for one child)."""
        return statistics.stdev(self.values) if len(self.values) > 1 else 0.0


def describe(folds: int, repeats: int) -> str:
    """'5-fold cross-validation, 2 seeds' and the like."""
    parts = [f"{folds}-fold cross-validation"] if folds else []
    parts.append(f"{repeats} seed{'s' * (repeats != 1)}")
    return ", ".join(parts)


def plan(config: RunConfig, folds: int, repeats: int) -> sweeps.Pipeline:
    """The children: every fold (1..folds, or none) for each of ``repeats`` seeds from
    ``config.seed`` on, as a pipeline of their own."""
    seeds = [config.seed + offset for offset in range(repeats)]
    children = []
    for seed in seeds:
        for fold in range(1, folds + 1) if folds else [0]:
            point = {"fold": fold} if folds else {}
            point.update({"seed": seed} if repeats > 1 else {})
            name = " ".join([config.arch or config.task] + [f"{k}{v}" for k, v in point.items()])
            child = dataclasses.replace(
                config, seed=seed, folds=folds, fold=fold, run_name=name, verbose=0
            )
            label = " ".join(f"{k}={v}" for k, v in point.items())
            key = identity(child, sweeps.NOT_PART_OF_IDENTITY)
            children.append(sweeps.Child(config.task, child, label, key, point))
    title = f"{config.run_name or f'{config.task} {config.arch}'} ({describe(folds, repeats)})"
    experiment = experiment_name(config.experiment, config.task)
    return sweeps.Pipeline(title, Path("<seqapps run>"), experiment, children, config.to_yaml())


def _check_first(task_cls, config: RunConfig) -> None:
    """Load the first child's data once before any run is opened: a mistake in the data or
    its options is then one line with nothing logged, not a parent of failed children."""
    import warnings

    from seqapps.data.sources import check_local_source
    from seqapps.run_setup import check_arch

    check_local_source(config.data)
    check_arch(task_cls, config)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the child says them again
        task_cls().load_data(config)


def summarize(runs) -> list[Estimate]:
    """Every test metric all ``runs`` logged, over the runs (scores, not their intervals)."""
    shared = set.intersection(*(set(run.data.metrics) for run in runs)) if runs else set()
    names = sorted(m for m in shared if m.startswith("test_") and not m.endswith(_NOT_AVERAGED))
    return [Estimate(name, [run.data.metrics[name] for run in runs]) for name in names]


def run(task_cls, config: RunConfig, folds: int, repeats: int, echo) -> tuple[list[str], bool]:
    """Train every child, log the estimates on the parent; the summary lines, and whether
    every child finished."""
    from seqapps.compare import fetch_runs
    from seqapps.tracking import Tracker

    pipeline = plan(config, folds, repeats)
    _check_first(task_cls, pipeline.children[0].config)
    parent_id, outcomes = sweeps.run(pipeline, config.tracking_uri, echo=echo)
    tracker = Tracker(config.tracking_uri)
    runs = fetch_runs(tracker.client, parent=parent_id)
    estimates = summarize(runs)
    metrics = {f"{e.metric}_mean": e.mean for e in estimates}
    metrics.update({f"{e.metric}_std": e.std for e in estimates})
    tracker.log_metrics(parent_id, metrics)
    shared = {k: v for k, v in config.as_params().items() if k not in ("seed", "fold")}
    tracker.log_params(parent_id, {**shared, "repeats": repeats, "first_seed": config.seed})
    tracker.set_tags(parent_id, {"task": config.task, "seqapps.estimate": describe(folds, repeats)})
    failed = [o for o in outcomes if o.status == "FAILED"]
    return _lines(task_cls, estimates, len(runs), parent_id, pipeline, failed), not failed


def _lines(task_cls, estimates, finished: int, parent_id, pipeline, failed) -> list[str]:
    """What the CLI prints: the estimate of each headline metric (else every test metric)."""
    total = len(pipeline.children)
    head = f"{pipeline.name}: {finished} of {total} runs finished under parent run {parent_id}"
    lines = [head]
    wanted = [e for e in estimates if e.metric in task_cls.headline_metrics] or estimates
    for estimate in wanted:
        low, high = min(estimate.values), max(estimate.values)
        lines.append(
            f"  {estimate.metric} {estimate.mean:.4f} ± {estimate.std:.4f} "
            f"(mean ± std over {len(estimate.values)}; min {low:.4f}, max {high:.4f})"
        )
    if failed:
        lines.append(
            f"{len(failed)} run(s) failed ({', '.join(o.child.label for o in failed)}): the "
            "estimate leaves them out; run the same command again to retry only those"
        )
    return lines
