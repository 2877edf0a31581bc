"""Measure seqapps against bare Keras: CLI latency, per-epoch overhead, pipeline headroom, archs.

    python benchmarks/run.py --quick                  # a few minutes, CI-friendly
    python benchmarks/run.py --json results.json      # the full run behind docs/benchmarks.md
    python benchmarks/run.py --only latency,overhead
    python benchmarks/run.py --only overhead --tasks stock

Every figure is a median over repeats with its spread (min..max). Nothing here is asserted:
the numbers are for people to read and compare.
"""

from __future__ import annotations

import itertools
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import click

SECTIONS = ("latency", "overhead", "headroom", "archs", "scaling", "options")


def spread(values: list[float]) -> dict[str, float]:
    """Median, min and max of repeated measurements."""
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def show(value: dict[str, float], unit: str = "", digits: int = 3) -> str:
    return (
        f"{value['median']:.{digits}f}{unit} ({value['min']:.{digits}f}..{value['max']:.{digits}f})"
    )


def took(results: dict, section: str, started: float) -> None:
    """Record and print how long a section ran, so users know what --only saves."""
    seconds = time.perf_counter() - started
    results.setdefault("section_seconds", {})[section] = seconds
    click.echo(f"({section}: {seconds:.0f} s)")


def table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    return "\n".join("  ".join(str(c).ljust(w) for c, w in zip(r, widths)) for r in [header, *rows])


# -- command latency -----------------------------------------------------------------------


#: Commands timed in fresh processes, and the exit code each must end with: the answers a
#: user waits for at a prompt, and a mistake that must be named before TensorFlow loads.
LATENCY_COMMANDS = (
    (["--help"], 0),
    (["tasks"], 0),
    (["archs"], 0),
    (["run", "sentiment", "--data", "nothere.csv"], 2),
)


def latency(repeats: int) -> list[dict]:
    """Wall time of `seqapps --help`, `tasks`, `archs` and a run with a missing --data file,
    each in fresh processes."""
    results = []
    for command, code in LATENCY_COMMANDS:
        times = []
        for _ in range(repeats):
            started = time.perf_counter()
            done = subprocess.run([sys.executable, "-m", "seqapps", *command], capture_output=True)
            times.append(time.perf_counter() - started)
            if done.returncode != code:
                raise click.ClickException(f"seqapps {' '.join(command)} exited {done.returncode}")
        results.append({"command": "seqapps " + " ".join(command), "seconds": spread(times)})
    return results


# -- overhead and headroom -------------------------------------------------------------------


def _prepare(task_name: str, flags: dict, workdir: Path):
    from seqapps import config as config_module
    from seqapps import registry

    flags = {"verbose": 0, "tracking_uri": f"sqlite:///{workdir / 'bench.db'}", **flags}
    set_values = flags.pop("set", {})
    task_cls = registry.load_task(flags.pop("task", task_name))
    config = config_module.resolve(
        task_cls, flags, set_values=set_values, load_arch=registry.load_arch
    )
    return task_cls, config


def seqapps_epoch_seconds(task_name: str, flags: dict, workdir: Path) -> list[float]:
    """Epoch times of a real `seqapps run`, from the per-epoch MLflow metric timestamps."""
    from mlflow import MlflowClient

    from seqapps import training

    task_cls, config = _prepare(task_name, flags, workdir)
    result = training.run(task_cls, config, echo=lambda _line: None)
    history = MlflowClient(result.tracking_uri).get_metric_history(result.run_id, "train_loss")
    stamps = [m.timestamp / 1000 for m in sorted(history, key=lambda m: m.step)]
    return [b - a for a, b in itertools.pairwise(stamps)]  # epochs after the first


