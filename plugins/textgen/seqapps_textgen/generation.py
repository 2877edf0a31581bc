"""Generation one token at a time, from a copy of the model that keeps its recurrent state.

A recurrent model is copied with ``stateful=True`` for one row: the prime is read once and
every new token costs one step. Models whose layers keep no state (convolutions, attention)
are fed the whole buffer at every step instead, with one fixed shape so Keras traces the
predict function once; they are causal, so the empty tail never changes the step sampled.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np


def continue_tokens(model, prime: list[int], length: int, draw: Callable) -> list[int]:
    """``length`` token ids continuing ``prime``; ``draw(probabilities)`` picks each one."""
    stepper = stateful_copy(model)
    if stepper is None:
        return _by_buffer(model, prime, length, draw)
    probabilities = stepper.predict_on_batch(np.array([prime], np.int32))[0, -1]
    generated = []
    for _ in range(length):
        generated.append(draw(np.asarray(probabilities, np.float64)))
        probabilities = stepper.predict_on_batch(np.array([[generated[-1]]], np.int32))[0, -1]
    return generated


def stateful_copy(model):
    """``model`` with its recurrent layers keeping state across calls, for a batch of one;
    None when a layer cannot (the caller then re-reads the whole buffer)."""
    import keras

    layers = list(_all_layers(model))
    if not any("stateful" in layer.get_config() for layer in layers):
        return None
    if not all(_keeps_time_apart(layer) for layer in layers):
        return None

    def stateful(layer):
        config = layer.get_config()
        if "stateful" in config:
            config["stateful"] = True
        return layer.__class__.from_config(config)

    try:
        copy = keras.models.clone_model(
            model,
            input_tensors=keras.Input(batch_shape=(1, None), dtype="int32"),
            clone_function=stateful,
        )
    except (TypeError, ValueError):
        return None
    copy.set_weights(model.get_weights())
    return copy


def _all_layers(model):
    for layer in model.layers:
        yield layer
        if hasattr(layer, "layers"):
            yield from _all_layers(layer)


def _keeps_time_apart(layer) -> bool:
    """False for layers that mix time steps without state (attention, convolution)."""
    name = type(layer).__name__
    return not any(word in name for word in ("Attention", "Conv", "Transformer", "Reservoir"))


def _by_buffer(model, prime: list[int], length: int, draw: Callable) -> list[int]:
    buffer = np.zeros((1, len(prime) + length), np.int32)
    buffer[0, : len(prime)] = prime
    for position in range(len(prime) - 1, len(prime) - 1 + length):
        probabilities = model.predict_on_batch(buffer)[0, position]
        buffer[0, position + 1] = draw(np.asarray(probabilities, np.float64))
    return buffer[0, len(prime) :].tolist()
