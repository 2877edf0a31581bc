"""A trained model as it leaves its run: the Keras file, its metadata, and what loading needs.

Keras finds a custom layer, loss or metric only if the module that registers it has been
imported. A model saved in one process and loaded in a fresh one used to fail for every
model with a custom layer, because nothing imported those modules. So saving records, in the
metadata, every non-Keras module the saved config names, and loading imports exactly those
before Keras reads the file. Nothing here depends on what happens to be imported already.
"""

from __future__ import annotations

import importlib
import json
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from seqapps import keras_objects
from seqapps.exceptions import UserInputError

MODEL_FILE = "model.keras"
METADATA_FILE = "seqapps.json"
#: Where the seqapps folder sits inside a logged MLflow Model (see seqapps.mlflow_model).
MLFLOW_ARTIFACT_KEY = "seqapps_model"
#: Packages whose objects Keras deserializes by itself.
_KERAS_PACKAGES = {"keras", "keras_hub", "keras_nlp", "keras_cv", "builtins", "tensorflow"}


class ModelLoadError(UserInputError):
    """A model folder is missing, damaged, or needs a package that is not installed."""


@dataclass
class LoadedModel:
    """A Keras model ready to predict, with its metadata and the task class it belongs to."""

    model: Any
    metadata: dict[str, Any]
    task_cls: type


def _walk_modules(node: Any, found: set[str]) -> None:
    if isinstance(node, dict):
        module = node.get("module")
        custom = isinstance(module, str) and node.get("registered_name")
        if custom and module.split(".", 1)[0] not in _KERAS_PACKAGES:
            found.add(module)
        for value in node.values():
            _walk_modules(value, found)
    elif isinstance(node, list):
        for value in node:
            _walk_modules(value, found)


def custom_object_modules(keras_file: Path) -> list[str]:
    """Modules outside Keras that define the custom objects a saved ``.keras`` file names."""
    try:
        with zipfile.ZipFile(keras_file) as archive:
            config = json.loads(archive.read("config.json"))
    except (OSError, KeyError, zipfile.BadZipFile, json.JSONDecodeError) as error:
        raise ModelLoadError(f"{keras_file}: not a readable .keras model ({error})") from None
    found: set[str] = set()
    _walk_modules(config, found)
    return sorted(found)


def import_modules(modules: list[str], where: Path) -> None:
    """Import the modules that register a model's custom objects; a missing one is one line."""
    for name in modules:
        try:
            importlib.import_module(name)
        except ImportError as error:
            package = name.split(".", 1)[0].replace("_", "-")
            raise ModelLoadError(
                f"{where}: the model needs module {name!r}, which cannot be imported "
                f"({error}); install the plugin that provides it (e.g. pip install {package})"
            ) from None


def distributions_of(modules: list[str]) -> dict[str, str]:
    """The installed distributions (name -> version) providing the top packages of modules.

    The ``seqapps.keras_objects`` entry points name the distribution behind each module that
    registers Keras objects, which answers at once; only other modules need a scan of every
    installed package (seconds).
    """
    import importlib.metadata

    registered = {
        entry.value.split(":")[0].split(".")[0]: entry.dist.name
        for entry in importlib.metadata.entry_points(group=keras_objects.GROUP)
        if entry.dist is not None
    }
    tops = {module.split(".", 1)[0] for module in modules}
    owners = {top: [registered[top]] for top in tops if top in registered}
    if tops - set(owners):
        scanned = importlib.metadata.packages_distributions()
        owners.update({top: scanned.get(top, []) for top in tops - set(owners)})
    found: dict[str, str] = {}
    for names in owners.values():
        for name in names:
            try:
                found[name] = importlib.metadata.version(name)
            except importlib.metadata.PackageNotFoundError:
                continue
    return found


def save_folder(model: Any, metadata: dict[str, Any], directory: Path) -> Path:
    """Write the model, then its metadata naming the modules a fresh process must import."""
    directory.mkdir(parents=True, exist_ok=True)
    model.save(directory / MODEL_FILE)
    modules = custom_object_modules(directory / MODEL_FILE)
    metadata = {**metadata, "modules": modules}
    text = json.dumps(metadata, indent=2)
    (directory / METADATA_FILE).write_text(text, encoding="utf-8")
    return directory


def model_folder(path: Path) -> Path:
    """The seqapps folder at ``path``: itself, or inside a downloaded MLflow Model."""
    if path.is_file() and path.name in (MODEL_FILE, "MLmodel"):
        path = path.parent
    if (path / "MLmodel").is_file():  # an MLflow Model: the folder is one of its artifacts
        inner = sorted(path.glob(f"artifacts/*/{METADATA_FILE}"))
        if inner:
            path = inner[0].parent
    if not (path / MODEL_FILE).is_file() or not (path / METADATA_FILE).is_file():
        raise ModelLoadError(
            f"{path}: not a seqapps model folder (expected {MODEL_FILE} and {METADATA_FILE}, "
            "or an MLflow Model logged by seqapps)"
        )
    return path


def read_metadata(folder: Path) -> dict[str, Any]:
    """The metadata saved beside the model."""
    try:
        return json.loads((folder / METADATA_FILE).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as error:
        raise ModelLoadError(f"{folder / METADATA_FILE}: unreadable ({error})") from None


def load_folder(folder: Path) -> LoadedModel:
    """Load a seqapps model folder in any process: its task, its modules, the Keras file."""
    from seqapps import registry

    folder = model_folder(folder)
    metadata = read_metadata(folder)
    task_cls = registry.load_task(metadata["task"])
    return LoadedModel(load_keras(folder, metadata), metadata, task_cls)


def load_keras(folder: Path, metadata: dict[str, Any]) -> Any:
    """The Keras model of a folder, after importing the modules its custom objects live in."""
    from seqapps.tensorflow_import import import_tensorflow

    import_tensorflow()
    import keras

    # Older folders lack the list: read it from the Keras file itself.
    modules = metadata.get("modules")
    if modules is None:
        modules = custom_object_modules(folder / MODEL_FILE)
    import_modules(modules, folder)
    # compile=False: predicting needs no optimizer or loss. safe_mode stays on: no lambdas.
    return keras.saving.load_model(folder / MODEL_FILE, compile=False, safe_mode=True)
