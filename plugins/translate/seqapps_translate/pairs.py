"""Sentence pairs: the embedded number-words sample, TSV files, TFDS translation sets; tokens.

The sample translates numbers written out in German into English ones, made offline with
num2words. German puts units before tens ("siebenundneunzig", seven-and-ninety) and writes
a number as one word, English the other way round ("ninety-seven"), so a model must reorder
and cannot copy: the task attention exists for. Numbers are assigned to train, validation
or test by a hash, so every test number is one training never shows.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import numpy as np

from seqapps.api import DataError, load_tfds, parse_source

LEVELS = ("word", "char")
_WORDS = re.compile(r"\w+|[^\w\s]")
#: Numbers of the sample: every one below 1,000, and as many drawn from 1,000..99,999.
SAMPLE_SMALL, SAMPLE_DRAWN, SAMPLE_HIGHEST = 1000, 5000, 999_999


def sample_pairs(seed: int = 0) -> list[tuple[str, str]]:
    """(German, English) number words for the embedded sample, in a fixed order."""
    from num2words import num2words

    rng = np.random.default_rng(seed)
    large = rng.choice(np.arange(SAMPLE_SMALL, SAMPLE_HIGHEST + 1), SAMPLE_DRAWN, replace=False)
    numbers = [*range(1, SAMPLE_SMALL), *sorted(int(n) for n in large)]
    return [(num2words(n, lang="de"), num2words(n, lang="en")) for n in numbers]


def split_of(source: str, validation_fraction: float, test_fraction: float) -> str:
    """train, validation or test, by a hash of the source sentence (stable across runs)."""
    digest = hashlib.blake2b(source.encode("utf-8"), digest_size=8).digest()
    where = int.from_bytes(digest, "big") / 2**64
    if where < test_fraction:
        return "test"
    return "validation" if where < test_fraction + validation_fraction else "train"


def read_tsv(path: Path) -> list[tuple[str, str]]:
    """Pairs from ``source TAB target`` lines (further columns, as in Anki/Tatoeba exports,
    are ignored); every line must have both."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as error:
        raise DataError(f"--data {path}: cannot read it ({error.strerror or error})") from None
    except UnicodeDecodeError as error:
        raise DataError(f"--data {path}: not UTF-8 text (byte {error.start})") from None
    pairs = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        columns = line.split("\t")
        if len(columns) < 2 or not columns[0].strip() or not columns[1].strip():
            raise DataError(
                f"--data {path}: line {number} is not 'source<TAB>target' ({line[:60]!r})"
            )
        pairs.append((columns[0].strip(), columns[1].strip()))
    if not pairs:
        raise DataError(f"--data {path}: no sentence pairs")
    return pairs


def read_source(source: str, data_dir: str | None):
    """(pairs or {split: pairs}, description): the sample, a TSV file or a TFDS set."""
    if source == "sample":
        return sample_pairs(), "sample (numbers in German words -> English words, num2words)"
    parsed = parse_source(source)
    if parsed.kind == "tfds":
        return _tfds_pairs(parsed.value, data_dir), f"tfds:{parsed.value}"
    return read_tsv(Path(source)), source


def _tfds_pairs(name: str, data_dir: str | None) -> dict[str, list[tuple[str, str]]]:
    """A TFDS translation set's splits, source and target from its supervised keys."""
    datasets, info = load_tfds(name, data_dir, ["train", "validation", "test"])
    keys = info.supervised_keys
    if not keys or len(keys) != 2:
        raise DataError(f"--data tfds:{name}: not a translation set (no source/target keys)")
    found = {}
    for split, dataset in zip(("train", "validation", "test"), datasets, strict=True):
        found[split] = [
            (example[keys[0]].numpy().decode("utf-8"), example[keys[1]].numpy().decode("utf-8"))
            for example in dataset
        ]
    return found


def tokenize(text: str, level: str) -> list[str]:
    """Words and punctuation marks, or characters."""
    return list(text) if level == "char" else _WORDS.findall(text)


def detokenize(tokens: list[str], level: str) -> str:
    """The text of ``tokens``: characters joined, words with spaces (none around - or
    before , . ! ? ; :)."""
    if level == "char":
        return "".join(tokens)
    text = " ".join(tokens)
    text = re.sub(r" ?- ?", "-", text)
    return re.sub(r" ([,.!?;:])", r"\1", text)
