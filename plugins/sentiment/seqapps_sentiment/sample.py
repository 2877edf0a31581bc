"""The embedded sentiment data: generated reviews where word order and negation decide.

Every review is built from clauses such as "the plot was not very good". A review of two
clauses joined by "but" takes the polarity of the second clause; one joined by "even though"
takes the polarity of the first. Both orders use the same words, so a bag-of-words model
cannot tell them apart and scores near chance on them, while a recurrent model can learn
where the deciding clause is and whether "not" flips it.
"""

from __future__ import annotations

import random

SUBJECTS = [
    "the movie",
    "the film",
    "the plot",
    "the acting",
    "the story",
    "the soundtrack",
    "the cast",
    "the ending",
    "the dialogue",
    "the direction",
    "the script",
    "the pacing",
]
POSITIVE = [
    "good",
    "great",
    "excellent",
    "wonderful",
    "brilliant",
    "superb",
    "charming",
    "delightful",
    "moving",
    "funny",
    "clever",
    "gripping",
]
NEGATIVE = [
    "bad",
    "awful",
    "boring",
    "terrible",
    "dull",
    "weak",
    "clumsy",
    "tedious",
    "predictable",
    "bland",
    "messy",
    "forgettable",
]
VERBS = ["was", "is", "felt", "seemed"]
INTENSIFIERS = ["", "", "", "really", "very", "quite", "truly"]
LABELS = ("negative", "positive")

#: Fixed so the embedded data is identical for every run and every --seed.
DATA_SEED = 20240531


def _clause(rng: random.Random, positive: bool) -> str:
    negated = rng.random() < 0.4
    adjective_positive = positive != negated
    adjective = rng.choice(POSITIVE if adjective_positive else NEGATIVE)
    words = [rng.choice(SUBJECTS), rng.choice(VERBS)]
    if negated:
        words.append("not")
    intensifier = rng.choice(INTENSIFIERS)
    if intensifier:
        words.append(intensifier)
    words.append(adjective)
    return " ".join(words)


def _review(rng: random.Random) -> tuple[str, bool]:
    label = rng.random() < 0.5
    shape = rng.random()
    if shape < 0.3:
        return _clause(rng, label), label
    if shape < 0.55:
        return f"{_clause(rng, not label)} but {_clause(rng, label)}", label
    if shape < 0.8:
        return f"{_clause(rng, label)} even though {_clause(rng, not label)}", label
    return f"{_clause(rng, label)} and {_clause(rng, label)}", label


def generate(count: int) -> tuple[list[str], list[str]]:
    """``count`` reviews and their labels ("negative"/"positive"), always the same ones."""
    rng = random.Random(DATA_SEED)
    texts, labels = [], []
    for _ in range(count):
        text, positive = _review(rng)
        texts.append(text)
        labels.append(LABELS[int(positive)])
    return texts, labels
