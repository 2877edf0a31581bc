"""Radial basis function network: Gaussian units with trainable centres and widths.

A classic non-recurrent network: the sequence is reduced to one vector (the masked mean,
or the flattened window when its length is fixed), and each unit responds
exp(-|x - c|^2 / (2 s^2)) to the distance from its centre c.
"""

from __future__ import annotations

import keras
from keras import ops

from seqapps.archs import EncoderSettings


@keras.saving.register_keras_serializable(package="seqapps")
class RadialBasis(keras.layers.Layer):
    """Gaussian radial basis units.

    Args:
        units: Number of Gaussian units.
        initial_width: Starting width s of every unit (learned in log space).

    Call arguments:
        inputs: (batch, features).

    Returns:
        (batch, units) activations in (0, 1].
    """

    def __init__(self, units: int, initial_width: float = 1.0, **kwargs):
        super().__init__(**kwargs)
        if units < 1:
            raise ValueError(f"units must be at least 1. Received: units={units}")
        if initial_width <= 0:
            raise ValueError(f"initial_width must be > 0. Received: initial_width={initial_width}")
        self.units = units
        self.initial_width = initial_width

    def build(self, input_shape):
        features = int(input_shape[-1])
        self.centres = self.add_weight(
            shape=(self.units, features),
            initializer=keras.initializers.RandomUniform(-1.0, 1.0),
            name="centres",
        )
        self.log_widths = self.add_weight(
            shape=(self.units,),
            initializer=keras.initializers.Constant(float(ops.log(self.initial_width))),
            name="log_widths",
        )

    def call(self, inputs):
        difference = ops.expand_dims(inputs, 1) - ops.expand_dims(self.centres, 0)
        squared_distance = ops.sum(ops.square(difference), axis=-1)
        variance = ops.exp(2.0 * self.log_widths)
        return ops.exp(-squared_distance / (2.0 * variance))

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.units)

    def get_config(self):
        return {**super().get_config(), "units": self.units, "initial_width": self.initial_width}


def rbf(inputs, settings: EncoderSettings, *, kind: str):
    """Pool the sequence (rbf_pooling option), then --units Gaussian units."""
    from seqapps.archs import RBF

    pooling = settings.option(RBF, "rbf_pooling")
    if pooling == "mean":
        x = keras.layers.GlobalAveragePooling1D(name="rbf_mean")(inputs)
    elif pooling == "flatten":
        if inputs.shape[1] is None:
            raise ValueError("rbf_pooling=flatten needs fixed-length windows; use mean")
        x = keras.layers.Flatten(name="rbf_flatten")(inputs)
    else:
        raise ValueError(f"rbf_pooling must be mean or flatten. Received: {pooling!r}")
    x = keras.layers.LayerNormalization(name="rbf_norm")(x)
    return RadialBasis(settings.units, name="radial_basis")(x)
