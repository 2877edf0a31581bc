"""CTC decoding and error rates: greedy best path, edit distance, CER and WER."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

BLANK = 0


def greedy_decode(logits: np.ndarray) -> list[int]:
    """Best path of one utterance's (frames, classes) scores: repeats merged, blanks dropped."""
    best = np.asarray(logits).argmax(axis=-1)
    merged = [int(k) for i, k in enumerate(best) if i == 0 or k != best[i - 1]]
    return [k for k in merged if k != BLANK]


def edit_distance(reference: Sequence, hypothesis: Sequence) -> int:
    """Levenshtein distance: substitutions, insertions and deletions turning one into the other."""
    previous = list(range(len(hypothesis) + 1))
    for i, ref in enumerate(reference, 1):
        current = [i]
        for j, hyp in enumerate(hypothesis, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ref != hyp)))
        previous = current
    return previous[-1]


def error_rate(references: list[str], hypotheses: list[str], unit: str) -> float:
    """Total edits over total reference length, by "char" (CER) or "word" (WER)."""
    split = list if unit == "char" else str.split
    edits = sum(edit_distance(split(r), split(h)) for r, h in zip(references, hypotheses))
    total = sum(len(split(r)) for r in references)
    return edits / max(total, 1)
