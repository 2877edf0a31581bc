"""The conformance kit: what every task plugin must do, as tests a plugin's own suite runs.

In the plugin's tests (pytest)::

    from seqapps.testing import TaskConformance

    class TestMyTask(TaskConformance):
        task = "mytask"                       # the registered name
        predict_inputs = ["some raw input"]   # what `seqapps predict` would get

pytest then collects the checks below as tests of ``TestMyTask``. Each check is also a
function (``check_declarations``, ``check_archs_train``, ``check_run_and_predict``,
``check_bad_inputs``) that returns the problems found, for use outside pytest. An arch
plugin's tests subclass ``ArchConformance`` and set ``arch`` the same way. The checks
use real TensorFlow, Keras and MLflow (a temporary sqlite store), on a few examples.
"""

from __future__ import annotations

import inspect
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, ClassVar

from seqapps.task import TASK_KINDS, Task

try:
    import pytest

    #: The checks that train: deselected by ``pytest -m "not slow"`` while working.
    slow = pytest.mark.slow
except ImportError:  # the check functions work without pytest

    def slow(test):
        return test


#: The run settings of every check: one epoch of a few examples, a small model.
_SMALL_RUN = {"epochs": 1, "units": 8, "batch_size": 4, "max_samples": 12, "patience": 0}


def check_declarations(task_cls: type[Task]) -> list[str]:
    """Problems with the class attributes and methods a task declares (no TensorFlow needed)."""
    from seqapps import goals
    from seqapps.config import RunConfig

    problems = []
    if inspect.isabstract(task_cls):
        missing = ", ".join(sorted(task_cls.__abstractmethods__))
        problems.append(f"{task_cls.__name__} does not implement {missing}")
    for attribute in ("name", "summary", "kind", "default_arch"):
        if not isinstance(getattr(task_cls, attribute, None), str):
            problems.append(f"{task_cls.__name__}.{attribute} is not set (a string)")
    if getattr(task_cls, "kind", None) not in TASK_KINDS:
        problems.append(f"kind {getattr(task_cls, 'kind', None)!r} is not one of {TASK_KINDS}")
    if not task_cls.data_sources:
        problems.append("data_sources is empty (name at least the embedded sample)")
    for group in ("options", "predict_options"):
        for key, option in getattr(task_cls, group).items():
            if not getattr(option, "help", "").strip():
                problems.append(f"{group}[{key!r}] has no help text")
    fields = set(RunConfig.__dataclass_fields__) - {"task", "options"}
    problems += [f"defaults[{k!r}] is no run setting" for k in task_cls.defaults if k not in fields]
    problems += [
        f"headline metric {m!r} does not start with test_"
        for m in task_cls.headline_metrics
        if not m.startswith("test_")
    ]
    problems += [
        f"metric_goals[{m!r}] is {g!r}, not one of {goals.GOALS}"
        for m, g in task_cls.metric_goals.items()
        if g not in goals.GOALS
    ]
    if not task_cls.monitor.startswith(("val_", "train_")):
        problems.append(f"monitor {task_cls.monitor!r} is not a val_ or train_ metric")
    return problems


def small_config(task_cls: type[Task], workdir: Path, **settings: Any):
    """A RunConfig for a run of a few examples, logged to a sqlite store in ``workdir``;
    ``settings`` are run settings, and ``options`` the task's --set values."""
    from seqapps import config, registry

    options = settings.pop("options", None) or {}
    flags = {**_SMALL_RUN, "verbose": 0, "output_dir": str(workdir / "runs"), **settings}
    flags.setdefault("tracking_uri", f"sqlite:///{workdir / 'mlflow.db'}")
    return config.resolve(task_cls, flags, set_values=options, load_arch=registry.load_arch)