def bare_keras(task_name: str, flags: dict, workdir: Path) -> tuple[list[float], float]:
    """The same model on the same batches in a plain `model.fit`: epoch times, steps/epoch."""
    import keras

    from seqapps import input_pipeline, registry

    task_cls, config = _prepare(task_name, flags, workdir)
    task = task_cls()
    data = task.load_data(config)
    keras.utils.set_random_seed(config.seed)
    # The very same tf.data pipeline seqapps trains on: only our wrapper differs.
    train, validation, _ = input_pipeline.build(task, data, config, config.batch_size, False)
    steps = sum(1 for _ in train)
    model = task.build_model(data.spec, registry.load_arch(config.arch), config)
    loss, metrics = task.loss_and_metrics(data.spec)
    optimizer = keras.optimizers.Adam(config.learning_rate, global_clipnorm=config.clip_norm)
    model.compile(optimizer=optimizer, loss=loss, metrics=metrics)
    stamps = []

    class Clock(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            stamps.append(time.perf_counter())

    model.fit(
        train,
        validation_data=validation,
        epochs=config.epochs,
        verbose=0,
        shuffle=False,
        callbacks=[Clock()],
    )
    return [b - a for a, b in itertools.pairwise(stamps)], steps


def pipeline_batches_per_second(task_name: str, flags: dict, workdir: Path, passes: int) -> float:
    """How fast the training input pipeline alone yields batches, fed as seqapps feeds `fit`:
    one iterator over every epoch; the first epoch (which fills the cache) is not timed."""
    from seqapps import input_pipeline

    task_cls, config = _prepare(task_name, flags, workdir)
    task = task_cls()
    data = task.load_data(config)
    steps = input_pipeline.steps_per_epoch(task, data, config.batch_size, False)
    train, _, _ = input_pipeline.build(
        task, data, config, config.batch_size, False, epochs=(0, passes + 1)
    )
    batches = iter(train)
    for _ in range(steps):  # warm-up: fills the cache as training's first epoch does
        next(batches)
    count, started = 0, time.perf_counter()
    for _ in batches:
        count += 1
    return count / (time.perf_counter() - started)


TASKS = {
    "sentiment": {"arch": "bilstm"},
    "pos": {"arch": "bilstm"},
    "stock": {"arch": "lstm"},
    # 120 chorales keep an epoch near the others' length. Speech featurizes every training
    # clip anew each epoch after augmenting its audio, the heaviest pipeline of all; its
    # mel-domain augmentation skips that STFT.
    "music": {"arch": "lstm", "max_samples": 120},
    "speech": {"arch": "bilstm"},
    "speech-mel": {"task": "speech", "arch": "bilstm", "set": {"augment_domain": "mel"}},
}


def overhead_and_headroom(
    repeats: int, epochs: int, workdir: Path, sections: set[str], tasks: list[str]
) -> list[dict]:
    results = []
    for task_name, flags in TASKS.items():
        if task_name not in tasks:
            continue
        flags = {**flags, "epochs": epochs, "patience": 0}
        ours, bare, headroom = [], [], []
        for _ in range(repeats):  # alternate, so drifts in machine load hit both alike
            bare_times, steps = bare_keras(task_name, flags, workdir)
            bare.append(statistics.median(bare_times))
            if "overhead" in sections:
                ours.append(statistics.median(seqapps_epoch_seconds(task_name, flags, workdir)))
            if "headroom" in sections:
                consumed = steps / bare[-1]
                headroom.append(
                    pipeline_batches_per_second(task_name, flags, workdir, 4) / consumed
                )
        row = {"task": task_name, "bare_epoch_seconds": spread(bare)}
        if ours:
            row["seqapps_epoch_seconds"] = spread(ours)
            row["overhead_ratio"] = spread([o / b for o, b in zip(ours, bare)])
        if headroom:
            row["pipeline_headroom"] = spread(headroom)
        results.append(row)
    return results


# -- architecture throughput -------------------------------------------------------------------


def arch_throughput(repeats: int, examples: int) -> list[dict]:
    """Training and inference examples/s of every arch on a fixed many-to-one problem."""
    import keras
    import numpy as np

    from seqapps import registry
    from seqapps.archs import EncoderSettings

    rng = np.random.default_rng(0)
    steps, features = 50, 32
    x = rng.normal(size=(examples, steps, features)).astype("float32")
    y = (x[:, :, 0].sum(axis=1) > 0).astype("int32")
    results = []
    for name in registry.archs_for_kind("many-to-one"):
        arch = registry.load_arch(name)
        inputs = keras.Input((steps, features))
        encoded = arch.build_encoder(inputs, EncoderSettings(units=64, seed=0), "many-to-one")
        model = keras.Model(inputs, keras.layers.Dense(2, activation="softmax")(encoded))
        model.compile("adam", "sparse_categorical_crossentropy")
        model.fit(x[:256], y[:256], batch_size=64, epochs=1, verbose=0)  # build and trace
        model.predict(x[:256], batch_size=256, verbose=0)
        train, infer = [], []
        for _ in range(repeats):
            started = time.perf_counter()
            model.fit(x, y, batch_size=64, epochs=1, verbose=0)
            train.append(examples / (time.perf_counter() - started))
            started = time.perf_counter()
            model.predict(x, batch_size=256, verbose=0)
            infer.append(examples / (time.perf_counter() - started))
        results.append(
            {
                "arch": name,
                "parameters": model.count_params(),
                "train_examples_per_second": spread(train),
                "inference_examples_per_second": spread(infer),
            }
        )
    return results


# -- scaling -----------------------------------------------------------------------------------


def _synthetic_epoch_seconds(arch_name: str, examples: int, steps: int, repeats: int) -> list:
    """Seconds per training epoch of ``arch_name`` on random (examples, steps, 32) inputs."""
    import keras
    import numpy as np

    from seqapps import registry
    from seqapps.archs import EncoderSettings

    rng = np.random.default_rng(0)
    x = rng.normal(size=(examples, steps, 32)).astype("float32")
    y = (x[:, :, 0].sum(axis=1) > 0).astype("int32")
    arch = registry.load_arch(arch_name)
    inputs = keras.Input((steps, 32))
    encoded = arch.build_encoder(inputs, EncoderSettings(units=64, seed=0), "many-to-one")
    model = keras.Model(inputs, keras.layers.Dense(2, activation="softmax")(encoded))
    model.compile("adam", "sparse_categorical_crossentropy")
    model.fit(x[:128], y[:128], batch_size=64, epochs=1, verbose=0)  # build and trace
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        model.fit(x, y, batch_size=64, epochs=1, verbose=0)
        times.append(time.perf_counter() - started)
    return times


def scaling(repeats: int, quick: bool, workdir: Path) -> dict:
    """Epoch time against sequence length and dataset size (lstm), and against replicas."""
    lengths = [25, 50, 100, 200] if not quick else [25, 50, 100]
    sizes = [1024, 2048, 4096, 8192] if not quick else [1024, 2048, 4096]
    by_length = [
        {"steps": n, "seconds": spread(_synthetic_epoch_seconds("lstm", 2048, n, repeats))}
        for n in lengths
    ]
    by_size = [
        {"examples": n, "seconds": spread(_synthetic_epoch_seconds("lstm", n, 50, repeats))}
        for n in sizes
    ]
    replicas = []
    for label, args in (
        ("default, 1 device, batch 32", ["--strategy", "default", "--batch-size", "32"]),
        (
            "mirrored, 2 logical CPUs, 16 per replica",
            ["--strategy", "mirrored", "--devices", "cpu:0,cpu:1", "--batch-size", "16"],
        ),
    ):
        seconds = [_cli_epoch_seconds(args, workdir, epochs=4) for _ in range(max(1, repeats // 2))]
        replicas.append({"setup": label, "seconds": spread(seconds)})
    return {"length": by_length, "size": by_size, "replicas": replicas}


def _cli_epoch_seconds(args: list[str], workdir: Path, epochs: int, task: str = "sentiment"):
    """Median epoch time (after the first) of `seqapps run` in a fresh process."""
    from mlflow import MlflowClient

    uri = f"sqlite:///{workdir / 'cli.db'}"
    command = [sys.executable, "-m", "seqapps", "run", task, "--epochs", str(epochs)]
    command += ["--patience", "0", "-q", "--tracking-uri", uri, *args]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    run_id = next(line.split()[1] for line in output.splitlines() if line.startswith("run "))
    history = MlflowClient(uri).get_metric_history(run_id, "train_loss")
    stamps = [m.timestamp / 1000 for m in sorted(history, key=lambda m: m.step)]
    return statistics.median(b - a for a, b in itertools.pairwise(stamps))


OPTIONS = {
    "default": [],
    "--jit-compile": ["--jit-compile"],
    "--steps-per-execution 8": ["--steps-per-execution", "8"],
}


def options(repeats: int, workdir: Path) -> list[dict]:
    """Epoch time of the speed options against the defaults, per task and arch."""
    results = []
    for task, arch in (("stock", "lstm"), ("stock", "conv1d"), ("sentiment", "gru")):
        base = None
        for label, args in OPTIONS.items():
            seconds = [
                _cli_epoch_seconds(["--arch", arch, *args], workdir, epochs=5, task=task)
                for _ in range(repeats)
            ]
            row = {"task": task, "arch": arch, "option": label, "seconds": spread(seconds)}
            base = base or row["seconds"]["median"]
            row["ratio"] = row["seconds"]["median"] / base
            results.append(row)
    return results


def machine() -> dict:
    import keras
    import tensorflow as tf

    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "gpus": len(tf.config.list_physical_devices("GPU")),
    }


@click.command()
@click.option("--quick", is_flag=True, help="Fewer repeats and epochs: a few minutes.")
@click.option("--only", help=f"Comma-separated sections of: {', '.join(SECTIONS)}.")
@click.option(
    "--tasks",
    "task_names",
    default=",".join(TASKS),
    show_default=True,
    help="Tasks of the overhead and headroom sections.",
)
@click.option(
    "--json", "json_path", type=click.Path(dir_okay=False), help="Also write the results here."
)
def main(quick, only, task_names, json_path):
    """Run the benchmarks and print one table per section."""
    sections = set(only.split(",")) if only else set(SECTIONS)
    unknown = sections - set(SECTIONS)
    if unknown:
        raise click.BadParameter(
            f"unknown section {sorted(unknown)[0]!r}; choose from {', '.join(SECTIONS)}"
        )
    tasks = task_names.split(",")
    unknown_tasks = [name for name in tasks if name not in TASKS]
    if unknown_tasks:
        raise click.BadParameter(
            f"unknown task {unknown_tasks[0]!r}; choose from {', '.join(TASKS)}",
            param_hint="--tasks",
        )
    repeats, epochs = (2, 4) if quick else (5, 8)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from seqapps.tensorflow_import import import_tensorflow

    import_tensorflow()
    results: dict = {"machine": machine(), "quick": quick}
    click.echo(f"machine: {results['machine']}")
    if "latency" in sections:
        started = time.perf_counter()
        results["latency"] = latency(repeats * 3)
        click.echo("\nCommand latency (targets: --help under 0.5 s, missing --data under 1 s)")
        click.echo(
            table(
                ["command", "seconds median (min..max)"],
                [[r["command"], show(r["seconds"])] for r in results["latency"]],
            )
        )
        took(results, "latency", started)
    if sections & {"overhead", "headroom"}:
        started = time.perf_counter()
        with tempfile.TemporaryDirectory() as folder:
            rows = overhead_and_headroom(repeats, epochs, Path(folder), sections, tasks)
        results["tasks"] = rows
        click.echo(
            "\nPer-epoch time against bare Keras on identical tensors"
            " (targets: ratio <= 1.05, headroom >= 10x)"
        )
        click.echo(
            table(
                [
                    "task",
                    "bare keras s/epoch",
                    "seqapps s/epoch",
                    "overhead ratio",
                    "pipeline headroom",
                ],
                [
                    [
                        r["task"],
                        show(r["bare_epoch_seconds"]),
                        show(r["seqapps_epoch_seconds"]) if "seqapps_epoch_seconds" in r else "-",
                        show(r["overhead_ratio"]) if "overhead_ratio" in r else "-",
                        show(r["pipeline_headroom"], "x", 1) if "pipeline_headroom" in r else "-",
                    ]
                    for r in rows
                ],
            )
        )
        took(results, "overhead/headroom", started)
    if "archs" in sections:
        started = time.perf_counter()
        results["archs"] = arch_throughput(repeats, 1024 if quick else 4096)
        click.echo("\nArchitecture throughput (50 steps x 32 features, 64 units, batch 64, CPU)")
        click.echo(
            table(
                ["arch", "params", "train ex/s", "inference ex/s"],
                [
                    [
                        r["arch"],
                        f"{r['parameters']:,}",
                        show(r["train_examples_per_second"], "", 0),
                        show(r["inference_examples_per_second"], "", 0),
                    ]
                    for r in results["archs"]
                ],
            )
        )
        took(results, "archs", started)
    if "scaling" in sections:
        started = time.perf_counter()
        with tempfile.TemporaryDirectory() as folder:
            results["scaling"] = scaling(repeats, quick, Path(folder))
        rows = results["scaling"]
        click.echo("\nEpoch time against sequence length (lstm, 2048 examples, batch 64)")
        click.echo(
            table(
                ["steps", "s/epoch", "s per 100 steps"],
                [
                    [
                        r["steps"],
                        show(r["seconds"]),
                        f"{100 * r['seconds']['median'] / r['steps']:.3f}",
                    ]
                    for r in rows["length"]
                ],
            )
        )
        click.echo("\nEpoch time against dataset size (lstm, 50 steps, batch 64)")
        click.echo(
            table(
                ["examples", "s/epoch", "ms per 100 examples"],
                [
                    [
                        r["examples"],
                        show(r["seconds"]),
                        f"{1e5 * r['seconds']['median'] / r['examples']:.2f}",
                    ]
                    for r in rows["size"]
                ],
            )
        )
        click.echo("\nEpoch time against replicas (sentiment, lstm, global batch 32)")
        click.echo(
            table(
                ["setup", "s/epoch"], [[r["setup"], show(r["seconds"])] for r in rows["replicas"]]
            )
        )
        took(results, "scaling", started)
    if "options" in sections:
        started = time.perf_counter()
        with tempfile.TemporaryDirectory() as folder:
            results["options"] = options(1 if quick else max(2, repeats // 2), Path(folder))
        click.echo("\nSpeed options (s/epoch after the first; ratio against the default)")
        click.echo(
            table(
                ["task", "arch", "option", "s/epoch", "ratio"],
                [
                    [r["task"], r["arch"], r["option"], show(r["seconds"]), f"{r['ratio']:.2f}"]
                    for r in results["options"]
                ],
            )
        )
        took(results, "options", started)
    total = sum(results.get("section_seconds", {}).values())
    click.echo(f"\nTotal: {total / 60:.1f} min")
    if json_path:
        Path(json_path).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
