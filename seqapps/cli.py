"""The `seqapps` command line.

    seqapps run sentiment --arch bilstm
    seqapps predict RUN_ID "not good at all"

TensorFlow is imported only by commands that train or predict, so `--help`, `tasks` and
`archs` answer at once.
"""

from __future__ import annotations

import json
import os
import sys
import warnings
from pathlib import Path

import click

import seqapps
from seqapps import cli_options, goals, model_commands, registry, tune_command
from seqapps import config as config_module
from seqapps.config import LR_SCHEDULES
from seqapps.distribute import STRATEGIES
from seqapps.exceptions import SeqappsError

if not os.environ.get("SEQAPPS_TF_VERBOSE"):
    # Before anything (a plugin's `import keras`) loads TensorFlow: its C++ log lines below
    # FATAL are version chatter here (seqapps.tensorflow_import).
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def _show_warning(message, category, filename, lineno, file=None, line=None):
    """Data and plugin warnings as one plain line; anything else the way Python shows it."""
    from seqapps.exceptions import DataWarning, PluginWarning

    if issubclass(category, (DataWarning, PluginWarning)):
        click.echo(f"Warning: {message}", err=True)
    else:
        _python_show_warning(message, category, filename, lineno, file, line)


_python_show_warning = warnings.showwarning


class SeqappsGroup(click.Group):
    """Turns every seqapps error into one line on stderr and its exit code, no traceback."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except SeqappsError as error:
            click.echo(f"Error: {error}", err=True)
            sys.exit(error.exit_code)
        except KeyboardInterrupt:
            click.echo("Interrupted.", err=True)
            sys.exit(130)


class RegistryName(click.ParamType):
    """A task or arch name, checked against entry points without importing any plugin."""

    def __init__(self, kind: str):
        self.kind = kind
        self.name = kind

    def _names(self) -> list[str]:
        records = registry.task_records() if self.kind == "task" else registry.arch_records()
        return sorted({record.name for record in records})

    def convert(self, value, param, ctx):
        names = self._names()
        if value not in names:
            available = ", ".join(names) or "(none installed)"
            self.fail(
                f"unknown {self.kind} {value!r}; available: {available}",
                param,
                ctx,
            )
        return value

    def shell_complete(self, ctx, param, incomplete):
        from click.shell_completion import CompletionItem

        return [CompletionItem(n) for n in self._names() if n.startswith(incomplete)]


def _default(name: str) -> str:
    """seqapps' own default, starred: a task may set its own (the footnote of `run --help`)."""
    return f"[default: {config_module.default_of(name)}*]"


