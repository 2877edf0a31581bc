"""Which MLflow model a command's MODEL argument names: light, so that `seqapps serve` resolves
it (and refuses a bad one) before anything imports TensorFlow."""

from __future__ import annotations

import re

from seqapps.exceptions import UserInputError

_RUN_ID = re.compile(r"^[0-9a-f]{32}$")
_MODEL_URI = re.compile(r"^(runs|models):/.+")


def model_uri(source: str) -> str:
    """The MLflow model URI of a run id, or ``source`` itself if it is a runs:/ or models:/ URI."""
    if _RUN_ID.match(source):
        return f"runs:/{source}/model"
    if _MODEL_URI.match(source):
        return source
    raise UserInputError(
        f"{source!r} is neither a model folder, an MLflow run id, nor a runs:/ or models:/ URI"
    )
