"""Toy task plugins for the conformance kit's own tests: one sound, four broken one way each."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from seqapps.api import SPLITS, DataBundle, DataError, Option, Spec, Task, cap_splits


class SoundTask(Task):
    """Is the sum of a sequence positive? Everything a plugin must do, done."""

    name = "toy"
    summary = "Sign of a sequence's sum"
    kind = "classify"
    default_arch = "gru"
    options = {"length": Option(5, "steps per sequence")}

    def read(self, config) -> np.ndarray:
        if config.data != "sample":
            raise DataError(f"--data {config.data}: the toy task only has the sample")
        return np.random.default_rng(0).normal(size=(90, config.options["length"], 1))

    def load_data(self, config) -> DataBundle:
        import tensorflow as tf

        steps = self.read(config).astype("float32")
        labels = (steps.sum(axis=(1, 2)) > 0).astype("int32")
        splits = dict(zip(SPLITS, np.split(np.arange(90), [60, 75])))
        splits = cap_splits(splits, config.max_samples, config.seed)
        datasets = {
            s: tf.data.Dataset.from_tensor_slices((steps[r], labels[r])) for s, r in splits.items()
        }
        self.classes = ["minus", "plus"]
        spec = Spec(classes=self.classes, sequence_length=steps.shape[1], features=1)
        sizes = {s: len(r) for s, r in splits.items()}
        return DataBundle.from_splits(datasets, spec, "sample", "toy", sizes)

    def build_model(self, spec, arch, config):
        import keras

        from seqapps.api import classification_head, encoder_settings

        steps = keras.Input(shape=(spec.sequence_length, 1), name="steps")
        encoded = arch.build_encoder(steps, encoder_settings(config), self.arch_kind(config))
        return keras.Model(steps, classification_head(encoded, len(spec.classes)))

    def loss_and_metrics(self, spec):
        return "sparse_categorical_crossentropy", ["accuracy"]

    def export_model(self, model, data):
        return model

    def classes_for_predict(self, metadata) -> list[str]:
        return metadata["classes"]

    def predict(self, model, metadata, inputs):
        rows = np.array([[[float(v)] for v in text.split()] for text in inputs], "float32")
        probabilities = model.predict(rows, verbose=0)
        classes = self.classes_for_predict(metadata)
        return [{"label": classes[int(p.argmax())]} for p in probabilities]


class MissingPredict(SoundTask):
    """Forgot to write predict."""

    predict = Task.predict  # the abstract one


class PredictNeedsTraining(SoundTask):
    """Reads what load_data left on self instead of the saved metadata."""

    def classes_for_predict(self, metadata) -> list[str]:
        return self.classes


class OptionWithoutHelp(SoundTask):
    """Declares an option a user cannot learn about."""

    options = {"length": Option(5, "")}


class TracebackOnMissingFile(SoundTask):
    """Opens --data without checking it."""

    def read(self, config) -> np.ndarray:
        if config.data == "sample":
            return super().read(config)
        return np.loadtxt(Path(config.data).open()).reshape(-1, 5, 1)


def unregistered_arch():
    """An Arch whose encoder uses a custom layer nobody registered with Keras."""
    from seqapps.api import Arch

    return Arch(
        name="unregistered",
        summary="GRU then a layer Keras cannot find again",
        kinds=("many-to-one",),
        factory="tests.integration.toy_tasks:build_unregistered",
    )


def build_unregistered(inputs, settings, *, kind):
    import keras

    class Doubling(keras.layers.Layer):  # not registered: a new process cannot rebuild it
        def call(self, x):
            return x * 2.0

    return Doubling()(keras.layers.GRU(settings.units)(inputs))
