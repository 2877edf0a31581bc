"""The worker loop of a tuning study: trials as child runs, until the study has its count.

Every process of a study runs it: `seqapps tune` itself, its ``--jobs`` helpers, and any
`seqapps tune` elsewhere sharing the storage.
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Callable
from typing import Any

from seqapps.exceptions import RunInterrupted, SeqappsError, StoreLostError
from seqapps.study_store import Joined, close_lost_trials, counts, join, results
from seqapps.tuning import StudyPlan, limit_threads

#: A worker that saw this many trials fail in a row stops: something is wrong with every one.
FAILURES_IN_A_ROW = 3
#: How often a worker waiting for the others' last trials looks again (seconds).
POLL_SECONDS = 2.0


class TrialLink:
    """What a trial's run tells the study: its MLflow run id, each epoch's validation
    value (the pruner decides on it), and whether it was pruned."""

    def __init__(self, trial, monitor: str, echo: Callable[[str], None] = print):
        self.trial, self.monitor, self.echo = trial, monitor, echo
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


def work(study: StudyPlan, joined: Joined, echo: Callable[[str], None], worker: str = "") -> None:
    """Run trials until the study has its count (or --timeout passes), waiting for the
    other workers' last trials rather than starting surplus ones."""
    objective = Objective(study, joined, echo, f" ({worker})" if worker else "")
    started = time.monotonic()
    failures = 0
    while True:
        close_lost_trials(joined, echo)
        found = counts(joined.study)
        if study.trials and results(found) >= study.trials:
            return
        if study.timeout and time.monotonic() - started >= study.timeout:
            echo(f"--timeout {study.timeout:g} s reached{objective.label}: no new trials")
            return
        if study.trials and results(found) + found.get("RUNNING", 0) >= study.trials:
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


class Objective:
    """Optuna's objective: one trial is a child run of the parent with the sampled
    settings, judged on its best validation epoch."""

    def __init__(self, study: StudyPlan, joined: Joined, echo: Callable[[str], None], label: str):
        self.study, self.joined, self.echo, self.label = study, joined, echo, label

    def __call__(self, trial) -> float:
        import optuna

        trial.set_user_attr("seqapps.worker", f"{os.getpid()}")
        self._claim(trial)
        point = {d.name: d.suggest(trial) for d in self.study.space}
        rounded = {k: short_value(v) for k, v in point.items()}
        shown = " ".join(f"{k}={v}" for k, v in rounded.items())
        say = self._say(trial)
        config = self._config(trial, point, rounded, say)
        link = TrialLink(trial, self.study.monitor, say)
        say(shown)
        began = time.perf_counter()
        result = self._train(trial, config, self._tags(trial, point), link)
        seconds = time.perf_counter() - began
        if link.pruned_after:
            say(f"{link.prune_reason} ({seconds:.0f} s)")
            raise optuna.TrialPruned(link.prune_reason)
        value = result.metrics.get(self.study.monitor)
        if value is None:
            raise self._failed(trial, f"no finite {self.study.monitor} in any epoch")
        best = _best_so_far(self.joined.study, self.study.direction, value)
        say(f"{self.study.monitor} {value:.4f} ({seconds:.0f} s; best so far {best:.4f})")
        return value

    def _say(self, trial) -> Callable[[str], None]:
        prefix = f"trial {trial.number}{self.label}: "
        return lambda line: self.echo(prefix + line)

    def _claim(self, trial) -> None:
        """Not run when trials numbered before it already make the count (two workers asked
        for the last trial at once: the lower number runs)."""
        import optuna

        if not self.study.trials:
            return
        states = (
            optuna.trial.TrialState.COMPLETE,
            optuna.trial.TrialState.PRUNED,
            optuna.trial.TrialState.RUNNING,
        )
        trials = self.joined.study.get_trials(deepcopy=False, states=states)
        if sum(t.number < trial.number for t in trials) >= self.study.trials:
            trial.set_user_attr("surplus", True)
            raise _Surplus(f"the study already has its {self.study.trials} trials")

    def _config(self, trial, point, rounded, say):
        from seqapps.sweeps import short_name

        try:
            config = self.study.config_for(point)
        except SeqappsError as error:
            say(f"{' '.join(f'{k}={v}' for k, v in rounded.items())}: FAILED: {error}")
            raise self._failed(trial, str(error)) from None
        return dataclasses.replace(
            config,
            tracking_uri=self.joined.tracker.uri,
            experiment=self.study.experiment,
            verbose=0,
            run_name=f"t{trial.number} " + short_name(self.study.task, rounded),
        )

    def _tags(self, trial, point) -> dict[str, str]:
        tags = {
            "mlflow.parentRunId": self.joined.parent_id,
            "seqapps.study": self.study.name,
            "seqapps.trial": str(trial.number),
            **{f"seqapps.swept.{k}": str(v) for k, v in point.items()},
        }
        if trial.user_attrs.get("seqapps.origin"):
            tags["seqapps.trial_origin"] = trial.user_attrs["seqapps.origin"]
        return tags

    def _train(self, trial, config, tags, link):
        from seqapps import training

        try:
            return training.run_trial(self.study.task_class, config, tags, link)
        except (RunInterrupted, StoreLostError):
            raise
        except SeqappsError as error:
            link.echo(f"FAILED: {error}")
            raise self._failed(trial, str(error)) from None

    @staticmethod
    def _failed(trial, reason: str) -> _TrialFailed:
        trial.set_user_attr("seqapps.reason", reason)
        return _TrialFailed(reason)


def _best_so_far(optuna_study, direction: str, value: float) -> float:
    import optuna

    done = optuna_study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
    values = [t.value for t in done] + [value]
    return min(values) if direction == "min" else max(values)


def short_value(value: Any) -> Any:
    """A float to 3 significant digits, for names and progress lines."""
    return float(f"{value:.3g}") if isinstance(value, float) else value


def helper_main(study: StudyPlan, index: int) -> None:
    """A --jobs helper process: join the study and work until it is done."""
    import signal
    import sys

    from seqapps import stopping

    limit_threads(study.jobs)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the main process tells helpers when to stop

    def echo(line: str) -> None:
        print(line, flush=True)

    # SIGTERM from the main process (or a scheduler): the running trial fails and its run
    # ends KILLED, rather than both staying RUNNING.
    with stopping.stop_signals_interrupt() as stop:
        try:
            joined = join(study, echo, identity=index)
            work(study, joined, echo, worker=f"worker {index}")
        except (KeyboardInterrupt, RunInterrupted):
            sys.exit(stop.exit_code)
        except SeqappsError as error:
            echo(f"worker {index}: {error}")
            sys.exit(1)
