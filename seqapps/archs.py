"""Architecture records: what `--arch` names, described without importing Keras.

Each architecture is an ``Arch`` registered in the ``seqapps.archs`` entry-point group.
Its ``factory`` ("module:function" or a callable) builds the encoder when a run needs it:

    factory(inputs, settings: EncoderSettings, *, kind: str) -> KerasTensor

``inputs`` is a (batch, time, features) Keras tensor that may carry a padding mask; ``kind``
is one of ARCH_KINDS. The encoder returns (batch, units) for many-to-one and forecasting,
and (batch, time, units) otherwise; for generation it must be causal (never read ahead).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from seqapps.options import Option

if TYPE_CHECKING:
    from seqapps.config import RunConfig

#: The input/output shapes an architecture can serve; each task kind needs one of them.
ARCH_KINDS = ("many-to-one", "tagging", "forecasting", "generation", "sequence-to-sequence")
MANY_TO_ONE, TAGGING, FORECASTING, GENERATION, SEQ2SEQ = ARCH_KINDS
#: Kinds whose encoder returns one vector per sequence (the others return one per step).
VECTOR_KINDS = frozenset({MANY_TO_ONE, FORECASTING})


def returns_sequences(kind: str) -> bool:
    """Whether an encoder for ``kind`` returns one output per step."""
    return kind not in VECTOR_KINDS


@dataclass(frozen=True)
class EncoderSettings:
    """Size and regularization of an encoder, resolved from the run config."""

    units: int = 64
    layers: int = 1
    dropout: float = 0.0
    recurrent_dropout: float = 0.0
    l1: float = 0.0
    l2: float = 0.0
    seed: int = 42
    #: Carry recurrent state across batches (truncated BPTT); needs a fixed batch size.
    stateful: bool = False
    options: Mapping[str, Any] = field(default_factory=dict)

    def option(self, arch: Arch, key: str) -> Any:
        """An arch option's value: the run's setting, else the arch's default."""
        return self.options.get(key, arch.options[key].default)

    @classmethod
    def from_config(cls, config: RunConfig, stateful: bool = False) -> EncoderSettings:
        """The arch-level settings of a run config (``stateful`` for truncated BPTT)."""
        return cls(
            stateful=stateful,
            units=config.units,
            layers=config.layers,
            dropout=config.dropout,
            recurrent_dropout=config.recurrent_dropout,
            l1=config.l1,
            l2=config.l2,
            seed=config.seed,
            options=config.options,
        )


def encoder_settings(config: RunConfig, stateful: bool = False) -> EncoderSettings:
    """The arch-level settings of a run config (``stateful`` for truncated BPTT)."""
    return EncoderSettings.from_config(config, stateful)


@dataclass(frozen=True)
class Arch:
    """A registered architecture: name, one-line summary, the kinds it serves, its factory."""

    name: str
    summary: str
    kinds: tuple[str, ...]
    factory: str | Callable[..., Any]
    fused_gpu_kernel: bool = False
    #: False when padded steps can change the result (the arch ignores masks).
    masks: bool = True
    #: True when it can carry state across batches (truncated BPTT over chunks).
    stateful: bool = False
    #: Options settable with --set key=value (see seqapps.options.Option).
    options: Mapping[str, Option] = field(default_factory=dict)

    def __post_init__(self):
        unknown = [kind for kind in self.kinds if kind not in ARCH_KINDS]
        if unknown:
            raise ValueError(
                f"Arch {self.name!r}: unknown kinds {unknown}; allowed: {', '.join(ARCH_KINDS)}"
            )

    def supports(self, kind: str) -> bool:
        """Whether this architecture can serve a task of arch kind ``kind``."""
        return kind in self.kinds

    def build_encoder(self, inputs: Any, settings: EncoderSettings, kind: str, **extra: Any) -> Any:
        """Apply this architecture's encoder to ``inputs`` for a task of arch kind ``kind``.

        ``extra`` carries kind-specific inputs, e.g. ``decoder_inputs`` for seq2seq.
        """
        factory = self.factory
        if isinstance(factory, str):
            module_name, _, attribute = factory.partition(":")
            factory = getattr(importlib.import_module(module_name), attribute)
        if not self.supports(kind):
            raise ValueError(f"arch {self.name!r} cannot serve {kind!r}; it serves {self.kinds}")
        return factory(inputs, settings, kind=kind, **extra)


