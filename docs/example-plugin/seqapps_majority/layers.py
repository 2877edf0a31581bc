"""The example plugin's Keras code: its arch factory and two custom layers.

Custom layers are registered under the plugin's package name and use keras.ops only, so a
saved model round-trips through ``.keras`` files and loads in any process: seqapps records
this module with every model that uses them, and imports it before loading.
"""

import keras

from seqapps.api import EncoderSettings, returns_sequences


@keras.saving.register_keras_serializable(package="seqapps_majority")
class RunningBalance(keras.layers.Layer):
    """Appends the running mean of the steps so far: (batch, time, 1) -> (batch, time, 2)."""

    def call(self, steps):
        """Concatenate each step with the mean of the steps up to it."""
        positions = keras.ops.arange(1, keras.ops.shape(steps)[1] + 1, dtype=steps.dtype)
        running = keras.ops.cumsum(steps, axis=1) / positions[None, :, None]
        return keras.ops.concatenate([steps, running], axis=-1)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], input_shape[-1] * 2)


@keras.saving.register_keras_serializable(package="seqapps_majority")
class RMSNorm(keras.layers.Layer):
    """Root-mean-square normalization with a learned scale.

    Args:
        epsilon: added to the mean square before the square root.
    """

    def __init__(self, epsilon: float = 1e-6, **kwargs):
        super().__init__(**kwargs)
        if epsilon <= 0:
            raise ValueError(f"epsilon must be positive. Received: epsilon={epsilon}")
        self.epsilon = epsilon

    def build(self, input_shape):
        self.scale = self.add_weight(shape=(input_shape[-1],), initializer="ones", name="scale")

    def call(self, inputs):
        """Scale each vector by the inverse of its root mean square."""
        mean_square = keras.ops.mean(keras.ops.square(inputs), axis=-1, keepdims=True)
        return inputs * keras.ops.rsqrt(mean_square + self.epsilon) * self.scale

    def get_config(self):
        return {**super().get_config(), "epsilon": self.epsilon}


def lngru(inputs, settings: EncoderSettings, *, kind: str):
    """One GRU layer of --units, then RMS normalization."""
    x = keras.layers.GRU(settings.units, return_sequences=returns_sequences(kind), name="lngru")(
        inputs
    )
    return RMSNorm(name="lngru_norm")(x)