def check_archs_train(task_cls: type[Task], workdir: Path, archs=None, settings=None) -> list[str]:
    """Build the model with every arch of the task's kind (or ``archs``) and fit one epoch on
    a few batches of its data; the problems found, one per failing arch."""
    from seqapps import registry
    from seqapps.tensorflow_import import import_tensorflow

    import_tensorflow()
    base = small_config(task_cls, workdir, **(settings or {}))
    task = task_cls()
    data = task.load_data(base)
    batches = _two_batches(task, data, base)
    problems = []
    for name in archs or registry.archs_for_kind(task_cls.arch_kind(base)):
        try:
            _fit_once(task, data, registry.load_arch(name), base, batches)
        except Exception as error:  # every arch is tried; each failure is one problem
            problems.append(f"arch {name}: {type(error).__name__}: {error}".splitlines()[0])
    return problems


def _two_batches(task: Task, data, config) -> list:
    """Two training batches from the core's own pipeline (batch, augment), made once for
    every arch: featurizing audio per arch cost more than the fits."""
    import dataclasses

    from seqapps import input_pipeline

    small = dataclasses.replace(data, train=data.train.take(8), sizes={**data.sizes, "train": 8})
    stateful = task.truncated_bptt(config) is not None
    train, _, _ = input_pipeline.build(task, small, config, 4, stateful)
    return list(train.take(2))


def _fit_once(task: Task, data, arch, config, batches: list) -> None:
    import dataclasses

    import keras

    config = dataclasses.replace(config, arch=arch.name)
    model = task.build_model(data.spec, arch, config)
    loss, metrics = task.loss_and_metrics(data.spec)
    # Eager: two steps do not repay tracing a graph (about half the time of this check).
    model.compile(
        optimizer=keras.optimizers.Adam(1e-3), loss=loss, weighted_metrics=metrics, run_eagerly=True
    )
    for batch in batches:
        logs = model.train_on_batch(*batch, return_dict=True)
    if logs["loss"] != logs["loss"]:
        raise ValueError("the loss is NaN after two training steps")


def check_run_and_predict(
    task_cls: type[Task], workdir: Path, inputs: list[str], settings=None
) -> list[str]:
    """A whole `seqapps run` on a few examples, then predict with the logged model in a FRESH
    process (only what export_metadata saved is there); the problems found."""
    from mlflow import MlflowClient

    from seqapps import training

    config = small_config(task_cls, workdir, **(settings or {}))
    result = training.run(task_cls, config, echo=lambda _line: None)
    run = MlflowClient(config.tracking_uri).get_run(result.run_id)
    problems = []
    if run.info.status != "FINISHED":
        problems.append(f"the run ended {run.info.status}")
    if not any(key.startswith("test_") for key in run.data.metrics):
        problems.append("the run logged no test_ metric")
    folder = Path(config.output_dir) / result.run_id / "model"
    return problems + predict_in_fresh_process(task_cls, folder, inputs)


