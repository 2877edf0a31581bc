"""Everything a task plugin may use from seqapps, in one place.

    from seqapps.api import Task, DataBundle, Spec, Report, Option, encoder_settings

Plugins (the built-in ones too) import from this module only; a test fails when one reaches
into another seqapps module, so the core can change behind it. The names in ``_LAZY`` need
Keras or matplotlib and are imported on first use: importing ``seqapps.api`` stays cheap, so
``seqapps tasks`` lists plugins without loading TensorFlow.
"""

from __future__ import annotations

import importlib
from typing import Any

from seqapps.archs import (
    ARCH_KINDS,
    FORECASTING,
    GENERATION,
    MANY_TO_ONE,
    SEQ2SEQ,
    TAGGING,
    Arch,
    EncoderSettings,
    encoder_settings,
    returns_sequences,
)
from seqapps.baselines import majority, naive_bayes, softmax_regression, verdict_line
from seqapps.data.chunking import parallel_streams
from seqapps.data.sources import (
    existing_file,
    fingerprint_file,
    fingerprint_rows,
    load_tfds,
    parse_source,
)
from seqapps.data.splits import (
    cap_splits,
    check_labels_seen,
    check_not_empty,
    fold_splits,
    split_groups,
    split_indices,
    warn_unseen_labels,
)
from seqapps.data.tagging import (
    FORMATS,
    PAD,
    UNKNOWN,
    Sentence,
    Vocabulary,
    detect_format,
    read_tagged,
)
from seqapps.data.text import (
    TRUNCATE_MODES,
    check_classes,
    fit_vectorizer,
    read_labelled_text,
    token_lengths,
    window_texts,
)
from seqapps.data.timeseries import (
    Scaler,
    Series,
    read_series,
    split_points,
    window_origins,
    windows_dataset,
)
from seqapps.exceptions import ConfigError, DataError, DataWarning, UserInputError
from seqapps.metrics import (
    accuracy,
    accuracy_of,
    bootstrap_interval,
    confusion_matrix,
    label_confusion,
    macro_f1,
    macro_f1_of,
    per_class_scores,
)
from seqapps.options import Option
from seqapps.progress import progress
from seqapps.sampling import sample_bernoulli, sample_categorical, tempered, tempered_bernoulli
from seqapps.tagging_task import TAGGING_OPTIONS, TaggingTask
from seqapps.task import API_VERSION, SPLITS, DataBundle, Report, Spec, Task
from seqapps.tensorflow_import import import_tensorflow

#: Names that import Keras or matplotlib, by the module that holds them.
_LAZY = {
    "plots": "seqapps.plots",
    "ZeroPadding": "seqapps.layers.masking",
    "classification_head": "seqapps.layers.heads",
    "token_embedding": "seqapps.layers.heads",
    "WordDropout": "seqapps.layers.heads",
    "CharacterCNN": "seqapps.layers.characters",
    "ATTENTION_LAYER_NAME": "seqapps.layers.attention",
    "TokenWindow": "seqapps.layers.long_texts",
    "ChunksToRows": "seqapps.layers.long_texts",
    "PoolChunks": "seqapps.layers.long_texts",
    "extend_vocabulary": "seqapps.data.text",
    "read_vectors": "seqapps.data.vectors",
    "embedding_matrix": "seqapps.data.vectors",
}


def __getattr__(name: str) -> Any:
    module_name = _LAZY.get(name)
    if module_name is None:
        raise AttributeError(f"module 'seqapps.api' has no attribute {name!r}")
    module = importlib.import_module(module_name)
    if name == "plots":
        return module
    return getattr(module, "LAYER_NAME" if name == "ATTENTION_LAYER_NAME" else name)


__all__ = [
    "API_VERSION",
    "ARCH_KINDS",
    "FORECASTING",
    "GENERATION",
    "MANY_TO_ONE",
    "FORMATS",
    "PAD",
    "SEQ2SEQ",
    "SPLITS",
    "TAGGING",
    "TAGGING_OPTIONS",
    "UNKNOWN",
    "Arch",
    "ConfigError",
    "DataBundle",
    "DataError",
    "DataWarning",
    "EncoderSettings",
    "Option",
    "Report",
    "Scaler",
    "Sentence",
    "Series",
    "Spec",
    "TaggingTask",
    "Task",
    "UserInputError",
    "Vocabulary",
    "accuracy",
    "cap_splits",
    "check_classes",
    "check_labels_seen",
    "check_not_empty",
    "confusion_matrix",
    "detect_format",
    "encoder_settings",
    "existing_file",
    "fingerprint_file",
    "fingerprint_rows",
    "fit_vectorizer",
    "import_tensorflow",
    "label_confusion",
    "load_tfds",
    "macro_f1",
    "macro_f1_of",
    "accuracy_of",
    "bootstrap_interval",
    "majority",
    "naive_bayes",
    "softmax_regression",
    "TRUNCATE_MODES",
    "window_texts",
    "warn_unseen_labels",
    "fold_splits",
    "token_lengths",
    "verdict_line",
    "parallel_streams",
    "parse_source",
    "per_class_scores",
    "read_labelled_text",
    "read_series",
    "read_tagged",
    "returns_sequences",
    "split_groups",
    "split_indices",
    "split_points",
    "window_origins",
    "windows_dataset",
    *_LAZY,
    "progress",
    "sample_bernoulli",
    "sample_categorical",
    "tempered",
    "tempered_bernoulli",
]
