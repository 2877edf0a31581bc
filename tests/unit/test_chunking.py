"""Truncated-BPTT arrangement: row j of batch k+1 continues row j of batch k."""

import numpy as np
import pytest

from seqapps.data.chunking import parallel_streams
from seqapps.exceptions import DataError


def test_each_row_continues_the_same_row_of_the_previous_batch():
    series = np.arange(26)
    chunks = parallel_streams(series, batch_size=3, chunk=4)
    # 26 steps -> 3 streams of 8 steps (2 chunks each); the last 2 steps are dropped.
    assert chunks.shape == (6, 4)
    batches = chunks.reshape(2, 3, 4)
    np.testing.assert_array_equal(batches[0], [[0, 1, 2, 3], [8, 9, 10, 11], [16, 17, 18, 19]])
    np.testing.assert_array_equal(batches[1], [[4, 5, 6, 7], [12, 13, 14, 15], [20, 21, 22, 23]])


def test_feature_dimensions_are_kept():
    series = np.arange(40).reshape(20, 2)
    chunks = parallel_streams(series, batch_size=2, chunk=5)
    assert chunks.shape == (4, 5, 2)
    np.testing.assert_array_equal(chunks[2, 0], series[5])  # batch 1, stream 0 starts at 5


def test_too_short_sequence_is_a_clear_error():
    with pytest.raises(DataError, match="too short for 4 streams of 10-step chunks"):
        parallel_streams(np.arange(30), batch_size=4, chunk=10)
