"""One run, step by step: resolve -> load data -> strategy -> open the MLflow run -> params
-> input pipeline -> build and compile -> fit -> best weights -> evaluate -> report ->
export -> log -> summary.

    seqapps run sentiment --arch bilstm

Each step is a function over one ``RunContext`` in the module that owns it: run_setup (up to
the params), fitting (input pipeline to best weights), finishing (evaluate to summary).
Everything that can be checked before training is checked before a run is opened, so a user
mistake never leaves a run behind. Once the run is open it ends FINISHED, or FAILED/KILLED
with the reason.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

from seqapps import heartbeat, run_setup, stopping
from seqapps.config import RunConfig
from seqapps.exceptions import RunInterrupted, SeqappsError, StoreLostError, TrainingError
from seqapps.resuming import Resume
from seqapps.run_context import RunContext, RunResult
from seqapps.tracking import first_line, is_store_failure

__all__ = ["Resume", "RunResult", "run"]


def run(
    task_cls,
    config: RunConfig,
    echo: Callable[[str], None] = print,
    tags: dict[str, str] | None = None,
    resume: Resume | None = None,
    epoch_echo: Callable[[str], None] | None = None,
) -> RunResult:
    """Train, evaluate and log one run of ``task_cls`` as described by ``config``.

    ``tags`` are added to the new run (``mlflow.parentRunId`` nests it under a pipeline's
    parent run).
    ``resume`` continues that (interrupted) run from its saved state, in the same MLflow run.
    ``epoch_echo`` gets a one-line summary after every epoch.
    """
    ctx = _opened(task_cls, config, echo, tags, resume)
    ctx.epoch_echo = epoch_echo
    return _inside_the_run(ctx)


def run_trial(task_cls, config: RunConfig, tags: dict[str, str], trial) -> RunResult:
    """One trial of a tuning study (``trial`` is its ``study_worker.TrialLink``): a run that
    reports every epoch to the study and ends at its best epoch without reading the test
    split."""
    ctx = _opened(task_cls, config, lambda _line: None, tags, None)
    ctx.epoch_echo, ctx.trial = trial.echo, trial
    trial.opened(ctx.run_id)
    return _inside_the_run(ctx)


def _opened(task_cls, config, echo, tags, resume) -> RunContext:
    """Steps 1-4: resolved, data loaded, strategy chosen, the MLflow run open."""
    ctx = run_setup.resolve(task_cls, config, echo, resuming_run=resume is not None)
    run_setup.load_data(ctx)
    run_setup.choose_strategy(ctx)
    run_setup.open_run(ctx, tags, resume)
    return ctx


def _inside_the_run(ctx: RunContext) -> RunResult:
    """Train, evaluate and log inside the open run's guards."""
    with _open_run_guards(ctx):
        return _train_evaluate_log(ctx)


@contextlib.contextmanager
def _open_run_guards(ctx: RunContext) -> Iterator[None]:
    """Whatever happens from here, the run ends marked, and its heartbeat beats meanwhile."""
    with (
        _run_ends_marked(ctx),
        heartbeat.beating(ctx.tracker, ctx.run_id),
        _precision_policy(ctx.config.mixed_precision),
    ):
        yield


def _train_evaluate_log(ctx: RunContext) -> RunResult:
    """The steps inside the open run."""
    from seqapps import finishing, fitting

    run_setup.log_params(ctx)
    with _work_folder(ctx):
        batches = fitting.build_input_pipeline(ctx)
        fitting.build_and_compile(ctx, batches.steps_per_epoch)
        fitting.fit(ctx, batches)
        if ctx.strategy.name == "multi-worker":
            fitting.keep_worker_weights(ctx)
            if not ctx.strategy.is_chief:
                return finishing.worker_result(ctx)
        fitting.restore_best(ctx)
        if ctx.trial is not None:  # a study's trial: judged on validation alone
            result = finishing.end_trial(ctx)
            shutil.rmtree(ctx.state_directory, ignore_errors=True)
            return result
        final = finishing.evaluate(ctx, batches.test)
        found = finishing.report(ctx, final)
        finishing.export(ctx, batches.test)
        ctx.tracker.finish(ctx.run_id)
    if not ctx.config.output_dir:  # finished and logged: nothing left to resume
        shutil.rmtree(ctx.state_directory, ignore_errors=True)
    return finishing.summary(ctx, final, found)


