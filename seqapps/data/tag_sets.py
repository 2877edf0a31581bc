"""Tag sets that differ between splits: a tag map to merge or rename tags, and tags the
training split never shows, which are scored as errors instead of refused.

A corpus cut at random can leave a rare tag in validation only, depending on the seed; a
test file from another treebank may spell a tag differently (`''` for `"`). Neither should
stop a run: the map reconciles spellings, and what stays unseen is named, counted and
scored as wrong (the model cannot predict a tag it never learned).
"""

from __future__ import annotations

import warnings
from collections import Counter
from pathlib import Path

from seqapps.data.splits import counted
from seqapps.data.tagging import Sentence
from seqapps.exceptions import DataError, DataWarning


def read_tag_map(path_text: str) -> dict[str, str]:
    """OLD<TAB>NEW (or OLD NEW) per line; blank lines and # comments are skipped."""
    path = Path(path_text).expanduser()
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise DataError(f"--set tag_map={path_text}: cannot read ({error.strerror})") from None
    mapping = {}
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        fields = line.split("\t") if "\t" in line else line.split()
        fields = [f.strip() for f in fields]
        if len(fields) != 2 or not all(fields):
            raise DataError(
                f"--set tag_map={path_text}: line {number}: expected OLD<TAB>NEW, got {line!r}"
            )
        mapping[fields[0]] = fields[1]
    if not mapping:
        raise DataError(f"--set tag_map={path_text}: no OLD<TAB>NEW lines")
    return mapping


def map_tags(splits: dict[str, list[Sentence]], mapping: dict[str, str]):
    """Every split with its tags renamed by ``mapping`` (tags it does not name stay)."""
    return {
        split: [Sentence(s.tokens, [mapping.get(t, t) for t in s.tags]) for s in sentences]
        for split, sentences in splits.items()
    }


def warn_unseen_tags(
    splits: dict[str, list[Sentence]], origins: dict[str, str], noun: str = "tags"
) -> dict[str, Counter]:
    """Tags of the validation and test splits that training never shows, counted per split,
    with one DataWarning per split naming the file they came from. Those tokens are scored
    as errors."""
    known = {tag for sentence in splits["train"] for tag in sentence.tags}
    found = {}
    for split in ("validation", "test"):
        counts = Counter(t for s in splits.get(split, []) for t in s.tags if t not in known)
        if not counts:
            continue
        found[split] = counts
        total = sum(counts.values())
        scored = (
            "that token counts as an error"
            if total == 1
            else f"those {total} tokens count as errors"
        )
        warnings.warn(
            f"{origins[split]}: {noun} {counted(counts)} occur in the {split} split but never in "
            f"training; {scored} (merge spellings with --set tag_map=FILE)",
            DataWarning,
            stacklevel=2,
        )
    return found
