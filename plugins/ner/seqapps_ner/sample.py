"""The embedded NER data: news-like sentences where the context names an entity's type.

Names are made-up capitalized words (PER, ORG, LOC; one or two tokens). What type a name is
shows only in its context: before it ("shares of X", "flights to X") or, in about half of the
sentences, only after it ("X said ...", "X reported earnings", "X lies on the river"). A
left-to-right tagger must guess the type of a name that opens a sentence; a bidirectional one
reads on. The test split uses names never seen in training or validation, so finding them
takes character features (capitals) and context, not memory.
"""

from __future__ import annotations

import random

from seqapps.api import Sentence

DATA_SEED = 2003
TYPES = ("PER", "ORG", "LOC")
SYLLABLES = ["ka", "lor", "ven", "mi", "dra", "zo", "tel", "bru", "an", "sel", "qui", "rof"]
#: Second words that belong to a name, by type (known words: they do not give the type away
#: before the first word of the name is tagged).
SECOND_WORDS = {"ORG": ["Group", "Holdings", "Labs"], "LOC": ["Bay", "Falls", "Valley"]}
#: Templates: {E} is the entity; the cue comes before it or only after it.
BEFORE = {
    "PER": [
        "an interview with {E} .",
        "according to {E} , the plan failed .",
        "we met {E} today .",
    ],
    "ORG": ["shares of {E} rose .", "analysts at {E} expect growth .", "a deal with {E} ended ."],
    "LOC": [
        "flights to {E} were cancelled .",
        "the summit was held in {E} .",
        "rain fell on {E} .",
    ],
}
AFTER = {
    "PER": ["{E} said the vote was close .", "{E} told reporters nothing .", "{E} smiled ."],
    "ORG": ["{E} reported quarterly earnings .", "{E} hired new staff .", "{E} shares fell ."],
    "LOC": ["{E} lies on the river .", "{E} hosted the summit .", "{E} flooded again ."],
}
JOINERS = ["and", "while", "but"]


def _names(rng: random.Random, count: int, taken: set[str]) -> dict[str, list[str]]:
    names: dict[str, list[str]] = {kind: [] for kind in TYPES}
    for kind in TYPES:
        while len(names[kind]) < count:
            word = "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 3))).capitalize()
            if word not in taken:
                taken.add(word)
                names[kind].append(word)
    return names


def _entity(rng: random.Random, kind: str, names: dict[str, list[str]]) -> list[tuple[str, str]]:
    tokens = [rng.choice(names[kind])]
    if kind == "PER" and rng.random() < 0.5:
        tokens.append(rng.choice(names[kind]))
    elif kind in SECOND_WORDS and rng.random() < 0.4:
        tokens.append(rng.choice(SECOND_WORDS[kind]))
    return [(token, ("B-" if i == 0 else "I-") + kind) for i, token in enumerate(tokens)]


def _clause(rng: random.Random, names: dict[str, list[str]]) -> list[tuple[str, str]]:
    kind = rng.choice(TYPES)
    template = rng.choice((BEFORE if rng.random() < 0.5 else AFTER)[kind])
    words: list[tuple[str, str]] = []
    for word in template.rstrip(" .").split():
        words += _entity(rng, kind, names) if word == "{E}" else [(word, "O")]
    return words


def _sentence(rng: random.Random, names: dict[str, list[str]]) -> Sentence:
    words = _clause(rng, names)
    if rng.random() < 0.35:
        words += [(rng.choice(JOINERS), "O"), *_clause(rng, names)]
    words.append((".", "O"))
    if words[0][1] == "O":  # sentences start with a capital, entity or not
        words[0] = (words[0][0].capitalize(), "O")
    return Sentence([w for w, _ in words], [t for _, t in words])


def generate(counts: dict[str, int]) -> dict[str, list[Sentence]]:
    """Sentences per split (e.g. {"train": 1600, ...}); the same ones on every call.

    The validation and test splits each have their own names, never seen in training (nor
    in the other split): the best epoch is then the one that finds new names best, not the
    first to recognize the training names (validation F1 saturates at once on those).
    """
    rng = random.Random(DATA_SEED)
    taken: set[str] = set()
    seen, unseen = _names(rng, 60, taken), _names(rng, 30, taken)
    held = {"test": unseen, "validation": _names(rng, 30, taken)}
    return {
        split: [_sentence(rng, held.get(split, seen)) for _ in range(count)]
        for split, count in counts.items()
    }
