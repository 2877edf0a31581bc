"""Pretrained word vectors in the common text formats: GloVe, word2vec text, fastText .vec.

A file holds one word per line followed by its numbers; word2vec and fastText files start
with a "COUNT DIMENSIONS" line, GloVe files do not. Files list words by frequency, so the
first lines hold the words a small corpus most needs.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from seqapps.exceptions import DataError


@dataclass
class Vectors:
    """Words and their vectors, in the file's order."""

    words: list[str]
    matrix: np.ndarray  # (words, dimensions), float32

    @property
    def dimensions(self) -> int:
        """The length of every vector."""
        return int(self.matrix.shape[1])


def _is_header(fields: list[str]) -> bool:
    return len(fields) == 2 and all(field.isdigit() for field in fields)


def read_vectors(path: Path, option: str = "embeddings") -> Vectors:
    """Every vector of a text vectors file; one line naming the file and line on a mistake."""
    words, rows, width = [], [], None
    try:
        with path.open(encoding="utf-8", errors="strict") as handle:
            for number, line in enumerate(handle, start=1):
                fields = line.rstrip("\n").rstrip(" ").split(" ")
                if number == 1 and _is_header(fields):
                    continue
                if len(fields) < 2:
                    continue  # a blank line
                try:
                    values = [float(x) for x in fields[1:]]
                except ValueError:
                    raise DataError(
                        f"--set {option}={path}: line {number} is not 'WORD NUMBER NUMBER ...'"
                    ) from None
                if width is None:
                    width = len(values)
                elif len(values) != width:
                    raise DataError(
                        f"--set {option}={path}: line {number} has {len(values)} numbers, "
                        f"the first vector {width}"
                    )
                words.append(fields[0])
                rows.append(values)
    except FileNotFoundError:
        raise DataError(f"--set {option}={path}: no such file") from None
    except UnicodeDecodeError as error:
        raise DataError(f"--set {option}={path}: not UTF-8 text ({error.reason})") from None
    if not words:
        raise DataError(f"--set {option}={path}: no vectors in the file")
    return Vectors(words, np.asarray(rows, dtype=np.float32))


def embedding_matrix(vocabulary: list[str], vectors: Vectors, seed: int):
    """(len(vocabulary), dimensions) rows: a word's vector where the file has it (exact,
    else lowercased), small random values elsewhere, zeros for padding (index 0).
    Returns the matrix and how many vocabulary words were found."""
    index = {}
    for position, word in enumerate(vectors.words):
        index.setdefault(word, position)
        index.setdefault(word.lower(), position)
    rng = np.random.default_rng(seed)
    scale = float(vectors.matrix.std()) or 0.1
    matrix = rng.normal(0.0, scale, (len(vocabulary), vectors.dimensions)).astype(np.float32)
    matrix[0] = 0.0
    found = 0
    for row, word in enumerate(vocabulary):
        position = index.get(word, index.get(word.lower()))
        if row > 1 and position is not None:  # 0 is padding, 1 the unknown word
            matrix[row] = vectors.matrix[position]
            found += 1
    return matrix, found