@click.group(cls=SeqappsGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(seqapps.__version__, prog_name="seqapps")
def cli():
    """Train, compare and serve recurrent sequence models, tracked in MLflow.

    \b
    Start with:
      seqapps tasks                      what you can train
      seqapps archs                      which architectures --arch accepts
      seqapps run sentiment --arch bilstm
      mlflow ui --backend-store-uri sqlite:///mlflow.db
    """


@cli.command()
@click.argument("task", type=RegistryName("task"))
@click.option(
    "--arch",
    type=RegistryName("arch"),
    help="Architecture (see `seqapps archs`). [default: the task's]",
)
@click.option(
    "--data",
    help="Data source: sample, a local file, or tfds:NAME (see `seqapps tasks`). [default: sample]",
)
@click.option(
    "--data-dir", type=click.Path(file_okay=False), help="Folder holding TensorFlow Datasets."
)
@click.option("--epochs", type=int, help=f"Maximum training epochs. {_default('epochs')}")
@click.option(
    "--batch-size", type=int, help=f"Examples per batch per replica. {_default('batch_size')}"
)
@click.option("--units", type=int, help=f"Units per recurrent layer. {_default('units')}")
@click.option("--layers", type=int, help=f"Stacked encoder layers. {_default('layers')}")
@click.option(
    "--dropout", type=float, help=f"Dropout between and after layers. {_default('dropout')}"
)
@click.option(
    "--recurrent-dropout",
    type=float,
    help="Dropout on recurrent connections (disables the fused cuDNN kernel). "
    + _default("recurrent_dropout"),
)
@click.option("--l1", type=float, help=f"L1 weight penalty on encoder kernels. {_default('l1')}")
@click.option("--l2", type=float, help=f"L2 weight penalty on encoder kernels. {_default('l2')}")
@click.option(
    "--learning-rate", type=float, help=f"Adam learning rate. {_default('learning_rate')}"
)
@click.option(
    "--lr-schedule",
    type=click.Choice(LR_SCHEDULES),
    help="constant, or cosine: the rate falls along a half cosine over all epochs' steps to "
    f"1/20 of --learning-rate (resumes exactly). {_default('lr_schedule')}",
)
@click.option(
    "--clip-norm",
    type=float,
    help=f"Clip gradients to this global norm; 0 turns it off. {_default('clip_norm')}",
)
@click.option(
    "--clip-value",
    type=float,
    help=f"Clip each gradient value to [-v, v]; 0 turns it off. {_default('clip_value')}",
)
@click.option(
    "--patience",
    type=int,
    help=f"Early-stopping patience in epochs; 0 turns it off. {_default('patience')}",
)
@click.option(
    "--monitor",
    metavar="METRIC",
    help="Validation metric that picks the best epoch and stops early, e.g. val_loss or "
    "val_entity_f1; its direction is the task's. [default: the task's, see `seqapps tasks -v`]",
)
@click.option(
    "--seed",
    type=int,
    help=f"Seed for data order and weights (same seed, same metrics on CPU). {_default('seed')}",
)
@click.option(
    "--max-samples",
    type=int,
    metavar="N",
    help="Quick trials: N examples of each split (train, validation, test), drawn with --seed "
    "after the data is split, for every task.",
)
@click.option(
    "--folds",
    type=int,
    metavar="K",
    help="K-fold cross-validation: K runs, each tested on one fold, under a parent run that "
    "logs the mean ± std of every test metric (how each task folds: `seqapps tasks -v`).",
)
@click.option(
    "--repeats",
    type=int,
    metavar="N",
    help="Train N times with seeds --seed, --seed+1, ... under a parent run that logs the "
    "mean ± std of every test metric (with --folds: N rounds of K folds).",
)
@click.option(
    "--experiment",
    help="MLflow experiment name. [default: $MLFLOW_EXPERIMENT_NAME, else the task name]",
)
@cli_options.tracking_uri()
@click.option("--run-name", help="MLflow run name. [default: generated]")
@click.option(
    "--register-model",
    metavar="NAME",
    help="Also register the logged model in the MLflow Model Registry under NAME.",
)
@click.option(
    "--output-dir",
    type=click.Path(file_okay=False),
    help="Keep checkpoints and the model in DIR/<run id>. [default: a temporary folder]",
)
@click.option(
    "--strategy",
    type=click.Choice(STRATEGIES),
    help="tf.distribute strategy (auto: several GPUs mirrored, one GPU one-device, "
    "else default). [default: auto]",
)
@click.option(
    "--devices",
    metavar="LIST",
    help="Devices to use, e.g. gpu:0,gpu:1; cpu:0,cpu:1 splits the CPU into logical devices.",
)
@click.option(
    "--jit-compile/--no-jit-compile",
    default=None,
    help="Compile training steps with XLA (helps some models on GPU; slows LSTMs on CPU). "
    "[default: off]",
)
@click.option(
    "--steps-per-execution",
    type=int,
    help="Batches per compiled call; more cuts Python overhead on small models. [default: 1]",
)
@click.option(
    "--mixed-precision/--no-mixed-precision",
    default=None,
    help="mixed_float16 compute with float32 outputs (needs a GPU). [default: off]",
)
@click.option(
    "--checkpoint-interval",
    type=float,
    metavar="SECONDS",
    help="Save the resumable state at least this often (0: every epoch). It is saved after "
    "every epoch anyway while that costs under 2% of training time, and always on Ctrl-C, "
    "SIGTERM or a NaN. [default: 30]",
)
@click.option(
    "--resume",
    "resume_run_id",
    metavar="RUN_ID",
    help="Continue an interrupted run (an id, or 'last' for the newest one of TASK) from its "
    "saved state, in the same MLflow run and with its logged settings.",
)
@cli_options.set_pairs(
    "Task or arch option (repeatable; see `seqapps tasks -v`, `seqapps archs -v`)."
)
@click.option(
    "--config",
    "config_file",
    type=click.Path(dir_okay=False),
    help="YAML file of run settings; flags given here win.",
)
@click.option(
    "--force",
    is_flag=True,
    help="With --resume: continue even though the run looks alive (its host and pid, or a "
    "heartbeat under 90 s old, say so).",
)
@click.option("-q", "--quiet", is_flag=True, help="No per-epoch progress.")
def run(task, config_file, set_pairs, quiet, resume_run_id, force, **flags):
    """Train TASK, evaluate it on the test split, and log the run to MLflow.

    \b
    Examples:
      seqapps run sentiment --arch bilstm
      seqapps run sentiment --arch gru --data reviews.csv --set text_column=review
      seqapps run sentiment --config run.yaml --epochs 3
      seqapps run pos --strategy mirrored --devices gpu:0,gpu:1 --batch-size 16
      seqapps run sentiment --resume last        # continue the newest interrupted run
      seqapps run sentiment --data reviews.csv --folds 5   # mean ± std over 5 folds

    * seqapps' default: a task may set its own (sentiment trains 15 epochs, music 30);
    `seqapps tasks -v` shows each task's.
    """
    task_cls = registry.load_task(task)
    repeats = flags.pop("repeats")
    if force and not resume_run_id:
        raise click.UsageError("--force goes with --resume")
    if resume_run_id and (repeats or flags["folds"]):
        raise click.UsageError(
            "--resume continues one run; to continue --folds/--repeats, run the same command "
            "again (finished runs are skipped)"
        )
    if repeats is not None and repeats < 1:
        raise click.BadParameter(f"expected 1 or more, got {repeats}", param_hint="--repeats")
    if flags["register_model"] and ((repeats or 1) > 1 or flags["folds"]):
        raise click.UsageError(
            "--register-model registers one model; with --folds/--repeats every run would "
            "add a version: register the run you choose afterwards with "
            "mlflow.register_model('runs:/<run id>/model', NAME)"
        )
    resume = None
    if resume_run_id:
        from seqapps import resuming

        # Where the run is and where its data is may change; nothing else may.
        lookup = ("tracking_uri", "data", "data_dir")
        lookup += ("experiment",) if resume_run_id == "last" else ()
        typed = [f"--{k.replace('_', '-')}" for k, v in flags.items() if v is not None]
        typed = [flag for flag in typed if flag[2:].replace("-", "_") not in lookup]
        typed += ["--config"] * bool(config_file) + ["--set"] * bool(set_pairs)
        resolved, resume_run_id = resuming.resumed_config(
            task_cls,
            resuming.Resume(resume_run_id, force),
            typed,
            flags.get("tracking_uri"),
            flags.get("experiment"),
            click.echo,
        )
        for name in ("data", "data_dir"):  # checked against the run's data fingerprint
            if flags.get(name) is not None:
                value = flags[name]
                setattr(resolved, name, config_module.absolute_data_path(value))
        resume = resuming.Resume(resume_run_id, force)
    else:
        file_values = config_module.read_config_file(config_file) if config_file else {}
        set_values = config_module.parse_set_pairs(set_pairs)
        resolved = config_module.resolve(
            task_cls,
            flags,
            file_values,
            set_values,
            config_file or "",
            load_arch=registry.load_arch,
        )
    if quiet:
        resolved.verbose = 0
    if (resolved.folds and not resolved.fold) or (repeats or 1) > 1:
        from seqapps import estimates

        lines, finished = estimates.run(
            task_cls, resolved, resolved.folds, repeats or 1, click.echo
        )
        click.echo("\n".join(lines))
        sys.exit(0 if finished else 1)
    from seqapps import training

    result = training.run(task_cls, resolved, echo=click.echo, resume=resume)
    for line in result.summary:
        click.echo(line)


@cli.command()
@click.argument("model")
@click.argument("inputs", nargs=-1)
@click.option(
    "--input",
    "input_file",
    type=click.File("r", encoding="utf-8"),
    help="Read inputs from a file, one per line ('-' for stdin).",
)
@cli_options.tracking_uri("MLflow tracking URI holding the run.")
@click.option(
    "--data",
    "data_files",
    multiple=True,
    type=click.Path(dir_okay=False),
    help="A history file to forecast from (e.g. stock prices CSV); repeatable.",
)
@click.option(
    "--prime", help='Generation: what to continue, e.g. "ROMEO:" (textgen) or "C4 E4 G4" (music).'
)
@click.option("--length", type=int, help="Generation: steps to generate. [default: 64]")
@click.option(
    "--temperature",
    type=float,
    help="Generation: sampling temperature (0 = most likely, 1 = as learned). [default: 1.0]",
)
@click.option(
    "--top-k",
    "top_k",
    type=int,
    help="Generation: sample among the k likeliest next tokens only (textgen; 0 = all).",
)
@click.option("--seed", type=int, help="Generation: seed of the sampler. [default: 0]")
@cli_options.set_pairs("A prediction option of the task (see `seqapps tasks -v`); repeatable.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object per input.")
@click.option(
    "--output",
    "--out",
    "output",
    type=click.Path(dir_okay=False, writable=True),
    help="Also write the predictions to FILE (pos: .conllu or token<TAB>tag; music: .mid).",
)
def predict(
    model,
    inputs,
    input_file,
    tracking_uri,
    data_files,
    prime,
    length,
    temperature,
    top_k,
    seed,
    set_pairs,
    as_json,
    output,
):
    """Predict with MODEL: a run id, runs:/ID/model, models:/NAME/VERSION or a model folder.

    \b
    Examples:
      seqapps predict 3f2c...e9 "not good at all" "a wonderful film"
      seqapps predict 3f2c...e9 --data prices.csv      # stock: next `horizon` days
      seqapps predict 3f2c...e9 --prime "C4 E4 G4" --length 64 --out song.mid   # music
      seqapps predict 3f2c...e9 --prime "ROMEO:" --temperature 0.8 --top-k 20   # textgen
      seqapps predict models:/sentiment/2 "a wonderful film"   # from the Model Registry
    """
    texts = list(inputs) + list(data_files) + ([prime] if prime is not None else [])
    if input_file is not None:
        texts += [line.rstrip("\n") for line in input_file if line.strip()]
    options = config_module.parse_set_pairs(set_pairs)
    shortcuts = {"length": length, "temperature": temperature, "seed": seed, "top_k": top_k}
    typed = {key: value for key, value in shortcuts.items() if value is not None}
    options.update(typed)
    from seqapps import predicting

    flags = {key: f"--{key.replace('_', '-')}" for key in typed}
    rows, task = predicting.predict(model, texts, tracking_uri, options, flags)
    for row in rows:
        if as_json:
            click.echo(json.dumps(row))
        else:
            click.echo("\t".join(_cell(value) for value in row.values()))
    if output:
        task.write_predictions(rows, Path(output))
        click.echo(f"wrote {output}", err=True)


def _cell(value) -> str:
    if isinstance(value, float):
        return f"{value:.4f}"
    return json.dumps(value) if isinstance(value, (list, dict)) else str(value)


_LIST_FORMAT = click.option(
    "--format",
    "form",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="Output format.",
)


@cli.command()
@click.option("-v", "--verbose", is_flag=True, help="Also list each task's options and defaults.")
@click.option(
    "--debug", is_flag=True, help="Print the full traceback of a plugin that fails to load."
)
@_LIST_FORMAT
def tasks(verbose, debug, form):
    """List installed tasks: summary, distribution, kind, default arch, data sources.

    A plugin that cannot be used is listed as BROKEN with the file and line where it failed;
    the other tasks keep working. --format json gives everything -v shows, for scripts.
    """
    if debug:
        os.environ["SEQAPPS_TRACE_PLUGINS"] = "1"
    rows = registry.list_tasks()
    if form == "json":
        from seqapps.listing import task_record

        click.echo(json.dumps([task_record(row) for row in rows], indent=2, default=str))
        return
    if not rows:
        click.echo("no tasks installed (pip install a seqapps task plugin)")
        return
    width = max(len(row.record.name) for row in rows)
    for row in rows:
        record = row.record
        origin = f"{record.distribution} {record.version}"
        if row.obj is None:
            click.echo(f"{record.name:<{width}}  BROKEN ({origin}): {row.problem}")
            continue
        task = row.obj
        click.echo(f"{record.name:<{width}}  {task.summary}")
        pad = " " * (width + 2)
        kind = f"kind {task.kind} ({task.arch_kind()})"
        click.echo(f"{pad}{kind}, default arch {task.default_arch}, from {origin}")
        click.echo(f"{pad}data: {', '.join(task.data_sources)}")
        if verbose:
            for key, option in task.options.items():
                click.echo(f"{pad}{option.shown(key)}")
            for key, option in task.predict_options.items():
                click.echo(f"{pad}predict {option.shown(key)}")
            headline = task.headline_metrics[0] if task.headline_metrics else "test_loss"
            goal = "higher" if goals.goal(headline, task.metric_goals) == "max" else "lower"
            click.echo(f"{pad}ranked by {headline} ({goal} is better), monitor {task.monitor}")
            folds = getattr(task, "cross_validation", None)
            click.echo(f"{pad}--folds: " + (folds or f"no ({task.no_folds_because})"))
            if task.defaults:
                shown = ", ".join(f"{k}={v}" for k, v in task.defaults.items())
                click.echo(f"{pad}run defaults: {shown}")


@cli.command()
@click.option("-v", "--verbose", is_flag=True, help="Also list each arch's --set options.")
@_LIST_FORMAT
def archs(verbose, form):
    """List architectures: name, the task kinds each serves, fused GPU kernel, summary."""
    rows = registry.list_archs()
    if form == "json":
        from seqapps.listing import arch_record

        click.echo(json.dumps([arch_record(row) for row in rows], indent=2, default=str))
        return
    width = max((len(row.record.name) for row in rows), default=4)
    click.echo(f"{'name':<{width}}  {'kinds':<47}  {'cuDNN':<5}  summary")
    for row in rows:
        if row.obj is None:
            origin = row.record.distribution
            click.echo(f"{row.record.name:<{width}}  BROKEN ({origin}): {row.problem}")
            continue
        arch = row.obj
        fused = "yes" if arch.fused_gpu_kernel else "no"
        kinds = ", ".join(arch.kinds)
        click.echo(f"{arch.name:<{width}}  {kinds:<47}  {fused:<5}  {arch.summary}")
        if verbose:
            pad = " " * (width + 2)
            if not arch.masks:
                click.echo(f"{pad}ignores padding masks: padded steps can change its output")
            for key, option in arch.options.items():
                click.echo(f"{pad}{option.shown(key)}")


@cli.group()
def pipeline():
    """Run declarative sweeps (YAML files in pipelines/) as nested MLflow runs."""


@pipeline.command("run")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@cli_options.set_pairs("Setting or task/arch option applied to every run (wins over the file).")
@click.option("--dry-run", is_flag=True, help="List the runs without training anything.")
@cli_options.tracking_uri()
def pipeline_run(file, set_pairs, dry_run, tracking_uri):
    """Train every combination in FILE as child runs of one MLflow parent run.

    A failed child is recorded and the others go on. Running the same file again continues
    under the same parent and skips the children that already FINISHED.

    \b
    Examples:
      seqapps pipeline run pipelines/sentiment-archs.yaml
      seqapps pipeline run pipelines/smoke.yaml --dry-run
      seqapps pipeline run pipelines/sentiment-archs.yaml --set epochs=2
    """
    from seqapps import sweeps

    pairs = config_module.parse_set_pairs(set_pairs)
    overrides = {key: _yaml_scalar(value) for key, value in pairs.items()}
    loaded = sweeps.load(file, overrides)
    if loaded.study is not None:
        _pipeline_study(loaded, dry_run)
        return
    total = len(loaded.children)
    if dry_run:
        click.echo(f"pipeline {loaded.name}: {total} runs in experiment {loaded.experiment!r}")
        for index, child in enumerate(loaded.children, 1):
            click.echo(f"[{index}/{total}] {child.label}")
        return
    parent_id, outcomes = sweeps.run(loaded, tracking_uri, echo=click.echo)
    counts = {s: sum(o.status == s for o in outcomes) for s in ("FINISHED", "SKIPPED", "FAILED")}
    click.echo(
        f"pipeline {loaded.name}: {counts['FINISHED']} finished, {counts['SKIPPED']} skipped, "
        f"{counts['FAILED']} failed (parent run {parent_id})"
    )
    from seqapps.compare import log_pipeline_leaderboards
    from seqapps.tracking import Tracker, ui_command

    tracker = Tracker(tracking_uri)
    tasks = list(dict.fromkeys(child.task for child in loaded.children))
    log_pipeline_leaderboards(tracker, parent_id, tasks, click.echo)
    click.echo(f"view: {ui_command(tracker.uri)}")
    if counts["FAILED"]:
        sys.exit(1)


def _pipeline_study(loaded, dry_run: bool) -> None:
    """A pipeline file with ``search:``: its study, as `seqapps tune` runs it."""
    from seqapps.search_space import describe
    from seqapps.tune_command import run_study

    study = loaded.study
    if dry_run:
        aim = f"{study.trials} trials" if study.trials else f"{study.timeout:g} s"
        click.echo(
            f"pipeline {loaded.name}: study {study.name} of task {study.task}, {aim} over "
            f"{describe(study.space)} ({study.sampler} sampler, {study.pruner} pruner), "
            f"objective {study.monitor}, experiment {study.experiment!r}"
        )
        return
    for line in run_study(study, click.echo) or ():
        click.echo(line)


def _yaml_scalar(text: str):
    """--set values typed as YAML types them (2 -> int, 0.1 -> float, true -> bool)."""
    import yaml

    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        return text


@cli.command()
@click.argument("task", required=False)
@click.option("--experiment", help="Experiment to rank. [default: the task name]")
@click.option("--parent", help="Rank the children of this pipeline run instead.")
@click.option(
    "--metric",
    help="Metric to rank by, in the task's declared direction. [default: the task's headline "
    "metric, recorded on each run]",
)
@cli_options.set_pairs("Keep only runs whose task option KEY had VALUE; repeatable.")
@click.option(
    "--format",
    "form",
    type=click.Choice(["table", "csv", "json"]),
    default="table",
    show_default=True,
    help="Output format (csv and json for scripts).",
)
@click.option(
    "--output-dir",
    type=click.Path(file_okay=False),
    help="Save leaderboard.png and learning_curves.png here.",
)
@cli_options.tracking_uri()
def compare(task, experiment, parent, metric, set_pairs, form, output_dir, tracking_uri):
    """Leaderboard of finished runs: mean ± std over seeds, the params that differ, run ids.

    \b
    Examples:
      seqapps compare sentiment
      seqapps compare --parent 3f2c...e9 --metric test_macro_f1
      seqapps compare stock --format csv > stock.csv
      seqapps compare speech --set mode=ctc     # only the CTC runs, ranked by test_cer
    """
    from seqapps import compare as compare_module
    from seqapps.tracking import Tracker

    if not (task or experiment or parent):
        raise click.UsageError("name a TASK, --experiment or --parent")
    tracker = Tracker(tracking_uri)
    runs = compare_module.fetch_runs(tracker.client, experiment or task, parent)
    where = {key: str(value) for key, value in config_module.parse_set_pairs(set_pairs).items()}
    declared = compare_module.task_goals(task)
    board = compare_module.build(runs, metric, task=task, where=where, declared=declared)
    click.echo(compare_module.render(board, form).rstrip("\n"))
    if form == "table":
        click.echo(compare_module.ranking_line(board))
    if not (output_dir or parent):
        return
    shown = compare_module.figures(board, tracker.client)
    if output_dir:
        Path(output_dir).mkdir(parents=True, exist_ok=True)
        for name, figure in shown.items():
            figure.savefig(Path(output_dir) / f"{name}.png", dpi=110)
        if form == "table":
            click.echo(f"figures: {output_dir}/leaderboard.png, {output_dir}/learning_curves.png")
    if parent:
        for name, figure in shown.items():
            tracker.log_figure(parent, figure, f"compare/{name}.png")


@cli.command()
@cli_options.tracking_uri("Store to browse.")
@click.option("--port", type=int, default=5000, show_default=True, help="Port on 127.0.0.1.")
@click.option("--workers", type=int, default=1, show_default=True, help="Server processes.")
def ui(tracking_uri, port, workers):
    """Open the MLflow UI on the same store `seqapps run` logs to."""
    from seqapps import serving
    from seqapps.tracking import resolve_tracking_uri

    uri = resolve_tracking_uri(tracking_uri)
    serving.check_port_free(port)
    if uri.startswith("sqlite:///") and not Path(uri[len("sqlite:///") :]).exists():
        click.echo(f"note: {uri} does not exist yet; run `seqapps run ...` first", err=True)
    command = [
        sys.executable,
        "-m",
        "mlflow",
        "ui",
        "--backend-store-uri",
        uri,
        "--host",
        serving.HOST,
        "--port",
        str(port),
        "--workers",
        str(workers),
    ]
    click.echo(f"starting the MLflow UI for {uri} ...", err=True)

    def announce():
        click.echo(f"MLflow UI on http://{serving.HOST}:{port} for {uri} (Ctrl-C to stop)")

    sys.exit(serving.run_server(command, f"http://{serving.HOST}:{port}/health", announce))


def _add_run_options(command: click.Command) -> None:
    """Give ``command`` every `seqapps run` option it takes, as fixed settings."""
    from seqapps.tune_command import NOT_FOR_TUNE

    taken = {param.name for param in command.params}
    for param in run.params:
        if param.name not in NOT_FOR_TUNE and param.name not in taken and param.name != "task":
            command.params.append(param)


_add_run_options(tune_command.tune)
cli.add_command(tune_command.tune)
cli.add_command(model_commands.evaluate)
cli.add_command(model_commands.export)
cli.add_command(model_commands.serve)


@cli.group()
def new():
    """Write a new plugin package (task or arch) that installs and passes its own tests."""


@new.command("task")
@click.argument("name")
@click.option("--dir", "directory", help="Folder to write. [default: NAME]")
def new_task(name, directory):
    """A task plugin NAME: a working classification task on an embedded sample, its
    entry point, a README and tests that run the conformance kit (seqapps.testing).

    \b
    Example:
      seqapps new task demo && pip install ./demo && pytest demo && seqapps run demo
    """
    _write_plugin("task", name, directory, f"seqapps run {name}")


@new.command("arch")
@click.argument("name")
@click.option("--dir", "directory", help="Folder to write. [default: NAME]")
def new_arch(name, directory):
    """An architecture plugin NAME: a masked Conv1D + GRU encoder with a custom layer, its
    entry points, a README and tests that run the conformance kit (seqapps.testing).

    \b
    Example:
      seqapps new arch convgru && pip install ./convgru && pytest convgru
    """
    _write_plugin("arch", name, directory, f"seqapps archs  # lists {name}")


def _write_plugin(kind: str, name: str, directory: str | None, then: str) -> None:
    from seqapps import scaffold

    folder = Path(directory or name)
    written = scaffold.write_plugin(kind, name, folder)
    click.echo(f"wrote {len(written)} files to {folder}/:")
    for path in written:
        click.echo(f"  {path.relative_to(folder)}")
    click.echo(f"next: pip install ./{folder} && pytest {folder} && {then}")


def main():
    """Console-script entry point."""
    warnings.showwarning = _show_warning
    cli(prog_name="seqapps")
