"""The MLflow Model of a run: a pyfunc over the task's raw input, with signature and example.

``mlflow.pyfunc.load_model("runs:/ID/model")``, ``mlflow models serve`` and the Model
Registry all read it. Its predict calls the same task ``predict`` as ``seqapps predict``, so
both give the same fields. The seqapps model folder (Keras file + metadata) travels inside
the MLflow Model as an artifact; loading it imports exactly the modules the metadata names.
"""

from __future__ import annotations

import importlib.metadata
import tempfile
import warnings
from pathlib import Path
from typing import Any

import mlflow.pyfunc
import pandas

from seqapps import models
from seqapps.options import defaults, parse_all

#: The artifact path of the model inside a run ("runs:/ID/model").
MODEL_NAME = "model"
_PARAM_TYPES = {bool: "boolean", int: "long", float: "double", str: "string"}


class _PyfuncSavedOnce:
    """``mlflow.pyfunc`` as the flavor ``Model.log`` saves with, without its reload check.

    ``Model.log`` saves the folder, then by default loads it back and predicts the input
    example once more (a second Keras load: over a second of every run, more for big models).
    ``log`` has already run the task's predict on that example to find the output
    signature, and the conformance kit checks loading in a fresh process; so the check is
    turned off here (``save_model`` itself refuses the switch, hence this wrapper).
    """

    __name__ = "mlflow.pyfunc"

    @staticmethod
    def save_model(path, mlflow_model=None, validate_serving_input=False, **kwargs):
        """Save as mlflow.pyfunc.save_model does."""
        return mlflow.pyfunc.save_model(path, mlflow_model=mlflow_model, **kwargs)


def call_predict(task: Any, loaded: models.LoadedModel, inputs: list[str], options: dict):
    """The task's predict on raw inputs, with its prediction options when it declares any."""
    if options:
        return task.predict(loaded.model, loaded.metadata, inputs, **options)
    return task.predict(loaded.model, loaded.metadata, inputs)


class SeqappsModel(mlflow.pyfunc.PythonModel):
    """Raw input in (a table with the task's columns), the rows ``seqapps predict`` prints out."""

    def load_context(self, context) -> None:
        """Load the Keras model, importing the modules of its custom objects first."""
        self.loaded = models.load_folder(Path(context.artifacts[models.MLFLOW_ARTIFACT_KEY]))

    def predict(
        self, context, model_input: pandas.DataFrame, params: dict[str, Any] | None = None
    ) -> pandas.DataFrame:
        """Rows of readable fields, one table for all inputs (a tagger gives one per token)."""
        task_cls = self.loaded.task_cls
        task = task_cls()
        given = {
            key: value for key, value in (params or {}).items() if key in task_cls.predict_options
        }
        options = parse_all(task_cls.predict_options, given, f"task {task_cls.name!r}")
        table = (
            model_input
            if isinstance(model_input, pandas.DataFrame)
            else pandas.DataFrame(model_input)
        )
        with tempfile.TemporaryDirectory(prefix="seqapps-serve-") as scratch:
            inputs = task.inputs_from_table(table, self.loaded.metadata, Path(scratch))
            rows = call_predict(task, self.loaded, inputs, options)
        return pandas.DataFrame(rows)


def _requirements(task_distribution: str | None, modules: list[str]) -> list[str]:
    names = {"seqapps", "tensorflow", "keras", "mlflow"} | {task_distribution} - {None}
    names.update(models.distributions_of(modules))
    pins = []
    for name in sorted(names):
        try:
            pins.append(f"{name}=={importlib.metadata.version(name)}")
        except importlib.metadata.PackageNotFoundError:
            continue  # e.g. a plugin run from a source tree that is not installed
    return pins


def _signature(task: Any, output_rows, metadata):
    from mlflow.models import ModelSignature, infer_signature
    from mlflow.types.schema import ColSpec, ParamSchema, ParamSpec, Schema

    params = ParamSchema(
        [
            ParamSpec(key, _PARAM_TYPES[option.type], option.default)
            for key, option in type(task).predict_options.items()
        ]
    )
    columns = task.serving_columns(metadata)
    inputs = Schema([ColSpec(kind, name) for name, kind in columns.items()])
    outputs = None
    if output_rows:
        with warnings.catch_warnings():
            # MLflow's hint about integer columns and missing values concerns inputs a user
            # sends; these are the model's own outputs (e.g. a tagged span's start and end).
            warnings.filterwarnings("ignore", message="Hint: Inferred schema contains integer")
            outputs = infer_signature(pandas.DataFrame(output_rows)).inputs
    return ModelSignature(inputs=inputs, outputs=outputs, params=params or None)


def _task_distribution(task_name: str) -> str | None:
    from seqapps import registry

    found = [r for r in registry.task_records() if r.name == task_name]
    return found[0].distribution if len(found) == 1 else None  # e.g. a task defined in a test


def log(
    tracker,
    run_id: str,
    folder: Path,
    loaded: models.LoadedModel,
    example: dict[str, list],
    registered_name: str | None = None,
) -> Any:
    """Log ``folder`` as the run's MLflow Model (pyfunc flavor); register it when named.

    ``loaded`` is the exported model still in memory, with the folder's metadata: the output
    signature comes from it (MLflow itself then loads the folder and runs the example, which
    checks the saved model), so the model is not read back twice.
    """
    import logging

    from mlflow.models import Model

    from seqapps.tracking import process_store

    metadata, task = loaded.metadata, loaded.task_cls()
    output_rows = None
    if example:
        with tempfile.TemporaryDirectory(prefix="seqapps-example-") as scratch:
            inputs = task.inputs_from_table(pandas.DataFrame(example), metadata, Path(scratch))
            options = defaults(loaded.task_cls.predict_options)
            output_rows = call_predict(loaded.task_cls(), loaded, inputs, options)
    distribution = _task_distribution(metadata["task"])
    # The logged model belongs to the run's experiment (MLflow would file it under the
    # process's active experiment, which seqapps never sets).
    experiment_id = tracker.client.get_run(run_id).info.experiment_id
    logged = tracker.client.create_logged_model(
        experiment_id, name=MODEL_NAME, source_run_id=run_id, model_type=f"seqapps-{task.name}"
    )
    quiet = logging.getLogger("mlflow")
    level = quiet.level
    quiet.setLevel(logging.WARNING)  # "validating input example ..." is not the user's news
    try:
        with process_store(tracker.uri):  # Model.log reads the process-wide store
            return Model.log(
                artifact_path=None,
                name=MODEL_NAME,
                flavor=_PyfuncSavedOnce,
                validate_serving_input=False,
                run_id=run_id,
                model_id=logged.model_id,
                # Model from code: the loader is this package's module, not a pickle.
                python_model=str(Path(__file__).with_name("mlflow_model_code.py")),
                artifacts={models.MLFLOW_ARTIFACT_KEY: str(folder)},
                signature=_signature(task, output_rows, metadata),
                input_example=pandas.DataFrame(example) if example else None,
                pip_requirements=_requirements(distribution, metadata.get("modules", [])),
                registered_model_name=registered_name,
                await_registration_for=0,
            )
    finally:
        quiet.setLevel(level)
