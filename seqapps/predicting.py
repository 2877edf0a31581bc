"""Load a logged model (run id, models:/ URI or local folder) and run its task's predict."""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from seqapps import models
from seqapps.exceptions import UserInputError
from seqapps.model_uri import model_uri
from seqapps.options import parse_all


@contextlib.contextmanager
def model_source(source: str, tracking_uri: str | None) -> Iterator[Path]:
    """A local folder holding the model ``source`` names, downloaded if it is in a store.

    ``source`` is a model folder, a run id, ``runs:/ID/model`` or ``models:/NAME/VERSION``.
    """
    path = Path(source).expanduser()
    if path.exists():
        yield models.model_folder(path)
        return
    uri = model_uri(source)
    from seqapps.tracking import Tracker

    tracker = Tracker(tracking_uri)
    with tempfile.TemporaryDirectory(prefix="seqapps-model-") as scratch:
        yield models.model_folder(tracker.download_model(uri, scratch))


def prediction_options(
    task_cls, given: dict[str, str], flags: dict[str, str] | None = None
) -> dict[str, Any]:
    """The task's prediction options from text values; an unknown key lists the known ones
    and is named as typed (``flags``: keys given by a CLI flag of their own, e.g. --top-k)."""
    owner = f"predictions of task {task_cls.name!r}"
    return parse_all(task_cls.predict_options, given, owner, typed_as=flags)


def predict(
    source: str,
    inputs: list[str],
    tracking_uri: str | None = None,
    options: dict[str, str] | None = None,
    flags: dict[str, str] | None = None,
) -> tuple[list[dict[str, Any]], Any]:
    """Predict ``inputs`` with the model ``source`` names (see ``model_source``).

    ``options`` are the task's prediction options as given on the command line (text);
    ``flags`` names the CLI flag each came from, where one did (see prediction_options).
    Returns (rows, task): the task knows how to write its rows out.
    """
    from seqapps import registry
    from seqapps.mlflow_model import call_predict

    with model_source(source, tracking_uri) as folder:
        metadata = models.read_metadata(folder)
        task_cls = registry.load_task(metadata["task"])
        parsed = prediction_options(task_cls, options or {}, flags)
        if not inputs and task_cls.kind != "generate":
            raise UserInputError("give inputs as arguments or with --input FILE")
        loaded = models.LoadedModel(models.load_keras(folder, metadata), metadata, task_cls)
    task = task_cls()
    return call_predict(task, loaded, inputs, parsed), task
