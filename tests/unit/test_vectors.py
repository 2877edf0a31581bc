"""Word vector files: both layouts read alike, and the embedding matrix takes their rows."""

import numpy as np
import pytest

from seqapps.data.vectors import embedding_matrix, read_vectors
from seqapps.exceptions import DataError


def test_glove_and_word2vec_layouts_read_alike(tmp_path):
    body = "the 0.1 0.2\nCat 1 2\ndog -1 -2\n"
    (tmp_path / "glove.txt").write_text(body, encoding="utf-8")
    (tmp_path / "w2v.vec").write_text("3 2\n" + body, encoding="utf-8")
    glove, w2v = read_vectors(tmp_path / "glove.txt"), read_vectors(tmp_path / "w2v.vec")
    assert glove.words == w2v.words == ["the", "Cat", "dog"]
    assert np.array_equal(glove.matrix, w2v.matrix) and glove.dimensions == 2


def test_the_matrix_takes_each_words_row_and_leaves_padding_at_zero(tmp_path):
    (tmp_path / "v.txt").write_text("the 0.1 0.2\nCat 1 2\ndog -1 -2\n", encoding="utf-8")
    vectors = read_vectors(tmp_path / "v.txt")
    matrix, found = embedding_matrix(["", "[UNK]", "dog", "cat", "emu"], vectors, seed=0)
    assert found == 2  # "cat" by its lowercase form; "emu" has no vector
    assert matrix[0].tolist() == [0.0, 0.0]
    assert matrix[2].tolist() == [-1.0, -2.0] and matrix[3].tolist() == [1.0, 2.0]
    assert matrix.shape == (5, 2) and matrix.dtype == np.float32


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a 1 2\nb x 3\n", "line 2 is not 'WORD NUMBER NUMBER ...'"),
        ("a 1 2\nb 3\n", "line 2 has 1 numbers, the first vector 2"),
        ("\n\n", "no vectors in the file"),
    ],
)
def test_a_malformed_file_names_the_line(tmp_path, text, message):
    (tmp_path / "bad.vec").write_text(text, encoding="utf-8")
    with pytest.raises(DataError, match=message):
        read_vectors(tmp_path / "bad.vec")


def test_a_missing_file_is_named(tmp_path):
    with pytest.raises(DataError, match=r"--set embeddings=.*nothere.vec: no such file"):
        read_vectors(tmp_path / "nothere.vec")
