"""NER scoring by whole entities, on a fixed CoNLL-2003 file, against values worked out by hand."""

import pytest

from seqapps.data.tagging import detect_format, read_tagged
from seqapps.exceptions import DataError
from seqapps_ner.task import NerTask, entities, entity_scores

GOLD = """-DOCSTART- -X- -X- O

Kelmar NNP B-NP B-ORG
Group NNP I-NP I-ORG
hired VBD B-VP O
Ana NNP B-NP B-PER
Bru NNP I-NP I-PER
. . O O

Rain NN B-NP O
fell VBD B-VP O
on IN B-PP O
Vrala NNP B-NP B-LOC
Bay NNP I-NP I-LOC
and CC O O
Lor NNP B-NP B-LOC
. . O O
"""
# Predicted: ORG right; PER cut short (wrong span); first LOC right; second LOC typed PER.
GUESS = [
    ["B-ORG", "I-ORG", "O", "B-PER", "O", "O"],
    ["O", "O", "O", "B-LOC", "I-LOC", "O", "B-PER", "O"],
]


def test_entity_f1_equals_the_hand_computed_value(tmp_path):
    path = tmp_path / "eng.testb"
    path.write_text(GOLD)
    assert detect_format(path) == "conll2003"
    sentences = read_tagged(path, "ner")  # -DOCSTART- is no sentence
    assert [len(s.tokens) for s in sentences] == [6, 8]
    scores = entity_scores([s.tags for s in sentences], GUESS)
    # gold: ORG, PER, LOC, LOC (4); predicted: ORG, PER, LOC, PER (4); right: ORG, LOC (2)
    assert scores["entity_precision"] == pytest.approx(2 / 4)
    assert scores["entity_recall"] == pytest.approx(2 / 4)
    assert scores["entity_f1"] == pytest.approx(0.5)
    # per type: ORG 1/1; LOC p=1/1 r=1/2 -> 2/3; PER p=0/2 r=0/1 -> 0
    assert scores["f1_ORG"] == pytest.approx(1.0)
    assert scores["f1_LOC"] == pytest.approx(2 / 3)
    assert scores["f1_PER"] == 0.0
    report = NerTask().score(sentences, GUESS, known=set())
    assert report.metrics["entity_f1"] == pytest.approx(0.5)
    assert report.metrics["token_accuracy"] == pytest.approx(12 / 14)
    assert "LOC,0.6667,2" in report.texts["per_type.csv"]


def test_bioes_tags_are_scored_strictly():
    gold = [["S-PER", "O", "B-ORG", "E-ORG"]]
    assert entity_scores(gold, [["S-PER", "O", "B-ORG", "E-ORG"]])["entity_f1"] == 1.0
    # An entity that never ends (B- without E-) is no entity under BIOES: p 1/1, r 1/2.
    assert entity_scores(gold, [["S-PER", "O", "B-ORG", "I-ORG"]])["entity_f1"] == pytest.approx(
        2 / 3
    )


def test_entities_of_a_tagged_sentence():
    tokens = ["Shares", "of", "Kelmar", "Group", "rose", "in", "Vrala", "Bay", "."]
    tags = ["O", "O", "B-ORG", "I-ORG", "O", "O", "B-LOC", "I-LOC", "O"]
    assert entities(tokens, tags) == [
        {"text": "Kelmar Group", "type": "ORG", "start": 2, "end": 4},
        {"text": "Vrala Bay", "type": "LOC", "start": 6, "end": 8},
    ]


def test_formats_are_detected_from_the_content_not_the_suffix(tmp_path):
    conllu = tmp_path / "a.conll"
    conllu.write_text(
        "1\tThe\tthe\tDET\tDT\t_\t2\tdet\t_\t_\n2\tdog\tdog\tNOUN\tNN\t_\t0\troot\t_\t_\n"
    )
    two = tmp_path / "b.conll"
    two.write_text("The\tO\nKelmar\tB-ORG\n")
    conll = tmp_path / "c.conllu"
    conll.write_text("The DT B-NP O\nKelmar NNP I-NP B-ORG\n")
    assert [detect_format(p) for p in (conllu, two, conll)] == ["conllu", "two-column", "conll2003"]
    assert read_tagged(conll)[0].tags == ["O", "B-ORG"]
    assert read_tagged(conll, "pos")[0].tags == ["DT", "NNP"]
    odd = tmp_path / "d.txt"
    odd.write_text("a b c\n")
    with pytest.raises(DataError, match=r"d\.txt: line 1: not CoNLL-U .* --set format="):
        detect_format(odd)
    with pytest.raises(DataError, match=r"line 2: expected 4 space-separated CoNLL-2003"):
        conll.write_text("The DT B-NP O\nKelmar NNP\n")
        read_tagged(conll, file_format="conll2003")
