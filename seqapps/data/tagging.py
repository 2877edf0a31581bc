"""Tagged tokens: CoNLL-U, CoNLL-2003 and token-TAB-tag files, vocabularies with an unknown index.

Readers report problems with the file and line number. The format is read from the file's
content (``detect_format``), not its suffix: ``.conll`` means CoNLL-U to some and
CoNLL-2003 to others. Vocabularies are built from the
training split only; index 0 is padding and index 1 the unknown word.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from seqapps.exceptions import DataError

PAD, UNKNOWN = 0, 1
CONLLU_COLUMNS = ("id", "form", "lemma", "upos", "xpos", "feats", "head", "deprel", "deps", "misc")
#: CoNLL-2003: token, POS tag, chunk tag, named-entity tag, separated by spaces.
CONLL2003_COLUMNS = ("token", "pos", "chunk", "ner")
#: Formats ``read_tagged`` takes; "auto" detects one of the others from the content.
FORMATS = ("auto", "conllu", "conll2003", "two-column")


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


def read_conll2003(path: Path, tag_column: str = "ner") -> list[Sentence]:
    """Sentences of a CoNLL-2003 file (token POS chunk NER), tagged from ``tag_column``.

    ``-DOCSTART-`` lines mark documents, not sentences, and are skipped.
    """
    if tag_column not in CONLL2003_COLUMNS[1:]:
        raise DataError(f"--set tag_column={tag_column}: expected pos, chunk or ner")
    column = CONLL2003_COLUMNS.index(tag_column)

    def parse(number: int, line: str):
        fields = line.split()
        if fields[0] == "-DOCSTART-":
            return None
        if len(fields) != 4:
            raise DataError(
                f"--data {path}: line {number}: expected 4 space-separated CoNLL-2003 columns "
                f"(token POS chunk NER), found {len(fields)}"
            )
        return fields[0], fields[column]

    return _sentences(path, parse)


def detect_format(path: Path) -> str:
    """The format of a tagged file, from its first token line: conllu, conll2003 or two-column."""
    for number, line in _lines(path):
        line = line.rstrip("\n")
        if not line.strip() or line.startswith("#"):
            continue
        if line.startswith("-DOCSTART-"):
            return "conll2003"
        tabs = len(line.split("\t"))
        if tabs == 10:
            return "conllu"
        if tabs == 2:
            return "two-column"
        if tabs == 1 and len(line.split()) == 4:
            return "conll2003"
        raise DataError(
            f"--data {path}: line {number}: not CoNLL-U (10 tab-separated columns), "
            "CoNLL-2003 (4 space-separated columns) or token<TAB>tag; name it with --set format="
        )
    raise DataError(f"--data {path}: file is empty (no sentences)")


def read_tagged(
    path: Path, tag_column: str | None = None, file_format: str = "auto"
) -> list[Sentence]:
    """Sentences of a tagged file in ``file_format`` (one of FORMATS; auto detects it).

    ``tag_column`` picks the column of CoNLL-U (upos, xpos; default upos) or CoNLL-2003
    (pos, chunk, ner; default ner) files; token<TAB>tag files have one.
    """
    if file_format not in FORMATS:
        raise DataError(f"--set format={file_format}: expected one of {', '.join(FORMATS)}")
    if file_format == "auto":
        file_format = detect_format(path)
    if file_format == "conllu":
        return read_conllu(path, tag_column or "upos")
    if file_format == "conll2003":
        return read_conll2003(path, tag_column or "ner")
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
