"""Register every installed seqapps Keras object: the one import plain Keras needs.

    import keras
    import seqapps.keras_objects  # noqa: F401
    model = keras.saving.load_model("model.keras")   # any seqapps model, in safe mode

Each distribution names its modules of custom layers, losses and metrics in the
``seqapps.keras_objects`` entry-point group (the core too); importing this module imports
them all. ``seqapps predict`` and the MLflow Model do not need it: they import exactly the
modules a model's metadata records.
"""

from __future__ import annotations

from seqapps import plugins

GROUP = "seqapps.keras_objects"


def register_all() -> list[str]:
    """Import every module registered in the group; returns their names."""
    from seqapps.tensorflow_import import import_tensorflow

    import_tensorflow()  # first, so its start-up chatter is filtered
    imported = []
    for record in plugins.find_plugins(GROUP):
        plugins.load(record)
        imported.append(record.target)
    return imported


REGISTERED = register_all()
