"""Beam search against greedy decoding on a model whose probabilities are known, and the
BLEU of a sentence worked out by hand."""

import math

import numpy as np
import pytest

from seqapps_translate.decoding import decode, length_penalty
from seqapps_translate.pairs import detokenize, split_of, tokenize
from seqapps_translate.scores import corpus_scores

PAD, START, END, A, B = 0, 1, 2, 3, 4
IDS = {"start": START, "end": END, "pad": PAD}


class KnownModel:
    """Next-token probabilities that depend on the last prefix token only. Greedy takes A
    (0.6) and then can reach at most 0.6 * 0.35 = 0.21; "B </s>" has 0.4 * 0.9 = 0.36."""

    NEXT = {
        START: {A: 0.6, B: 0.4},
        A: {A: 0.35, B: 0.35, END: 0.3},
        B: {END: 0.9, A: 0.1},
    }

    def predict_on_batch(self, inputs):
        _, prefixes = inputs
        out = np.full((len(prefixes), prefixes.shape[1], 5), 1e-9)
        for row, prefix in enumerate(prefixes):
            for token, p in self.NEXT.get(int(prefix[-1]), {END: 1.0}).items():
                out[row, -1, token] = p
        return out


SOURCES = np.array([[5, 6], [7, 0]])


def test_beam_search_finds_the_likelier_translation_greedy_misses():
    greedy = decode(KnownModel(), SOURCES, IDS, beam=1, alpha=0.0)
    beam = decode(KnownModel(), SOURCES, IDS, beam=2, alpha=0.0)
    assert greedy[0][0].tokens[0] == A  # greedy commits to the likelier first token
    assert greedy[0][0].log_probability <= math.log(0.6 * 0.35)  # then A or B, never </s>
    assert beam[0][0].tokens == (B,)
    assert beam[0][0].log_probability == pytest.approx(math.log(0.36))
    assert beam[0][0].log_probability > greedy[0][0].log_probability
    assert len(beam[1]) == 2 and beam[1][0].score >= beam[1][1].score  # best first


def test_the_length_penalty_lets_longer_outputs_win():
    # Without a penalty "B </s>" (0.36) wins; divided by ((5+len)/6)**alpha with a large
    # alpha, the longer "A A ... </s>" hypotheses are favoured.
    short = decode(KnownModel(), SOURCES[:1], IDS, beam=3, alpha=0.0, max_length=6)[0][0]
    long = decode(KnownModel(), SOURCES[:1], IDS, beam=3, alpha=4.0, max_length=6)[0][0]
    assert len(long.tokens) > len(short.tokens)
    assert length_penalty(1, 0.6) == pytest.approx((6 / 6) ** 0.6)
    assert length_penalty(7, 0.6) == pytest.approx((12 / 6) ** 0.6)


def test_bleu_equals_the_value_worked_out_by_hand():
    # hypothesis "the cat sat on the mat", reference "the cat sat on a mat": clipped n-gram
    # precisions 5/6, 3/5, 2/4, 1/3; equal lengths, so no brevity penalty:
    # BLEU = (5/6 * 3/5 * 2/4 * 1/3) ** (1/4) = 0.537285
    scores = corpus_scores(["the cat sat on the mat"], ["the cat sat on a mat"])
    assert scores["bleu"] == pytest.approx(100 * (5 / 6 * 3 / 5 * 2 / 4 * 1 / 3) ** 0.25, abs=1e-4)
    assert scores["bleu"] == pytest.approx(53.7285, abs=1e-4)
    assert scores["exact_match"] == 0.0
    perfect = corpus_scores(["ninety-seven", "one"], ["ninety-seven", "one"])
    assert perfect["exact_match"] == 1.0 and perfect["chrf"] == pytest.approx(100.0)


def test_tokens_read_back_and_the_split_is_a_stable_hash():
    text = "ninety-nine thousand, nine hundred and one"
    assert detokenize(tokenize(text, "word"), "word") == text
    assert tokenize("elf", "char") == ["e", "l", "f"]
    splits = [split_of(f"zahl {n}", 0.1, 0.1) for n in range(2000)]
    assert splits == [split_of(f"zahl {n}", 0.1, 0.1) for n in range(2000)]
    assert 150 < splits.count("test") < 250 and 150 < splits.count("validation") < 250


class EndsSecond(KnownModel):
    """After the start, "A" is likeliest and the end token second: greedy must go on."""

    NEXT = {START: {A: 0.6, END: 0.4}, A: {END: 0.9, B: 0.1}}


def test_greedy_never_ends_on_a_token_it_did_not_choose():
    (best,) = decode(EndsSecond(), SOURCES[:1], IDS, beam=1, alpha=0.0)[0]
    assert best.tokens == (A,)  # not the empty output the end token (0.4) would give
    assert best.log_probability == pytest.approx(math.log(0.6 * 0.9))
