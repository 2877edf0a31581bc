"""Labelled text: CSV/TSV reading, vocabulary fitting and string-to-token vectorization."""

from __future__ import annotations

import csv
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from seqapps.exceptions import DataError, DataWarning

#: Suffixes of files that are surely not delimited text (named at once, not parsed as CSV).
NOT_CSV = (".json", ".jsonl", ".xlsx", ".xls", ".parquet", ".pkl", ".zip", ".gz", ".npz")

#: How a text longer than the kept length is cut (see seqapps.layers.long_texts).
TRUNCATE_MODES = ("head", "tail", "head+tail", "chunks")

#: Longest field a CSV/TSV may hold (Python's csv module stops at 128 KB by default).
MAX_FIELD_BYTES = 16 * 1024 * 1024


def read_labelled_text(
    path: Path, text_column: str, label_column: str
) -> tuple[list[str], list[str]]:
    """Read (texts, labels) from a CSV or TSV file with a header row.

    The delimiter is a tab for .tsv/.tab files and a comma otherwise; a UTF-8 byte-order
    mark (Excel's "CSV UTF-8") is dropped; a field may hold up to 16 MB. Every problem
    names the file, and the row where there is one; rows with an empty text are kept and
    counted in one warning.
    """
    if path.suffix.lower() in NOT_CSV:
        raise DataError(
            f"--data {path}: a {path.suffix} file; expected a CSV or TSV file with a header row"
        )
    csv.field_size_limit(max(csv.field_size_limit(), MAX_FIELD_BYTES))
    try:
        handle = path.open(encoding="utf-8-sig", newline="")
    except OSError as error:
        raise DataError(f"--data {path}: cannot read ({error.strerror})") from None
    with handle:
        try:
            delimiter = "\t" if path.suffix.lower() in (".tsv", ".tab") else ","
            reader = csv.DictReader(handle, delimiter=delimiter)
            _check_header(path, reader.fieldnames, text_column, label_column)
            texts, labels = _labelled_rows(path, reader, text_column, label_column)
        except UnicodeDecodeError:
            raise DataError(f"--data {path}: not UTF-8 text") from None
        except csv.Error as error:
            raise DataError(f"--data {path}: malformed CSV ({error})") from None
    if not texts:
        raise DataError(f"--data {path}: no examples (only a header)")
    empty = sum(not text.strip() for text in texts)
    if empty:
        warnings.warn(f"{path}: {empty} rows have an empty text", DataWarning, stacklevel=2)
    return texts, labels


def _check_header(path: Path, header, text_column: str, label_column: str) -> None:
    if not header:
        raise DataError(f"--data {path}: file is empty")
    for column, option in ((text_column, "text_column"), (label_column, "label_column")):
        if column not in header:
            shown = ", ".join(header)
            shown = shown if len(shown) <= 300 else shown[:300] + " ..."
            raise DataError(
                f"--data {path}: no column {column!r} (set it with --set {option}=NAME); "
                f"columns: {shown}"
            )


def _labelled_rows(path: Path, reader, text_column: str, label_column: str):
    texts, labels = [], []
    for row in reader:
        text, label = row[text_column], row[label_column]
        if text is None or label is None:
            raise DataError(f"--data {path}: row {reader.line_num} has too few fields")
        if not text.strip() and not label.strip():
            continue
        if not label.strip():
            raise DataError(f"--data {path}: row {reader.line_num} has an empty label")
        texts.append(text)
        labels.append(label.strip())
    return texts, labels


def check_classes(labels: list[str], source: str) -> list[str]:
    """Sorted distinct labels; fewer than two classes cannot be classified."""
    classes = sorted(set(labels))
    if len(classes) < 2:
        only = classes[0] if classes else "none"
        raise DataError(
            f"--data {source}: needs at least 2 classes to classify, found 1 ({only!r})"
        )
    return classes


def fit_vectorizer(texts: list[str], max_tokens: int, sequence_length: int | None):
    """A Keras TextVectorization fitted on ``texts`` (the training split only).

    Index 0 is padding and 1 the out-of-vocabulary token; sequences are right-padded to
    ``sequence_length`` (None: to the longest text of each batch, whole) so recurrent layers
    keep cuDNN-compatible masks.
    """
    import keras

    vectorizer = keras.layers.TextVectorization(
        max_tokens=max_tokens,
        output_mode="int",
        output_sequence_length=sequence_length,
        standardize="lower_and_strip_punctuation",
        name="vectorizer",
    )
    vectorizer.adapt(texts, batch_size=1024)
    return vectorizer


def extend_vocabulary(vectorizer, words: list[str], limit: int):
    """A vectorizer like ``vectorizer`` that also knows up to ``limit`` of ``words`` (in
    their order) that it lacks and that its standardization keeps as one token."""
    import re

    import keras

    known = vectorizer.get_vocabulary()[2:]  # after padding and the unknown word
    have = set(known)
    extra = []
    for word in words:
        if len(extra) >= limit:
            break
        if word not in have and word == word.lower() and re.fullmatch(r"\w+", word):
            extra.append(word)
            have.add(word)
    config = vectorizer.get_config()
    extended = keras.layers.TextVectorization(
        max_tokens=None,
        output_mode="int",
        output_sequence_length=config["output_sequence_length"],
        standardize=config["standardize"],
        vocabulary=[str(word) for word in known] + extra,
        name=vectorizer.name,
    )
    return extended, len(extra)


@dataclass
class Windowed:
    """Token ids as a model reads them, and how much of the texts was cut to get there."""

    tokens: np.ndarray  # (texts, length) or (texts, chunks, chunk_length)
    lengths: np.ndarray  # each text's whole length in tokens

    def coverage(self) -> float:
        """The share of kept tokens the vocabulary knows (not the unknown id 1)."""
        kept = self.tokens[self.tokens != 0]
        return float((kept != 1).mean()) if kept.size else 1.0

    def cut(self, length: int) -> tuple[int, float]:
        """How many texts were longer than ``length``, and the share of tokens left out."""
        total = int(self.lengths.sum())
        dropped = int(np.maximum(self.lengths - length, 0).sum())
        return int((self.lengths > length).sum()), dropped / total if total else 0.0


def window_texts(vectorizer, texts: list[str], window, batch: int = 512) -> Windowed:
    """``texts`` vectorized whole, then cut by ``window`` (a TokenWindow), in batches so a
    corpus of long documents never sits in memory at its full width."""
    from seqapps.tensorflow_import import import_tensorflow

    tf = import_tensorflow()
    parts, lengths = [], []
    for start in range(0, len(texts), batch):
        whole = vectorizer(tf.constant(texts[start : start + batch]))
        lengths.append(tf.math.count_nonzero(whole, axis=1).numpy())
        parts.append(np.asarray(window(whole)))
    return Windowed(np.concatenate(parts), np.concatenate(lengths))


def token_lengths(vectorizer, texts: list[str], batch: int = 512) -> np.ndarray:
    """How many tokens ``vectorizer`` (fitted with no fixed length) makes of each text."""
    from seqapps.tensorflow_import import import_tensorflow

    tf = import_tensorflow()
    counts = [
        tf.math.count_nonzero(vectorizer(tf.constant(texts[start : start + batch])), axis=1)
        for start in range(0, len(texts), batch)
    ]
    return np.concatenate([c.numpy() for c in counts])
