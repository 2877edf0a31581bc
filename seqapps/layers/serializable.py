"""Imports every core module that registers a Keras object, so Keras can find them all."""

from seqapps.layers import (  # noqa: F401 (imported to register their classes)
    attention,
    characters,
    heads,
    long_texts,
    masking,
    rbf,
    reservoir,
    transformer,
)