_SEQUENCE_KINDS = (MANY_TO_ONE, TAGGING, FORECASTING, GENERATION)
# Bidirectional encoders read the future, so they cannot generate step by step.
_BIDIRECTIONAL_KINDS = (MANY_TO_ONE, TAGGING, FORECASTING)

RNN = Arch(
    "rnn",
    "Elman SimpleRNN (tanh), stackable",
    _SEQUENCE_KINDS,
    "seqapps.layers.recurrent:rnn",
    stateful=True,
)
LSTM = Arch(
    "lstm",
    "Long short-term memory; cuDNN-eligible defaults",
    _SEQUENCE_KINDS,
    "seqapps.layers.recurrent:lstm",
    fused_gpu_kernel=True,
    stateful=True,
)
GRU = Arch(
    "gru",
    "Gated recurrent unit (reset_after); cuDNN-eligible defaults",
    _SEQUENCE_KINDS,
    "seqapps.layers.recurrent:gru",
    fused_gpu_kernel=True,
    stateful=True,
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
ESN = Arch(
    "esn",
    "Echo state network: fixed sparse random reservoir, only the readout learns",
    _SEQUENCE_KINDS,
    "seqapps.layers.reservoir:esn",
    stateful=True,
    options={
        "reservoir_size": Option(0, "reservoir units; 0 = --units"),
        "spectral_radius": Option(
            0.9, "largest absolute eigenvalue of the reservoir (memory length)"
        ),
        "sparsity": Option(0.9, "share of zero reservoir connections, in [0, 1)"),
        "leak_rate": Option(0.5, "share of the new state mixed in per step, in (0, 1]"),
        "input_scaling": Option(1.0, "input weights drawn from U(-s, s)"),
    },
)
ATTENTION = Arch(
    "attention",
    "Bidirectional LSTM with additive attention pooling (weights can be plotted)",
    (MANY_TO_ONE, FORECASTING),
    "seqapps.layers.attention:attention",
    fused_gpu_kernel=True,
)
SEQ2SEQ_ARCH = Arch(
    "seq2seq",
    "LSTM encoder-decoder with Luong or Bahdanau attention; teacher forcing, greedy decoding",
    (SEQ2SEQ,),
    "seqapps.layers.seq2seq:seq2seq",
    fused_gpu_kernel=True,
    options={
        "attention": Option(
            "luong",
            "luong (dot product), bahdanau (additive) or none (the decoder reads only the "
            "encoder's final state)",
            ("luong", "bahdanau", "none"),
        )
    },
)
RBF = Arch(
    "rbf",
    "Radial basis function network over the pooled sequence (non-recurrent baseline)",
    (MANY_TO_ONE, FORECASTING),
    "seqapps.layers.rbf:rbf",
    options={
        "rbf_pooling": Option(
            "mean", "mean (masked mean over time) or flatten (fixed windows)", ("mean", "flatten")
        )
    },
)
CONV1D = Arch(
    "conv1d",
    "Baseline: stacked temporal convolutions (causal for generation), max-pooled",
    _SEQUENCE_KINDS,
    "seqapps.layers.convolution:conv1d",
    masks=False,
    options={"kernel_size": Option(3, "steps each convolution sees")},
)
TRANSFORMER = Arch(
    "transformer",
    "Baseline: small Transformer encoder, sinusoidal positions (causal for generation)",
    _SEQUENCE_KINDS,
    "seqapps.layers.transformer:transformer",
    options={"heads": Option(4, "attention heads (key size = units / heads)")},
)
