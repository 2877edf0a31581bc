"""Reading, splitting by position and tokenizing the text of a language model."""

import pytest

from seqapps.api import DataError
from seqapps_textgen import corpus


def test_splits_are_consecutive_stretches_cut_at_line_starts():
    text = "".join(f"line {i:03d} of the text\n" for i in range(200))
    splits = corpus.split_by_position(text, 0.1, 0.1)
    assert "".join(splits[s] for s in ("train", "validation", "test")) == text  # in order
    assert all(splits[s].startswith("line ") for s in ("validation", "test"))
    assert splits["validation"].startswith("line 160")  # 80% of 200 lines
    assert splits["test"].startswith("line 180")


def test_fractions_out_of_range_are_named():
    with pytest.raises(DataError, match=r"--set test_fraction=0\.7: expected a fraction"):
        corpus.split_by_position("some text\n" * 10, 0.1, 0.7)


def test_word_tokens_keep_punctuation_and_line_breaks_and_read_back():
    tokens = corpus.tokenize("ROMEO:\nI'll go, then.", "word")
    assert tokens == ["ROMEO", ":", "\n", "I'll", "go", ",", "then", "."]
    assert corpus.detokenize(tokens, "word") == "ROMEO:\nI'll go, then."
    assert corpus.tokenize("ab\n", "char") == ["a", "b", "\n"]


def test_a_folder_is_read_in_name_order_and_the_sample_is_embedded(tmp_path):
    (tmp_path / "b.txt").write_text("second\n", encoding="utf-8")
    (tmp_path / "a.txt").write_text("first\n", encoding="utf-8")
    (tmp_path / "notes.csv").write_text("ignored\n", encoding="utf-8")
    text, description = corpus.read_source(str(tmp_path), None)
    assert text == "first\n\n\nsecond\n" and "2 files" in description
    sample, _ = corpus.read_source("sample", None)
    assert sample.startswith("First Citizen:") and len(sample) > 1_000_000


def test_text_that_is_not_utf8_is_one_clear_error(tmp_path):
    path = tmp_path / "latin.txt"
    path.write_bytes("caf\xe9 au lait".encode("latin-1"))
    with pytest.raises(DataError, match=r"latin\.txt: not UTF-8 text \(byte 3\)"):
        corpus.read_source(str(path), None)
