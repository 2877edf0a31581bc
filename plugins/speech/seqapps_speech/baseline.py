"""The speech task's baselines: what a model without any sense of time order gets.

Each clip becomes the mean and standard deviation of every feature channel over its frames
(the "bag of frames"), and a logistic regression on those vectors names the word. A recurrent
model that does not beat it has not used the order of the sounds.
"""

from __future__ import annotations

from collections import Counter

import numpy as np

from seqapps.api import majority, softmax_regression


def frame_statistics(feature_batches) -> np.ndarray:
    """(clips, 2 * channels) from batches of (clips, frames, channels) arrays: each channel's
    mean and standard deviation over the frames."""
    rows = [
        np.concatenate([batch.mean(axis=1), batch.std(axis=1)], axis=1) for batch in feature_batches
    ]
    return np.concatenate(rows).astype(np.float64)


def word_baselines(train_stats, train_labels, test_stats, test_labels, classes) -> dict:
    """Test accuracy of the majority word and of a logistic regression on frame statistics."""
    index = {word: i for i, word in enumerate(classes)}
    train_y = np.array([index[w] for w in train_labels])
    truth = np.array([index.get(w, -1) for w in test_labels])  # unseen words count as errors
    guess = softmax_regression(train_stats, train_y, test_stats, len(classes))
    return {
        "majority": float((majority(train_y, len(truth)) == truth).mean()),
        "frame_statistics": float((guess == truth).mean()),
    }


def most_frequent_transcript(train_transcripts: list[str]) -> str:
    """The transcript said most often in training (CTC's baseline answer to every clip)."""
    return Counter(train_transcripts).most_common(1)[0][0]