def predict_in_fresh_process(task_cls: type[Task], folder: Path, inputs: list[str]) -> list[str]:
    """Load the model folder and call ``predict`` in a new Python process; its problems."""
    target = f"{task_cls.__module__}:{task_cls.__qualname__}"
    code = (
        "import json, sys; from seqapps.testing import _predict_here; "
        "print(json.dumps(_predict_here(sys.argv[1], sys.argv[2], sys.argv[3:])))"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    done = subprocess.run(
        [sys.executable, "-c", code, target, str(folder), *inputs],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["(no output)"])[-1]
        return [f"predict fails in a fresh process: {last}"]
    rows = json.loads(done.stdout.strip().splitlines()[-1])
    if inputs and not rows:
        return ["predict returned no rows in a fresh process"]
    return []


def _predict_here(target: str, folder: str, inputs: list[str]) -> list[dict]:
    """(In the fresh process) import the task class, load the folder, predict ``inputs``."""
    import importlib

    from seqapps import models
    from seqapps.mlflow_model import call_predict
    from seqapps.predicting import prediction_options

    module, _, qualname = target.partition(":")
    task_cls = importlib.import_module(module)
    for part in qualname.split("."):
        task_cls = getattr(task_cls, part)
    metadata = models.read_metadata(Path(folder))
    loaded = models.LoadedModel(models.load_keras(Path(folder), metadata), metadata, task_cls)
    rows = call_predict(task_cls(), loaded, inputs, prediction_options(task_cls, {}))
    return json.loads(json.dumps(rows, default=str))


def check_bad_inputs(task_cls: type[Task], workdir: Path, settings=None) -> list[str]:
    """Feed ``load_data`` a missing file, an empty file, a folder and binary bytes: each must
    be one line naming the path (a seqapps error), never a traceback."""
    from seqapps.exceptions import SeqappsError

    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "empty.txt").write_text("")
    (workdir / "binary.bin").write_bytes(bytes(range(256)) * 8)
    (workdir / "a-folder").mkdir(exist_ok=True)
    problems = []
    for name in ("missing.csv", "empty.txt", "binary.bin", "a-folder"):
        source = str(workdir / name)
        try:
            config = small_config(task_cls, workdir, **{**(settings or {}), "data": source})
            task_cls().load_data(config)
            problems.append(f"--data {name}: accepted without a word")
        except SeqappsError as error:
            if "\n" in str(error) or name not in str(error):
                problems.append(f"--data {name}: the error is not one line naming it: {error}")
        except Exception as error:  # the very thing this check looks for
            problems.append(f"--data {name}: {type(error).__name__} instead of one clear line")
    return problems


def check_arch_declarations(arch) -> list[str]:
    """Problems with an Arch's declaration: its name, summary, kinds and options."""
    from seqapps.archs import ARCH_KINDS

    problems = [f"kind {k!r} is not one of {ARCH_KINDS}" for k in arch.kinds if k not in ARCH_KINDS]
    if not arch.summary.strip():
        problems.append("summary is empty")
    problems += [f"options[{k!r}] has no help text" for k, o in arch.options.items() if not o.help]
    return problems


def check_arch_trains(arch, workdir: Path) -> list[str]:
    """For each kind the arch serves (seq2seq aside): build a small model around its encoder
    with padded (masked) inputs, fit one epoch, save it, and load it in a fresh process."""
    import keras
    import numpy as np

    from seqapps.archs import SEQ2SEQ, EncoderSettings, returns_sequences

    rng = np.random.default_rng(0)
    x = rng.normal(size=(16, 6, 3)).astype("float32")
    x[:, 4:] = 0.0  # the last two steps are padding
    problems, saved = [], []
    for kind in (k for k in arch.kinds if k != SEQ2SEQ):
        try:
            inputs = keras.Input((6, 3))
            masked = keras.layers.Masking(0.0)(inputs)
            encoded = arch.build_encoder(masked, EncoderSettings(units=8, seed=1), kind)
            outputs = keras.layers.Dense(2, activation="softmax")(encoded)
            model = keras.Model(inputs, outputs)
            model.compile(loss="sparse_categorical_crossentropy", run_eagerly=True)
            y = rng.integers(0, 2, (16, 6) if returns_sequences(kind) else (16,))
            model.fit(x, y, epochs=1, batch_size=8, verbose=0)
            model.save(workdir / f"{arch.name}-{kind}.keras")
            saved.append(workdir / f"{arch.name}-{kind}.keras")
        except Exception as error:  # each kind is tried; each failure is one problem
            problems.append(f"kind {kind}: {type(error).__name__}: {error}".splitlines()[0])
    return problems + _load_in_fresh_process(saved)


