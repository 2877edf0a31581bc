"""Architecture records: what `--arch` names, described without importing Keras.

Each architecture is an ``Arch`` registered in the ``seqapps.archs`` entry-point group.
Its ``factory`` ("module:function" or a callable) builds the encoder when a run needs it:

    factory(inputs, settings: EncoderSettings, *, return_sequences: bool) -> KerasTensor

``inputs`` is a (batch, time, features) Keras tensor that may carry a padding mask; the
encoder returns (batch, time, units) when ``return_sequences`` is true, else (batch, units).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from seqapps.task import ARCH_KINDS

MANY_TO_ONE, TAGGING, FORECASTING, GENERATION, SEQ2SEQ = ARCH_KINDS
#: Kinds whose encoder returns one vector per sequence (the others return one per step).
VECTOR_KINDS = frozenset({MANY_TO_ONE, FORECASTING})


@dataclass(frozen=True)
class EncoderSettings:
    """Size and regularization of an encoder, resolved from the run config."""

    units: int = 64
    layers: int = 1
    dropout: float = 0.0
    recurrent_dropout: float = 0.0
    l1: float = 0.0
    l2: float = 0.0
    options: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Arch:
    """A registered architecture: name, one-line summary, the kinds it serves, its factory."""

    name: str
    summary: str
    kinds: tuple[str, ...]
    factory: str | Callable[..., Any]
    fused_gpu_kernel: bool = False

    def __post_init__(self):
        unknown = [kind for kind in self.kinds if kind not in ARCH_KINDS]
        if unknown:
            raise ValueError(
                f"Arch {self.name!r}: unknown kinds {unknown}; allowed: {', '.join(ARCH_KINDS)}"
            )

    def supports(self, kind: str) -> bool:
        """Whether this architecture can serve a task of arch kind ``kind``."""
        return kind in self.kinds

    def build_encoder(self, inputs: Any, settings: EncoderSettings, kind: str) -> Any:
        """Apply this architecture's encoder to ``inputs`` for a task of arch kind ``kind``."""
        factory = self.factory
        if isinstance(factory, str):
            module_name, _, attribute = factory.partition(":")
            factory = getattr(importlib.import_module(module_name), attribute)
        return factory(inputs, settings, return_sequences=kind not in VECTOR_KINDS)


_SEQUENCE_KINDS = (MANY_TO_ONE, TAGGING, FORECASTING, GENERATION)
# Bidirectional encoders read the future, so they cannot generate step by step.
_BIDIRECTIONAL_KINDS = (MANY_TO_ONE, TAGGING, FORECASTING)

RNN = Arch(
    "rnn", "Elman SimpleRNN (tanh), stackable", _SEQUENCE_KINDS, "seqapps.layers.recurrent:rnn"
)
LSTM = Arch(
    "lstm",
    "Long short-term memory; cuDNN-eligible defaults",
    _SEQUENCE_KINDS,
    "seqapps.layers.recurrent:lstm",
    fused_gpu_kernel=True,
)
GRU = Arch(
    "gru",
    "Gated recurrent unit (reset_after); cuDNN-eligible defaults",
    _SEQUENCE_KINDS,
    "seqapps.layers.recurrent:gru",
    fused_gpu_kernel=True,
)
BIRNN = Arch(
    "birnn",
    "Bidirectional SimpleRNN (forward and backward concatenated)",
    _BIDIRECTIONAL_KINDS,
    "seqapps.layers.recurrent:birnn",
)
BILSTM = Arch(
    "bilstm",
    "Bidirectional LSTM, the classic tagger and classifier",
    _BIDIRECTIONAL_KINDS,
    "seqapps.layers.recurrent:bilstm",
    fused_gpu_kernel=True,
)
BIGRU = Arch(
    "bigru",
    "Bidirectional GRU",
    _BIDIRECTIONAL_KINDS,
    "seqapps.layers.recurrent:bigru",
    fused_gpu_kernel=True,
)
BOW = Arch(
    "bow",
    "Baseline: mean of the inputs over time (bag of words), then a dense layer; ignores order",
    (MANY_TO_ONE, FORECASTING),
    "seqapps.layers.baselines:bag_of_words",
)
