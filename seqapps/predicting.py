"""Load a logged model (by run id or local folder) and run its task's predict on raw input."""

from __future__ import annotations

import json
import re
import tempfile
from pathlib import Path
from typing import Any

from seqapps import registry
from seqapps.config import coerce_option
from seqapps.exceptions import UserInputError
from seqapps.runtime import import_tensorflow
from seqapps.training import METADATA_FILE, MODEL_FILE

_RUN_ID = re.compile(r"^[0-9a-f]{32}$")


def _model_folder(path: Path) -> Path:
    if path.is_file() and path.name == MODEL_FILE:
        path = path.parent
    if not (path / MODEL_FILE).is_file() or not (path / METADATA_FILE).is_file():
        raise UserInputError(
            f"{path}: not a seqapps model folder (expected {MODEL_FILE} and {METADATA_FILE})"
        )
    return path


def predict(
    source: str,
    inputs: list[str],
    tracking_uri: str | None = None,
    options: dict[str, str] | None = None,
) -> tuple[list[dict[str, Any]], Any]:
    """Predict ``inputs`` with the model of run ``source`` or in folder ``source``.

    ``options`` are the task's prediction options as given on the command line (text).
    Returns (rows, task): the task knows how to write its rows out.
    """
    path = Path(source).expanduser()
    if path.exists():
        return _predict_from_folder(_model_folder(path), inputs, options or {})
    if not _RUN_ID.match(source):
        raise UserInputError(f"{source!r} is neither a model folder nor an MLflow run id")
    from seqapps.tracking import download_model

    with tempfile.TemporaryDirectory(prefix="seqapps-model-") as scratch:
        folder = download_model(source, tracking_uri, scratch)
        return _predict_from_folder(_model_folder(folder), inputs, options or {})


def prediction_options(task_cls, given: dict[str, str]) -> dict[str, Any]:
    """The task's prediction options from text values; an unknown key lists the known ones."""
    known = task_cls.predict_options
    for key in given:
        if key not in known:
            accepted = ", ".join(sorted(known)) or "none"
            raise UserInputError(
                f"task {task_cls.name!r} has no prediction option {key!r} (it takes: {accepted})"
            )
    return {
        key: coerce_option(task_cls.name, key, given.get(key, default), default)
        for key, default in known.items()
    }


def _predict_from_folder(
    folder: Path, inputs: list[str], given: dict[str, str]
) -> tuple[list[dict[str, Any]], Any]:
    metadata = json.loads((folder / METADATA_FILE).read_text(encoding="utf-8"))
    task_cls = registry.load_task(metadata["task"])
    options = prediction_options(task_cls, given)
    if not inputs and task_cls.kind != "generate":
        raise UserInputError("give inputs as arguments or with --input FILE")
    import_tensorflow()
    import keras

    # compile=False: predicting needs no optimizer or loss, and a custom loss would
    # otherwise have to be importable just to load the weights.
    model = keras.saving.load_model(folder / MODEL_FILE, compile=False)
    task = task_cls()
    if options:
        return task.predict(model, metadata, inputs, **options), task
    return task.predict(model, metadata, inputs), task