def _load_in_fresh_process(paths: list[Path]) -> list[str]:
    """Load saved models in ONE new process (a TensorFlow import costs seconds)."""
    if not paths:
        return []
    code = (
        "import sys, keras, seqapps.keras_objects\n"
        "for path in sys.argv[1:]:\n"
        "    try:\n        keras.saving.load_model(path)\n"
        "    except Exception as error:\n"
        "        print(path, type(error).__name__, str(error).splitlines()[0][:300])\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    done = subprocess.run(
        [sys.executable, "-c", code, *map(str, paths)], capture_output=True, text=True, env=env
    )
    failed = done.stdout.splitlines()  # one line per model that did not load
    if done.returncode:
        failed.append((done.stderr.strip().splitlines() or ["(no output)"])[-1])
    return [f"a saved model does not load in a fresh process: {line}" for line in failed]


class ArchConformance:
    """Subclass in an arch plugin's tests and set ``arch``; pytest runs every check."""

    #: The registered arch name.
    arch: ClassVar[str]

    def arch_object(self):
        """The Arch, loaded through its entry point as `seqapps` does."""
        from seqapps import registry

        return registry.load_arch(self.arch)

    def test_declarations(self):
        _passes(check_arch_declarations(self.arch_object()))

    @slow
    def test_trains_saves_and_loads_for_every_kind(self, tmp_path):
        from seqapps.tensorflow_import import import_tensorflow

        import_tensorflow()
        _passes(check_arch_trains(self.arch_object(), tmp_path))


class TaskConformance:
    """Subclass in a plugin's tests and set ``task``; pytest runs every check as a test."""

    #: The registered task name.
    task: ClassVar[str]
    #: Raw inputs for ``predict`` (what `seqapps predict` would pass); empty for generation.
    predict_inputs: ClassVar[list[str]] = []
    #: --set options for every check (e.g. a smaller embedded sample).
    options: ClassVar[dict[str, Any]] = {}
    #: Archs to train one epoch each; None = every installed arch of the task's kind.
    archs: ClassVar[list[str] | None] = None
    #: Run settings over the kit's small ones (e.g. {"max_samples": 40} when a dozen
    #: examples per split would miss a class).
    settings: ClassVar[dict[str, Any]] = {}
    #: A test of your own suite that already trains a run, logs it and predicts from it in
    #: a fresh process (a stronger check than the kit's): the kit's run check then skips,
    #: naming it, instead of training the same thing twice.
    run_checked_by: ClassVar[str | None] = None

    def make_predict_inputs(self, folder: Path) -> list[str]:
        """Inputs for ``predict``; override to write files (WAV, CSV) into ``folder`` first."""
        return list(self.predict_inputs)

    def run_settings(self) -> dict[str, Any]:
        """The class's ``settings`` with its ``options`` under "options"."""
        return {**self.settings, "options": dict(self.options)}

    def task_class(self) -> type[Task]:
        """The task class, loaded through its entry point as `seqapps` does."""
        from seqapps import registry

        return registry.load_task(self.task)

    def test_declarations(self):
        _passes(check_declarations(self.task_class()))

    @slow
    def test_every_arch_builds_and_trains_an_epoch(self, tmp_path):
        _passes(check_archs_train(self.task_class(), tmp_path, self.archs, self.run_settings()))

    @slow
    def test_a_run_logs_and_predicts_in_a_fresh_process(self, tmp_path):
        if self.run_checked_by:
            import pytest

            pytest.skip(f"checked by {self.run_checked_by}")
        inputs = self.make_predict_inputs(tmp_path)
        _passes(check_run_and_predict(self.task_class(), tmp_path, inputs, self.run_settings()))

    def test_bad_data_is_one_clear_line(self, tmp_path):
        _passes(check_bad_inputs(self.task_class(), tmp_path / "bad", self.run_settings()))


def _passes(problems: list[str]) -> None:
    """Fail the calling test with every problem, one per line."""
    if problems:
        raise AssertionError("\n".join(problems))


def pytest_configure(config):
    """(pytest plugin, entry point ``pytest11``) Register the ``slow`` marker the kit uses."""
    config.addinivalue_line("markers", "slow: trains models (seqapps.testing)")
