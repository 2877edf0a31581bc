"""Load a logged model (by run id or local folder) and run its task's predict on raw input."""

from __future__ import annotations

import json
import re
import tempfile
from pathlib import Path
from typing import Any

from seqapps import registry
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
    source: str, inputs: list[str], tracking_uri: str | None = None
) -> tuple[list[dict[str, Any]], Any]:
    """Predict ``inputs`` with the model of run ``source`` or in folder ``source``.

    Returns (rows, task): the task knows how to write its rows out.
    """
    path = Path(source).expanduser()
    if path.exists():
        return _predict_from_folder(_model_folder(path), inputs)
    if not _RUN_ID.match(source):
        raise UserInputError(f"{source!r} is neither a model folder nor an MLflow run id")
    from seqapps.tracking import download_model

    with tempfile.TemporaryDirectory(prefix="seqapps-model-") as scratch:
        folder = download_model(source, tracking_uri, scratch)
        return _predict_from_folder(_model_folder(folder), inputs)


def _predict_from_folder(folder: Path, inputs: list[str]) -> tuple[list[dict[str, Any]], Any]:
    metadata = json.loads((folder / METADATA_FILE).read_text(encoding="utf-8"))
    task_cls = registry.load_task(metadata["task"])
    import_tensorflow()
    import keras

    model = keras.saving.load_model(folder / MODEL_FILE)
    task = task_cls()
    return task.predict(model, metadata, inputs), task
