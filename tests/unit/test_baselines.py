"""The baselines every run is compared with: exact on tiny hand-made cases."""

from seqapps.baselines import majority, naive_bayes, verdict_line, words


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
