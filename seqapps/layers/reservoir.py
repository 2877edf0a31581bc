"""Echo state network: a fixed random reservoir whose states a trained readout reads.

The reservoir's weights are drawn once from a seeded generator and never trained: the
recurrent matrix is sparse and rescaled so its spectral radius (largest absolute
eigenvalue) equals the chosen value, which keeps the reservoir's memory fading (the "echo
state property") for radii below about 1. Only the task's head (the readout) learns.
"""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

from seqapps.archs import EncoderSettings, returns_sequences


def reservoir_matrix(size: int, spectral_radius: float, sparsity: float, rng) -> np.ndarray:
    """A sparse random (size, size) matrix rescaled to the given spectral radius."""
    for _ in range(100):
        weights = rng.uniform(-1.0, 1.0, (size, size))
        weights *= rng.random((size, size)) >= sparsity
        radius = float(np.max(np.abs(np.linalg.eigvals(weights)))) if size else 0.0
        if radius > 1e-8:  # an all-zero draw (tiny, very sparse reservoirs) cannot be scaled
            return (weights * (spectral_radius / radius)).astype("float32")
    raise ValueError(f"could not draw a reservoir of size {size} with sparsity {sparsity}")


@keras.saving.register_keras_serializable(package="seqapps")
class ReservoirCell(keras.layers.Layer):
    """Leaky-integrator reservoir cell for ``keras.layers.RNN``.

    Args:
        units: Reservoir size.
        spectral_radius: Largest absolute eigenvalue of the recurrent matrix.
        sparsity: Share of recurrent connections that are zero, in [0, 1).
        leak_rate: How much of the new state replaces the old one, in (0, 1].
        input_scaling: Input weights are drawn from U(-input_scaling, input_scaling).
        seed: Seed of the reservoir draw (the same seed gives the same reservoir).

    Call arguments:
        inputs: (batch, features) at one step; states: [(batch, units)].

    Returns:
        The new state, as output and as the next state.
    """

    def __init__(
        self,
        units: int,
        spectral_radius: float = 0.9,
        sparsity: float = 0.9,
        leak_rate: float = 0.5,
        input_scaling: float = 1.0,
        seed: int = 0,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if units < 1:
            raise ValueError(f"units must be at least 1. Received: units={units}")
        if spectral_radius <= 0:
            raise ValueError(
                f"spectral_radius must be > 0. Received: spectral_radius={spectral_radius}"
            )
        if not 0 <= sparsity < 1:
            raise ValueError(f"sparsity must be in [0, 1). Received: sparsity={sparsity}")
        if not 0 < leak_rate <= 1:
            raise ValueError(f"leak_rate must be in (0, 1]. Received: leak_rate={leak_rate}")
        if input_scaling <= 0:
            raise ValueError(f"input_scaling must be > 0. Received: input_scaling={input_scaling}")
        self.units = units
        self.spectral_radius = spectral_radius
        self.sparsity = sparsity
        self.leak_rate = leak_rate
        self.input_scaling = input_scaling
        self.seed = seed
        self.state_size = units
        self.output_size = units

    def build(self, input_shape):
        rng = np.random.default_rng(self.seed)
        features = int(input_shape[-1])
        scale = self.input_scaling
        values = {
            "input_kernel": rng.uniform(-scale, scale, (features, self.units)),
            "recurrent_kernel": reservoir_matrix(
                self.units, self.spectral_radius, self.sparsity, rng
            ),
            "bias": rng.uniform(-scale, scale, (self.units,)) * 0.1,
        }
        for name, value in values.items():
            weight = self.add_weight(
                shape=value.shape,
                initializer=keras.initializers.Constant(value.astype("float32")),
                trainable=False,
                name=name,
            )
            setattr(self, name, weight)

    def call(self, inputs, states):
        previous = states[0]
        drive = (
            ops.matmul(inputs, self.input_kernel)
            + ops.matmul(previous, self.recurrent_kernel)
            + self.bias
        )
        state = (1.0 - self.leak_rate) * previous + self.leak_rate * ops.tanh(drive)
        return state, [state]

    def get_config(self):
        return {
            **super().get_config(),
            "units": self.units,
            "spectral_radius": self.spectral_radius,
            "sparsity": self.sparsity,
            "leak_rate": self.leak_rate,
            "input_scaling": self.input_scaling,
            "seed": self.seed,
        }


def esn(inputs, settings: EncoderSettings, *, kind: str):
    """Reservoir (size = reservoir_size option or --units) feeding the task's trained head."""
    from seqapps.archs import ESN

    size = settings.option(ESN, "reservoir_size") or settings.units
    cell = ReservoirCell(
        size,
        spectral_radius=settings.option(ESN, "spectral_radius"),
        sparsity=settings.option(ESN, "sparsity"),
        leak_rate=settings.option(ESN, "leak_rate"),
        input_scaling=settings.option(ESN, "input_scaling"),
        seed=settings.seed,
        name="reservoir_cell",
    )
    x = keras.layers.RNN(
        cell, return_sequences=returns_sequences(kind), stateful=settings.stateful, name="reservoir"
    )(inputs)
    if settings.dropout:
        x = keras.layers.Dropout(settings.dropout, name="reservoir_dropout")(x)
    return x