def evaluate_trial(task_cls, config: RunConfig, run_id: str, echo=print) -> RunResult:
    """A study's last step: reopen its best trial's run, put back the weights of its best
    epoch, and evaluate, report and export it like any finished run. The test split is read
    here for the first time."""
    from seqapps import runstate

    ctx = run_setup.resolve(task_cls, config, echo, resuming_run=False)
    run_setup.load_data(ctx)
    run_setup.choose_strategy(ctx)
    ctx.run_id = run_id
    ctx.tracker.reopen(run_id, {"seqapps.trial_state": "COMPLETE"})
    with _open_run_guards(ctx):
        from seqapps import finishing, fitting

        ctx.params = dict(config.as_params())
        with _work_folder(ctx):
            kept = finishing.download_trial(ctx)
            batches = fitting.build_input_pipeline(ctx)
            fitting.build_and_compile(ctx, batches.steps_per_epoch)
            finishing.load_trial_weights(ctx.model, kept / finishing.TRIAL_WEIGHTS)
            kept_progress = json.loads((kept / finishing.TRIAL_PROGRESS).read_text())
            progress = runstate.Progress(**kept_progress)
            ctx.snapshot = runstate.Snapshot(None, 0.0, progress)
            final = finishing.evaluate(ctx, batches.test)
            found = finishing.report(ctx, final)
            finishing.export(ctx, batches.test)
            ctx.tracker.finish(ctx.run_id)
        return finishing.summary(ctx, final, found)


@contextlib.contextmanager
def _work_folder(ctx: RunContext) -> Iterator[None]:
    """--output-dir/<run id>, or a temporary folder removed after the run."""
    with tempfile.TemporaryDirectory(prefix="seqapps-") as scratch:
        output_dir = ctx.config.output_dir
        ctx.work = Path(output_dir) / ctx.run_id if output_dir else Path(scratch)
        ctx.work.mkdir(parents=True, exist_ok=True)
        yield


@contextlib.contextmanager
def _run_ends_marked(ctx: RunContext) -> Iterator[None]:
    """Whatever stops the run marks it: KILLED on a signal or Ctrl-C, FAILED with the reason
    on an error. SIGTERM and SIGHUP take the Ctrl-C path (state saved, metrics flushed)."""
    tracker, run_id = ctx.tracker, ctx.run_id
    with stopping.stop_signals_interrupt() as stop:
        try:
            yield
        except KeyboardInterrupt:
            tracker.fail(run_id, stop.reason, status="KILLED")
            raise
        except RunInterrupted as error:
            tracker.fail(run_id, stop.reason, status="KILLED")
            error.exit_code = stop.exit_code
            raise error from None
        except SeqappsError as error:
            _flush_quietly(tracker)
            tracker.fail(run_id, str(error))
            raise
        except Exception as error:
            if is_store_failure(error):
                raise _store_lost(ctx, error) from None
            _flush_quietly(tracker)  # the epochs' metrics first: they are the run
            tracker.fail(run_id, f"{type(error).__name__}: {error}")
            raise TrainingError(f"run {run_id} failed: {type(error).__name__}: {error}") from error


def _flush_quietly(tracker) -> None:
    with contextlib.suppress(Exception):
        tracker.flush()


def _store_lost(ctx: RunContext, error: BaseException) -> StoreLostError:
    """The store failed mid-run: save what trained (if anything did) and say how to go on."""
    saved = ""
    if ctx.snapshot is not None:
        with contextlib.suppress(Exception):
            ctx.snapshot.save()
            saved = f"; the trained state is saved in {ctx.state_directory}"
    ctx.tracker.fail(ctx.run_id, f"tracking store failed: {first_line(error)}")
    return StoreLostError(
        f"lost the tracking store {ctx.tracker.uri} ({type(error).__name__}: "
        f"{first_line(error)}){saved}. Once the store works again: seqapps run "
        f"{ctx.config.task} --resume {ctx.run_id}"
    )


@contextlib.contextmanager
def _precision_policy(mixed: bool) -> Iterator[None]:
    """mixed_float16 for the run when asked (heads compute in float32), restored after."""
    import keras

    policy = keras.mixed_precision.global_policy()
    try:
        if mixed:
            keras.mixed_precision.set_global_policy("mixed_float16")
        yield
    finally:
        keras.mixed_precision.set_global_policy(policy)
