"""Tagged tokens: CoNLL-U and token-TAB-tag files, vocabularies with an unknown-word index.

Readers report problems with the file and line number. Vocabularies are built from the
training split only; index 0 is padding and index 1 the unknown word.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from seqapps.exceptions import DataError

PAD, UNKNOWN = 0, 1
CONLLU_COLUMNS = ("id", "form", "lemma", "upos", "xpos", "feats", "head", "deprel", "deps", "misc")


@dataclass
class Sentence:
    """One sentence: its tokens and their tags."""

    tokens: list[str]
    tags: list[str]


def _lines(path: Path):
    try:
        with path.open(encoding="utf-8-sig") as handle:
            yield from enumerate(handle, 1)
    except UnicodeDecodeError:
        raise DataError(f"--data {path}: not UTF-8 text") from None
    except OSError as error:
        raise DataError(f"--data {path}: cannot read ({error.strerror})") from None


def _sentences(path: Path, parse) -> list[Sentence]:
    """Sentences from blank-line-separated blocks; ``parse(number, line)`` gives a
    (token, tag) pair, or None for a line to skip."""
    sentences, tokens, tags = [], [], []
    for number, line in _lines(path):
        line = line.rstrip("\n")
        if not line.strip():
            if tokens:
                sentences.append(Sentence(tokens, tags))
                tokens, tags = [], []
            continue
        parsed = parse(number, line)
        if parsed is not None:
            tokens.append(parsed[0])
            tags.append(parsed[1])
    if tokens:
        sentences.append(Sentence(tokens, tags))
    if not sentences:
        raise DataError(f"--data {path}: file is empty (no sentences)")
    return sentences


def read_conllu(path: Path, tag_column: str = "upos") -> list[Sentence]:
    """Sentences of a CoNLL-U file, tagged from ``tag_column`` (upos or xpos).

    Comment lines, multiword-token lines (ids like 3-4) and empty nodes (ids like 5.1) are
    skipped: the syntactic words carry the tags.
    """
    if tag_column not in ("upos", "xpos"):
        raise DataError(f"--set tag_column={tag_column}: expected upos or xpos")
    column = CONLLU_COLUMNS.index(tag_column)

    def parse(number: int, line: str):
        if line.startswith("#"):
            return None
        fields = line.split("\t")
        if len(fields) != 10:
            raise DataError(
                f"--data {path}: line {number}: expected 10 tab-separated CoNLL-U columns, "
                f"found {len(fields)}"
            )
        if "-" in fields[0] or "." in fields[0]:
            return None
        return fields[1], fields[column]

    sentences = _sentences(path, parse)
    if all(tag == "_" for sentence in sentences for tag in sentence.tags):
        other = "xpos" if tag_column == "upos" else "upos"
        raise DataError(
            f"--data {path}: the {tag_column} column is empty ('_' everywhere); "
            f"try --set tag_column={other}"
        )
    return sentences


def read_two_column(path: Path) -> list[Sentence]:
    """Sentences of a token<TAB>tag file with a blank line between sentences."""

    def parse(number: int, line: str):
        fields = line.split("\t")
        if len(fields) != 2 or not fields[0] or not fields[1]:
            raise DataError(
                f"--data {path}: line {number}: expected token<TAB>tag, found {len(fields)} "
                "column(s)"
            )
        return fields[0], fields[1]

    return _sentences(path, parse)


def read_tagged(path: Path, tag_column: str = "upos") -> list[Sentence]:
    """CoNLL-U for .conllu files, token<TAB>tag otherwise."""
    if path.suffix.lower() in (".conllu", ".conll"):
        return read_conllu(path, tag_column)
    return read_two_column(path)


class Vocabulary:
    """String to index, fitted on training data: 0 = padding, 1 = unknown."""

    def __init__(self, items: list[str]):
        self.items = ["<pad>", "<unk>", *items]
        self.index = {item: i for i, item in enumerate(self.items)}

    @classmethod
    def fit(cls, sequences, min_count: int = 1) -> Vocabulary:
        """Items seen at least ``min_count`` times, most frequent first (ties by name)."""
        counts = Counter(item for sequence in sequences for item in sequence)
        kept = [item for item, count in counts.items() if count >= min_count]
        return cls(sorted(kept, key=lambda item: (-counts[item], item)))

    def __len__(self) -> int:
        return len(self.items)

    def __contains__(self, item: str) -> bool:
        return item in self.index

    def encode(self, sequence) -> list[int]:
        """Indices of ``sequence``; unseen items map to the unknown index."""
        return [self.index.get(item, UNKNOWN) for item in sequence]
