"""The baselines every run is compared with: exact on tiny hand-made cases."""

import numpy as np
import pytest

from seqapps.baselines import majority, naive_bayes, softmax_regression, verdict_line, words


def test_naive_bayes_matches_a_hand_count():
    train = ["good good fun", "bad dull"]
    # class 1 counts: good 2+1, fun 1+1, bad 0+1, dull 0+1 over 3+4 words -> P(good|1) = 3/7
    # class 0 counts: bad 1+1, dull 1+1, good 0+1, fun 0+1 over 2+4 -> P(good|0) = 1/6
    predicted = naive_bayes(train, [1, 0], ["good", "dull dull", "good bad", "nothing known"], 2)
    assert predicted.tolist()[:2] == [1, 0]
    # "good bad": class 1 gets 3/7 * 1/7, class 0 gets 1/6 * 2/6; equal priors
    assert (3 / 7) * (1 / 7) > (1 / 6) * (2 / 6) and predicted[2] == 1
    assert predicted[3] == 0  # no known word, equal priors: the first class
    assert words("Don't STOP, it's 2 good!") == ["don't", "stop", "it's", "2", "good"]


def test_majority_and_the_verdict_say_who_wins():
    assert majority([0, 2, 2, 1], 3).tolist() == [2, 2, 2]
    scores = {"majority": 0.5, "bag-of-words naive Bayes": 0.8}
    assert verdict_line("accuracy", 0.7, scores, "max").endswith(
        "the model (0.7000) does NOT beat bag-of-words naive Bayes"
    )
    assert verdict_line("accuracy", 0.9, scores, "max").endswith("beats them all")
    assert verdict_line("rmse", 1.0, {"persistence": 1.1}, "min").endswith("beats it")


def test_frame_statistics_see_sound_but_not_its_order():
    from seqapps_speech.baseline import frame_statistics, word_baselines

    rng = np.random.default_rng(0)
    ramp = np.linspace(-1, 1, 20)[:, None]

    def clips(labels, louder):
        # "up" rises, "down" falls: same frames, other order; "loud" has a higher level.
        shapes = {"up": ramp, "down": ramp[::-1], "loud": ramp + louder}
        return np.stack([shapes[w] + 0.05 * rng.normal(size=(20, 1)) for w in labels])

    train = ["up", "down", "loud"] * 20
    test = ["up", "down", "loud"] * 10
    batches = [np.array_split(clips(words_, 3.0), 4) for words_ in (train, test)]
    stats = [frame_statistics(b) for b in batches]
    assert stats[0].shape == (60, 2)
    assert stats[0][0, 0] == pytest.approx(0, abs=0.05)  # mean of the ramp
    assert stats[0][0, 1] == pytest.approx(ramp.std(), abs=0.05)
    scores = word_baselines(stats[0], train, stats[1], test, ["down", "loud", "up"])
    # "loud" is always right; "up" and "down" cannot be told apart without order.
    guess_rate = scores["frame_statistics"]
    assert 1 / 3 <= guess_rate <= 2 / 3 + 0.1, scores
    assert scores["majority"] == pytest.approx(1 / 3)


def test_softmax_regression_separates_shifted_clusters():
    rng = np.random.default_rng(0)
    centres = np.array([[0.0, 0.0], [4.0, 0.0], [0.0, 4.0]]) + 100  # far from the origin
    train_y, test_y = rng.integers(0, 3, 150), rng.integers(0, 3, 60)
    train = centres[train_y] + rng.normal(size=(150, 2))
    test = centres[test_y] + rng.normal(size=(60, 2))
    guess = softmax_regression(train, train_y, test, 3)
    assert (guess == test_y).mean() >= 0.9
    # Deterministic: the same fit twice gives the same answers.
    assert (softmax_regression(train, train_y, test, 3) == guess).all()
