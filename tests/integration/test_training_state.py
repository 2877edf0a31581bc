"""The training state is built before fit, so Keras traces its train step once, not twice."""

import keras
import numpy as np
import tensorflow as tf

from seqapps.fitting import build_training_state


class CountsTraces(keras.Sequential):
    """A Sequential whose train_step counts how often TensorFlow traces it (Python runs only
    while tracing)."""

    traces = 0

    def train_step(self, data):
        CountsTraces.traces += 1
        return super().train_step(data)


def test_fit_traces_the_train_step_once_after_the_state_is_built():
    rng = np.random.default_rng(0)
    x, y = rng.integers(1, 30, (40, 7)), rng.integers(0, 2, 40)
    batches = tf.data.Dataset.from_tensor_slices((x, y)).batch(16)  # last batch is smaller
    layers = [keras.layers.Embedding(30, 4), keras.layers.GRU(4), keras.layers.Dense(2)]
    model = CountsTraces([keras.Input((7,)), *layers])
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    model.compile("adam", loss, metrics=["accuracy"])
    build_training_state(model, batches.element_spec)
    assert model.optimizer.built and len(model.optimizer.variables) > 1
    assert model.metrics_variables, "the loss and accuracy trackers exist before fit"
    history = model.fit(batches, epochs=2, verbose=0, shuffle=False)
    assert CountsTraces.traces == 1
    assert np.isfinite(history.history["loss"]).all()
