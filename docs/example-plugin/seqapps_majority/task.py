"""Majority vote: does a sequence of +1/-1 steps hold more +1s? (many-to-one)

pip install ./docs/example-plugin
seqapps run majority --arch gru
"""

from __future__ import annotations

import numpy as np

from seqapps.api import (
    SPLITS,
    DataBundle,
    DataError,
    Option,
    Spec,
    Task,
    cap_splits,
    fingerprint_rows,
    import_tensorflow,
)

CLASSES = ["minus", "plus"]


class MajorityTask(Task):
    """Classify +1/-1 sequences by which sign is in the majority."""

    name = "majority"
    summary = "Example plugin: which sign holds the majority of a +1/-1 sequence"
    kind = "classify"
    default_arch = "gru"
    data_sources = ("sample",)
    options = {
        "length": Option(15, "steps per sequence (odd, so there is no tie)"),
        "examples": Option(600, "sample size"),
    }
    defaults = {"epochs": 5, "units": 16}
    headline_metrics = ("test_accuracy",)  # what compare and pipelines rank by

    def load_data(self, config) -> DataBundle:
        """Random sequences; train/validation/test = 70/15/15."""
        if config.data != "sample":
            raise DataError(f"--data {config.data}: the majority task only has the sample")
        length, count = config.options["length"], config.options["examples"]
        if length % 2 == 0:
            raise DataError(f"--set length={length}: must be odd so every sequence has a majority")
        rng = np.random.default_rng(7)
        steps = rng.choice([-1.0, 1.0], size=(count, length, 1)).astype("float32")
        labels = (steps.sum(axis=(1, 2)) > 0).astype("int32")
        cut1, cut2 = int(count * 0.7), int(count * 0.85)
        splits = dict(zip(SPLITS, np.split(np.arange(count), [cut1, cut2])))
        splits = cap_splits(splits, config.max_samples, config.seed)  # what --max-samples means
        tf = import_tensorflow()
        datasets = {
            split: tf.data.Dataset.from_tensor_slices((steps[rows], labels[rows]))
            for split, rows in splits.items()
        }
        sizes = {split: len(rows) for split, rows in splits.items()}
        spec = Spec(classes=CLASSES, sequence_length=length, features=1)
        fingerprint = fingerprint_rows(zip(labels.tolist(), steps.sum(axis=(1, 2)).tolist()))
        return DataBundle.from_splits(datasets, spec, "sample", fingerprint, sizes)

    def build_model(self, spec, arch, config):
        """(length, 1) steps + their running mean -> the chosen encoder -> softmax."""
        import keras

        from seqapps.api import classification_head, encoder_settings
        from seqapps_majority.layers import RunningBalance

        steps = keras.Input(shape=(spec.sequence_length, spec.features), name="steps")
        balanced = RunningBalance(name="running_balance")(steps)
        encoded = arch.build_encoder(balanced, encoder_settings(config), self.arch_kind(config))
        return keras.Model(steps, classification_head(encoded, len(spec.classes)))

    def loss_and_metrics(self, spec):
        """Cross-entropy and accuracy."""
        return "sparse_categorical_crossentropy", ["accuracy"]

    def export_model(self, model, data):
        """The trained model already takes the raw steps."""
        return model

    def evaluate(self, model, metadata, source, options):
        """Accuracy on a text file of lines "LABEL<TAB>1 -1 1 ..." (LABEL: plus or minus)."""
        from pathlib import Path

        from seqapps.api import Report

        try:
            lines = Path(source).read_text(encoding="utf-8").splitlines()
        except OSError as error:
            raise DataError(f"--data {source}: cannot read ({error.strerror})") from None
        pairs = [line.split("\t", 1) for line in lines if line.strip()]
        if not pairs or any(len(pair) != 2 for pair in pairs):
            raise DataError(f"--data {source}: expected lines of LABEL<TAB>sequence")
        rows = self.predict(model, metadata, [sequence for _, sequence in pairs])
        right = sum(row["label"] == label for (label, _), row in zip(pairs, rows))
        return Report(metrics={"accuracy": right / len(pairs)})

    def example_table(self, data, metadata):
        """Two sequences of the trained length: the logged model's input example."""
        return {"input": ["1 -1 1 1 -1 1 1 -1 -1 1 1 1 -1 1 -1", "-1 " * 14 + "1"]}

    def predict(self, model, metadata, inputs):
        """Each input is a string of +1/-1 values, e.g. "1 -1 1"."""
        tf = import_tensorflow()
        rows = [[[float(v)] for v in text.split()] for text in inputs]
        probabilities = model.predict(tf.constant(rows), verbose=0)
        classes = metadata["classes"]
        return [
            {"label": classes[int(p.argmax())], "probability": float(p.max()), "input": text}
            for text, p in zip(inputs, probabilities)
        ]
