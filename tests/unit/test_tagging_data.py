"""CoNLL-U and token<TAB>tag readers, and vocabularies (no TensorFlow)."""

import pytest

from seqapps.data.tagging import UNKNOWN, Vocabulary, read_conllu, read_tagged, read_two_column
from seqapps.exceptions import DataError

CONLLU = """# sent_id = 1
# text = I can't go.
1\tI\tI\tPRON\tPRP\t_\t3\tnsubj\t_\t_
2-3\tcan't\t_\t_\t_\t_\t_\t_\t_\t_
2\tca\tcan\tAUX\tMD\t_\t4\taux\t_\t_
3\tn't\tnot\tPART\tRB\t_\t4\tadvmod\t_\t_
3.1\tgo\tgo\tVERB\tVB\t_\t_\t_\t0:root\t_
4\tgo\tgo\tVERB\tVB\t_\t0\troot\t_\t_
5\t.\t.\tPUNCT\t.\t_\t4\tpunct\t_\t_

1\tYes\tyes\tINTJ\tUH\t_\t0\troot\t_\t_
"""


def test_conllu_skips_comments_multiword_tokens_and_empty_nodes(tmp_path):
    path = tmp_path / "a.conllu"
    path.write_text(CONLLU)
    first, second = read_conllu(path)
    assert first.tokens == ["I", "ca", "n't", "go", "."]
    assert first.tags == ["PRON", "AUX", "PART", "VERB", "PUNCT"]
    assert second.tokens == ["Yes"]
    assert read_conllu(path, "xpos")[0].tags == ["PRP", "MD", "RB", "VB", "."]


def test_conllu_wrong_column_count_names_file_and_line(tmp_path):
    path = tmp_path / "bad.conllu"
    path.write_text("1\tI\tI\tPRON\tPRP\t_\t3\tnsubj\t_\t_\n2\tgo\tVERB\n")
    with pytest.raises(
        DataError, match=r"bad.conllu: line 2: expected 10 tab-separated CoNLL-U columns, found 3"
    ):
        read_conllu(path)


def test_conllu_tag_column_of_underscores_suggests_the_other(tmp_path):
    path = tmp_path / "nox.conllu"
    path.write_text("1\tI\tI\tPRON\t_\t_\t0\troot\t_\t_\n")
    with pytest.raises(DataError, match=r"the xpos column is empty .* try --set tag_column=upos"):
        read_conllu(path, "xpos")


def test_empty_files_are_reported(tmp_path):
    (tmp_path / "e.conllu").write_text("# only a comment\n\n")
    (tmp_path / "e.tsv").write_text("\n")
    with pytest.raises(DataError, match=r"e\.conllu: file is empty"):
        read_tagged(tmp_path / "e.conllu")
    with pytest.raises(DataError, match=r"e\.tsv: file is empty"):
        read_tagged(tmp_path / "e.tsv")


def test_two_column_file(tmp_path):
    path = tmp_path / "t.tsv"
    path.write_text("The\tDET\ndog\tNOUN\n\nRun\tVERB\n!\tPUNCT\n")
    sentences = read_two_column(path)
    assert [s.tokens for s in sentences] == [["The", "dog"], ["Run", "!"]]
    path.write_text("The\tDET\ndog NOUN\n")
    with pytest.raises(DataError, match=r"t.tsv: line 2: expected token<TAB>tag, found 1 column"):
        read_two_column(path)


def test_vocabulary_has_padding_and_unknown():
    vocabulary = Vocabulary.fit([["a", "b", "a"], ["c"]], min_count=2)
    assert vocabulary.items == ["<pad>", "<unk>", "a"]
    assert vocabulary.encode(["a", "b", "zzz"]) == [2, UNKNOWN, UNKNOWN]


def test_the_character_cnn_reads_word_boundaries_and_both_ends_of_a_long_word():
    from seqapps.tagging_task import WORD_END, WORD_START
    from seqapps_pos.task import PosTask

    task = PosTask()
    task.max_word_length, task.char_boundaries = 10, True
    assert task.spelled("dogs") == f"{WORD_START}dogs{WORD_END}"
    # 8 characters fit inside the marks: the first 4 and the last 4 (the suffix survives).
    assert task.spelled("internationalization") == f"{WORD_START}intetion{WORD_END}"
    # A model saved before the marks existed reads words as it was trained: the first 10.
    task.restore(
        {
            "classes": ["X"],
            "words": [],
            "chars": [],
            "lowercase": True,
            "char_features": True,
            "max_word_length": 10,
        }
    )
    assert task.char_boundaries is False
    assert task.spelled("internationalization") == "internatio"


def test_char_widths_are_positive_ints_named_in_one_line():
    from seqapps.exceptions import ConfigError
    from seqapps.tagging_task import _widths

    assert _widths("3,4,5") == [3, 4, 5] and _widths(3) == [3]
    for bad in ("3,x", "0", ""):
        with pytest.raises(ConfigError, match=f"--set char_widths={bad}: expected widths like"):
            _widths(bad)
