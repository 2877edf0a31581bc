"""The Kneser-Ney baseline against probabilities worked out by hand, and as a distribution."""

import math

import numpy as np
import pytest

from seqapps_textgen.kneser_ney import KneserNey

A, B, C = 2, 3, 4  # ids 0 and 1 are padding and unknown, as in the task's vocabulary
TEXT = [A, B, A, B, A, C]


def test_bigram_probabilities_equal_the_hand_computed_ones():
    # Bigram counts: a->b 2, b->a 2, a->c 1: one count of 1 and two of 2, so D2 = 1/(1+2*2)
    # = 0.2. Continuation counts: b, a, c each follow one distinct symbol (3 in all); with no
    # count of 2, D1 = 0.5. Lower order: p1(w) = max(N(w) - 0.5, 0)/3 + 0.5 * 3/3 * 1/5,
    # 0.26667 for a, b, c and 0.1 for the padding and unknown ids.
    model = KneserNey(TEXT, order=2, vocabulary_size=5)
    assert model.discounts == [pytest.approx(0.5), pytest.approx(0.2)]
    p1 = 0.5 / 3 + 0.1
    assert model.probability([], A) == pytest.approx(p1)
    assert model.probability([A], B) == pytest.approx(1.8 / 3 + 0.2 * 2 / 3 * p1)  # 0.63556
    assert model.probability([A], C) == pytest.approx(0.8 / 3 + 0.2 * 2 / 3 * p1)  # 0.30222
    assert model.probability([A], A) == pytest.approx(0.2 * 2 / 3 * p1)  # 0.03556
    assert model.probability([A], 0) == pytest.approx(0.2 * 2 / 3 * 0.1)  # 0.01333
    assert model.probability([B], A) == pytest.approx(1.8 / 2 + 0.2 * 1 / 2 * p1)  # 0.92667
    assert model.probability([C], A) == pytest.approx(p1)  # c never precedes anything


def test_bits_sum_the_log_probabilities_of_every_token_after_the_first():
    model = KneserNey(TEXT, order=2, vocabulary_size=5)
    bits, count = model.bits([A, B, A])
    assert count == 2
    assert bits == pytest.approx(-math.log2(model.probability([A], B) * model.probability([B], A)))


@pytest.mark.parametrize("order", [1, 3, 5])
def test_every_history_gives_a_distribution(order):
    rng = np.random.default_rng(0)
    text = rng.integers(2, 9, size=400).tolist()
    model = KneserNey(text, order, vocabulary_size=9)
    for history in ([], text[10:14], [8, 8, 8, 8], [0, 1, 0, 1]):
        total = sum(model.probability(history, symbol) for symbol in range(9))
        assert total == pytest.approx(1.0)
    assert all(model.probability(text[:4], s) > 0 for s in range(9))  # nothing impossible


def test_higher_orders_predict_a_repetitive_text_better():
    text = [A, B, C] * 50
    unigram = KneserNey(text, 1, 5).bits([A, B, C, A, B, C])[0]
    trigram = KneserNey(text, 3, 5).bits([A, B, C, A, B, C])[0]
    assert trigram < unigram / 5


def test_token_bits_are_each_tokens_bits_and_the_intervals_pair_them_block_by_block():
    from seqapps_textgen import scoring

    tokens = [0, 1, 2, 1, 0, 2, 2, 1] * 300
    model = KneserNey(tokens, 2, 3)
    each = model.token_bits(tokens)
    assert each.sum() == pytest.approx(model.bits(tokens)[0])
    assert each[0] == pytest.approx(-math.log2(model.probability([tokens[0]], tokens[1])))
    # A model exactly 0.1 bits better on every token: the gain's interval is that point.
    baselines = {2: {"test_per_token": each, "validation": 1.0}}
    found = scoring.intervals({"per_token": each - 0.1}, baselines, "char", seed=0)
    assert found["interval_blocks"] == 3  # 2,399 tokens in blocks of 1,000
    assert found["gain_over_ngram_bits_per_char"] == pytest.approx(0.1)
    assert found["gain_over_ngram_bits_per_char_ci_low"] == pytest.approx(0.1)
    assert found["gain_over_ngram_bits_per_char_ci_high"] == pytest.approx(0.1)
    # Better on the first block only: the point estimate is the average, the interval wide.
    uneven = each.copy()
    uneven[:1000] -= 0.9
    found = scoring.intervals({"per_token": uneven}, baselines, "char", seed=0)
    assert found["gain_over_ngram_bits_per_char"] == pytest.approx(900 / 2399)
    assert (
        found["gain_over_ngram_bits_per_char_ci_low"]
        < 0.2
        < 0.5
        < (found["gain_over_ngram_bits_per_char_ci_high"])
    )
    low, high = found["bits_per_char_ci_low"], found["bits_per_char_ci_high"]
    assert low < uneven.mean() < high
