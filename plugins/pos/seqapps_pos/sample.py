"""The embedded tagging data: generated sentences where context, on both sides, decides.

Ambiguous words ("book", "watch", "park", ...) are nouns after a determiner and verbs
after a pronoun; at the start of a sentence only the next word tells ("book the room" is a
verb, "book sales rise" a noun), so a left-to-right tagger must guess there while a
bidirectional one can look ahead. Made-up words with real suffixes ("-tion" nouns, "-ous"
adjectives, "-izes" verbs, "-ly" adverbs) stand where context alone cannot decide; the test
split uses made-up words never seen in training, so accuracy on unknown words measures
what character features add.
"""

from __future__ import annotations

import random

from seqapps.api import Sentence

DATA_SEED = 4242
DETERMINERS = ["the", "a", "this", "every"]
ADJECTIVES = ["old", "small", "happy", "green", "quiet", "bright", "tall", "cold"]
NOUNS = ["man", "dog", "teacher", "city", "river", "house", "girl", "car", "table", "garden"]
MASS_NOUNS = ["music", "water", "bread", "news", "money"]
VERBS_3SG = ["sees", "likes", "finds", "takes", "opens", "builds", "needs", "wants"]
VERBS_BASE = ["see", "like", "find", "take", "open", "build", "need", "want"]
PRONOUNS = ["they", "we", "you", "I"]
ADVERBS = ["quickly", "slowly", "often", "today", "rarely"]
PREPOSITIONS = ["in", "near", "with", "under"]
AMBIGUOUS = ["book", "watch", "park", "fish", "train", "plant", "ring", "light", "play", "visit"]
SUFFIXES = {
    "NOUN": ["tion", "ness", "ment"],
    "ADJ": ["ous", "ful", "ive"],
    "VERB": ["izes", "ates"],
    "ADV": ["ly"],
}
SYLLABLES = ["bra", "flo", "mi", "zen", "kor", "tal", "vu", "pim", "sna", "dro", "gle", "quo"]


def _made_up_words(rng: random.Random, count: int) -> dict[str, list[str]]:
    words: dict[str, list[str]] = {tag: [] for tag in SUFFIXES}
    seen = set()
    while sum(len(v) for v in words.values()) < count:
        stem = "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 3)))
        tag = rng.choice(list(SUFFIXES))
        word = stem + rng.choice(SUFFIXES[tag])
        if word not in seen:
            seen.add(word)
            words[tag].append(word)
    return words


class _Writer:
    def __init__(self, rng: random.Random, made_up: dict[str, list[str]]):
        self.rng, self.made_up = rng, made_up
        self.tokens: list[str] = []
        self.tags: list[str] = []

    def add(self, word: str, tag: str) -> None:
        self.tokens.append(word)
        self.tags.append(tag)

    def pick(self, tag: str, real: list[str], made_up_share: float = 0.2) -> None:
        pool = self.made_up.get(tag) if tag in self.made_up else None
        if pool and self.rng.random() < made_up_share:
            self.add(self.rng.choice(pool), tag)
        else:
            self.add(self.rng.choice(real), tag)

    def noun_phrase(self) -> None:
        self.add(self.rng.choice(DETERMINERS), "DET")
        for _ in range(self.rng.choice([0, 0, 1, 2])):
            self.pick("ADJ", ADJECTIVES)
        self.pick("NOUN", NOUNS)

    def clause(self) -> None:
        rng = self.rng
        shape = rng.random()
        if shape < 0.2:  # the (adj) AMB sees the car: a noun after a determiner
            self.add(rng.choice(DETERMINERS), "DET")
            self.add(rng.choice(AMBIGUOUS), "NOUN")
            self.pick("VERB", VERBS_3SG)
            self.noun_phrase()
        elif shape < 0.4:  # they AMB the car: a verb after a pronoun
            self.add(rng.choice(PRONOUNS), "PRON")
            self.add(rng.choice(AMBIGUOUS), "VERB")
            self.noun_phrase()
        elif shape < 0.6 and not self.tokens:  # sentence-initial: only the next word decides
            if rng.random() < 0.5:
                self.add(rng.choice(AMBIGUOUS), "VERB")  # book the room
                self.noun_phrase()
            else:
                self.add(rng.choice(AMBIGUOUS), "NOUN")  # book prices like ...
                self.add(rng.choice(NOUNS) + "s", "NOUN")
                self.add(rng.choice(VERBS_BASE), "VERB")
                self.noun_phrase()
        elif shape < 0.8:  # the man likes X: an adverb or a mass noun, only the word tells
            self.noun_phrase()
            self.pick("VERB", VERBS_3SG)
            if rng.random() < 0.5:
                self.pick("ADV", ADVERBS, 0.5)
            else:
                self.pick("NOUN", MASS_NOUNS, 0.5)
        else:
            self.noun_phrase()
            self.pick("VERB", VERBS_3SG)
            self.noun_phrase()
        if rng.random() < 0.3:
            self.add(rng.choice(PREPOSITIONS), "ADP")
            self.noun_phrase()

    def sentence(self, long: bool) -> Sentence:
        self.clause()
        extra = self.rng.randint(6, 10) if long else int(self.rng.random() < 0.3)
        for _ in range(extra):
            self.add(self.rng.choice(["and", "but"]), "CCONJ")
            self.clause()
        self.add(".", "PUNCT")
        return Sentence(self.tokens, self.tags)


def generate(counts: dict[str, int]) -> dict[str, list[Sentence]]:
    """Sentences per split (e.g. {"train": 1600, ...}); the same ones on every call.

    Made-up words in the test split never occur in training or validation; about one
    sentence in 25 is long (60+ tokens), to check nothing is cut.
    """
    rng = random.Random(DATA_SEED)
    seen_words, unseen_words = _made_up_words(rng, 80), _made_up_words(rng, 40)
    splits = {}
    for split, count in counts.items():
        made_up = unseen_words if split == "test" else seen_words
        splits[split] = [
            _Writer(rng, made_up).sentence(long=rng.random() < 0.04) for _ in range(count)
        ]
    return splits
