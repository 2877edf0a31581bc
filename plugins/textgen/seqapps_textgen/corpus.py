"""Where the text comes from, how it is cut into train/validation/test, and into tokens.

Language-model text is split by position (train, then validation, then test), never
shuffled across a boundary: the held-out text is text the model has not read, not
sentences drawn from between the training ones.
"""

from __future__ import annotations

import re
from pathlib import Path

from seqapps.api import DataError, load_tfds, parse_source

SAMPLE = Path(__file__).with_name("data") / "tinyshakespeare.txt"
LEVELS = ("char", "word")
#: Words, numbers, single punctuation marks and line breaks: the word-level tokens.
_WORD_TOKENS = re.compile(r"\w+(?:'\w+)?|[^\w\s]|\n")
TEXT_SUFFIXES = (".txt", ".md", ".text")


def read_source(source: str, data_dir: str | None) -> tuple[dict[str, str] | str, str]:
    """The text of ``source`` (one string, or the splits of a TFDS set) and its description."""
    if source == "sample":
        return SAMPLE.read_text(encoding="utf-8"), "sample (Tiny Shakespeare, embedded)"
    parsed = parse_source(source)
    if parsed.kind == "tfds":
        return _tfds_text(parsed.value, data_dir), f"tfds:{parsed.value}"
    path = Path(source)
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.suffix.lower() in TEXT_SUFFIXES)
        if not files:
            raise DataError(f"--data {source}: no {', '.join(TEXT_SUFFIXES)} files in the folder")
        texts = [_read(p) for p in files]
        return "\n\n".join(texts), f"{source} ({len(files)} files)"
    return _read(path), source


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as error:
        raise DataError(f"--data {path}: cannot read it ({error.strerror or error})") from None
    except UnicodeDecodeError as error:
        raise DataError(
            f"--data {path}: not UTF-8 text (byte {error.start}); convert it, e.g. "
            f"iconv -f latin1 -t utf-8"
        ) from None


def _tfds_text(name: str, data_dir: str | None) -> dict[str, str]:
    """The train/validation/test texts of a TFDS set with one 'text' feature per example."""
    datasets, _ = load_tfds(name, data_dir, ["train", "validation", "test"])
    splits = {}
    for split, dataset in zip(("train", "validation", "test"), datasets, strict=True):
        texts = [example["text"].numpy().decode("utf-8") for example in dataset]
        splits[split] = "\n\n".join(texts)
    return splits


def split_by_position(text: str, validation_fraction: float, test_fraction: float) -> dict:
    """Train, validation and test: consecutive stretches of ``text``, in that order.

    Cuts move forward to the next line break (when there is one near), so no split starts
    in the middle of a word.
    """
    for name, value in (
        ("validation_fraction", validation_fraction),
        ("test_fraction", test_fraction),
    ):
        if not 0 < value < 0.5:
            raise DataError(f"--set {name}={value}: expected a fraction between 0 and 0.5")
    total = len(text)
    first = _line_start(text, round(total * (1 - validation_fraction - test_fraction)))
    second = _line_start(text, round(total * (1 - test_fraction)))
    return {"train": text[:first], "validation": text[first:second], "test": text[second:]}


def _line_start(text: str, position: int) -> int:
    if position == 0 or text[position - 1] == "\n":
        return position
    newline = text.find("\n", position, position + 200)
    return position if newline < 0 else newline + 1


def tokenize(text: str, level: str) -> list[str]:
    """Characters, or words and punctuation (line breaks kept as tokens)."""
    return list(text) if level == "char" else _WORD_TOKENS.findall(text)


def detokenize(tokens: list[str], level: str) -> str:
    """The text of ``tokens``: characters joined, or words with spaces between."""
    if level == "char":
        return "".join(tokens)
    text = " ".join(tokens)
    text = re.sub(r" ?\n ?", "\n", text)
    return re.sub(r" ([,.;:!?')])", r"\1", text)


def check_length(splits: dict[str, list], needed: int, description: str, how: str) -> None:
    """Every split holds at least ``needed`` tokens, or one line says what to change."""
    for split, tokens in splits.items():
        if len(tokens) < needed:
            raise DataError(
                f"--data {description}: the {split} split has {len(tokens)} tokens, fewer "
                f"than the {needed} that {how} needs; use a longer text, or lower --batch-size "
                f"or --set bptt"
            )
