"""TokenWindow and chunk pooling: which tokens of a long text a model reads, exactly."""

import numpy as np
import pytest

ROWS = np.array([[5, 6, 7, 8, 9, 10, 11, 0], [5, 6, 0, 0, 0, 0, 0, 0], [1, 2, 3, 4, 5, 0, 0, 0]])


@pytest.mark.parametrize(
    ("mode", "first_row"),
    [("head", [5, 6, 7, 8, 9]), ("tail", [7, 8, 9, 10, 11]), ("head+tail", [5, 6, 7, 10, 11])],
)
def test_each_mode_keeps_its_part_and_short_texts_whole(mode, first_row):
    from seqapps.layers.long_texts import TokenWindow

    kept = np.asarray(TokenWindow(5, mode)(ROWS)).tolist()
    # The 7-token text is cut; the 2- and 5-token texts are kept whole, padded on the right.
    assert kept == [first_row, [5, 6, 0, 0, 0], [1, 2, 3, 4, 5]]


def test_chunks_cut_the_head_into_rows_and_pooling_skips_empty_chunks():
    from seqapps.layers.long_texts import PoolChunks, TokenWindow

    chunks = np.asarray(TokenWindow(6, "chunks", 3)(ROWS))
    assert chunks.tolist()[1] == [[5, 6, 0], [0, 0, 0]]
    encoded = np.array([[1.0, 4.0], [3.0, 2.0], [2.0, 2.0], [9.0, 9.0], [0.0, 1.0], [2.0, 5.0]])
    pooled = np.asarray(PoolChunks(2)(encoded, chunks))
    # Text 0: mean and max of both chunks; text 1: its second chunk is empty and left out.
    assert pooled.tolist() == [[2.0, 3.0, 3.0, 4.0], [2.0, 2.0, 2.0, 2.0], [1.0, 3.0, 2.0, 5.0]]


def test_a_wide_batch_and_a_narrow_one_read_a_text_alike():
    from seqapps.layers.long_texts import TokenWindow

    # Serving vectorizes a batch to its longest text: padding must not move the window.
    narrow = np.asarray(TokenWindow(4, "tail")(ROWS[1:2, :2]))
    wide = np.asarray(TokenWindow(4, "tail")(ROWS[1:2]))
    assert narrow.tolist() == wide.tolist() == [[5, 6, 0, 0]]
