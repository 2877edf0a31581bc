"""`seqapps tune`: the command line of a tuning study (the study itself is seqapps.tuning).

Its fixed settings are `seqapps run`'s options, added by seqapps.cli, so both always agree.
"""

from __future__ import annotations

import sys

import click

from seqapps import config as config_module
from seqapps.exceptions import RunInterrupted
from seqapps.tuning import PRUNERS, SAMPLERS

#: `seqapps run` options a study does not take (it resumes by running the same command).
# A trial is one run: folds and repeats of each would need a study of estimates.
NOT_FOR_TUNE = ("resume_run_id", "force", "quiet", "folds", "repeats")


@click.command()
@click.argument("task")
@click.option(
    "--search",
    "searches",
    multiple=True,
    metavar="NAME=SPEC",
    help="A setting to search: a range LOW..HIGH (ints stay ints; add :log for a log scale) or "
    "choices A,B,C. Any run setting, task option or arch option; repeatable.",
)
@click.option("--trials", type=int, help="Trials to finish (pruned ones count). [default: 20]")
@click.option(
    "--timeout", type=float, help="Start no new trial after this many seconds. [default: none]"
)
@click.option(
    "--sampler",
    type=click.Choice(SAMPLERS),
    default="tpe",
    show_default=True,
    help="How the next trial's settings are chosen (grid: every combination of choices).",
)
@click.option(
    "--pruner",
    type=click.Choice(PRUNERS),
    default="median",
    show_default=True,
    help="Stop trials whose validation curve falls behind the others'.",
)
@click.option(
    "--jobs",
    type=int,
    default=1,
    show_default=True,
    help="Trials in parallel processes on this machine (the cores are shared among them).",
)
@click.option(
    "--storage",
    help="Optuna storage every worker of the study shares: sqlite:///FILE on one machine, "
    "postgresql://... or mysql://... across machines. [default: sqlite:///optuna.db]",
)
@click.option(
    "--study",
    "study_name",
    help="Study name; the same name and storage continue a study. [default: the task and a "
    "hash of the settings and the search space]",
)
@click.option("--heartbeat", type=int, default=10, hidden=True, help="Seconds between beats.")
def tune(
    task, searches, trials, timeout, sampler, pruner, jobs, storage, study_name, heartbeat, **flags
):
    """Search TASK's settings with Optuna: every trial a child MLflow run under one parent.

    The objective is the best epoch's validation value of --monitor (the task's own metric
    by default: val_loss for most tasks), in its direction. Trials never read the test
    split: when the study ends, its best trial is evaluated on it, once, and logged with its
    model like any finished run. The parent run gets the best settings, a trials table, and
    figures of the optimization history and of each setting's importance.

    The first trial runs the fixed settings when they lie in the space, so the study can
    only improve on them. Running the same command again continues the study; any number of
    `seqapps tune` processes, on this machine or others, cooperate on one study through a
    shared --storage and tracking store. A worker that dies loses only its current trial,
    which is failed and never counted.

    \b
    Examples:
      seqapps tune stock --trials 12 --jobs 2 --search units=16..128:log --search dropout=0..0.5
      seqapps tune sentiment --monitor val_accuracy --search arch=lstm,gru,bilstm \\
          --search learning_rate=1e-4..1e-2:log --timeout 3600
      seqapps tune pos --storage postgresql://me@db/optuna --study pos-1 --search units=32..256
    """
    from seqapps import registry, search_space, tuning

    task_cls = registry.load_task(task)
    space = search_space.parse_pairs(searches)
    config_file = flags.pop("config_file", None)
    set_values = config_module.parse_set_pairs(flags.pop("set_pairs", ()))
    file_values = config_module.read_config_file(config_file) if config_file else {}
    flags = {k: v for k, v in flags.items() if v is not None}
    fixed = tuning.FixedSettings(flags, file_values, config_file or "", set_values)
    settings = tuning.StudySettings(
        trials, timeout, sampler, pruner, jobs, storage, study_name, heartbeat
    )
    study = tuning.plan(task_cls, fixed, space, settings)
    lines = run_study(study, click.echo)
    for line in lines or ():
        click.echo(line)


def run_study(study, echo) -> list[str] | None:
    """Join (or start) the study, work with --jobs processes, and end it if this is the last
    worker: the summary lines, or None when other workers still run trials."""
    import multiprocessing

    from seqapps import stopping, study_end, study_store, study_worker, tuning

    tuning.limit_threads(study.jobs)
    joined = study_store.join(study, echo)
    verb = "starts" if joined.created else "continues"
    left = (
        study.trials - study_store.results(study_store.counts(joined.study))
        if study.trials
        else None
    )
    aim = f"{left} trial(s) to go" if left is not None else f"until {study.timeout:g} s pass"
    echo(
        f"study {study.name} {verb} ({aim}; objective {study.monitor}, {study.direction}; "
        f"storage {study_store.without_password(study.storage)}; parent run {joined.parent_id})"
    )
    context = multiprocessing.get_context("spawn")  # TensorFlow does not survive a fork
    helpers = [
        context.Process(target=study_worker.helper_main, args=(study, index), daemon=False)
        for index in range(1, study.jobs)
    ]
    for helper in helpers:
        helper.start()
    # SIGTERM and SIGHUP between trials too: helpers are stopped, never left orphaned.
    with stopping.stop_signals_interrupt() as stop:
        try:
            study_worker.work(study, joined, echo, worker="worker 0" if helpers else "")
        except (KeyboardInterrupt, RunInterrupted) as error:
            _stop(helpers)
            _interrupted(study, joined)
            echo(f"interrupted: rerun the same command to continue study {study.name}")
            sys.exit(getattr(error, "exit_code", None) or stop.exit_code)
    for helper in helpers:
        helper.join()
    return study_end.finish(study, joined, echo)


def _stop(helpers) -> None:
    for helper in helpers:
        if helper.is_alive():
            helper.terminate()  # SIGTERM: a helper's trial ends KILLED, its state kept
    for helper in helpers:
        helper.join(timeout=60)


def _interrupted(study, joined) -> None:
    """The parent is KILLED unless workers elsewhere still run trials."""
    from seqapps import study_store

    if not study_store.counts(joined.study).get("RUNNING"):
        reason = f"interrupted; run the same command again to continue study {study.name}"
        joined.tracker.fail(joined.parent_id, reason, status="KILLED")
