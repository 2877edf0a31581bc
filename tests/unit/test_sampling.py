"""The temperature sampler on fixed distributions: what temperature must do, measured."""

import numpy as np
import pytest

from seqapps.sampling import (
    sample_bernoulli,
    sample_categorical,
    tempered,
    tempered_bernoulli,
)

PROBABILITIES = np.array([0.5, 0.3, 0.15, 0.05])


def frequencies(temperature, draws=20_000, banned=()):
    rng = np.random.default_rng(0)
    picks = [sample_categorical(PROBABILITIES, temperature, rng, banned) for _ in range(draws)]
    return np.bincount(picks, minlength=len(PROBABILITIES)) / draws


def entropy(p):
    p = p[p > 0]
    return float(-(p * np.log(p)).sum())


def test_temperature_one_samples_the_model_distribution():
    np.testing.assert_allclose(frequencies(1.0), PROBABILITIES, atol=0.015)


def test_temperature_zero_is_argmax():
    assert set(np.flatnonzero(frequencies(0.0, draws=200))) == {0}


def test_lower_temperature_sharpens_and_higher_flattens():
    low, one, high = frequencies(0.5), frequencies(1.0), frequencies(2.0)
    assert low[0] > one[0] + 0.1 > high[0] + 0.2
    assert entropy(low) < entropy(one) < entropy(high) < np.log(4)
    # exact: p^(1/T) renormalized
    expected = PROBABILITIES**2 / (PROBABILITIES**2).sum()
    np.testing.assert_allclose(tempered(PROBABILITIES, 0.5), expected)
    np.testing.assert_allclose(low, expected, atol=0.015)
    np.testing.assert_allclose(tempered(PROBABILITIES, 1e6), np.full(4, 0.25), atol=1e-5)


def test_banned_choices_are_never_sampled_even_when_most_likely():
    assert frequencies(1.0, draws=2000, banned=[0])[0] == 0
    assert sample_categorical(PROBABILITIES, 0.0, np.random.default_rng(0), banned=[0]) == 1


@pytest.mark.parametrize("temperature", [0.5, 1.0, 2.0])
def test_bernoulli_keys_follow_their_tempered_probability(temperature):
    p = np.array([0.9, 0.5, 0.2, 0.01])
    rng = np.random.default_rng(1)
    rows = np.stack([sample_bernoulli(p, temperature, rng) for _ in range(20_000)])
    expected = tempered_bernoulli(p, temperature)
    np.testing.assert_allclose(rows.mean(axis=0), expected, atol=0.015)
    assert expected[1] == pytest.approx(0.5)  # a coin flip stays a coin flip
    if temperature < 1:
        assert expected[0] > 0.9 and expected[2] < 0.2
    if temperature > 1:
        assert expected[0] < 0.9 and expected[2] > 0.2


def test_bernoulli_at_temperature_zero_thresholds_at_one_half():
    row = sample_bernoulli(np.array([0.9, 0.51, 0.49, 0.1]), 0.0, np.random.default_rng(0))
    assert row.tolist() == [1, 1, 0, 0]


def test_top_k_keeps_only_the_k_likeliest_choices():
    rng = np.random.default_rng(0)
    picks = {sample_categorical(PROBABILITIES, 1.0, rng, top_k=2) for _ in range(2000)}
    assert picks == {0, 1}
    kept = tempered(PROBABILITIES, 1.0, top_k=2)
    np.testing.assert_allclose(kept, [0.5 / 0.8, 0.3 / 0.8, 0.0, 0.0])
    # the k are the likeliest choices that are allowed
    np.testing.assert_allclose(
        tempered(PROBABILITIES, 1.0, banned=[0], top_k=2), [0, 0.3 / 0.45, 0.15 / 0.45, 0]
    )
