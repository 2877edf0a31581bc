"""CSV/TSV reading, splits and the embedded sentiment sample (no TensorFlow needed)."""

import pytest

from seqapps.data.splits import split_indices
from seqapps.data.text import check_classes, read_labelled_text
from seqapps.exceptions import DataError
from seqapps_sentiment import sample


def test_reads_tsv_with_any_label_strings(tmp_path):
    path = tmp_path / "d.tsv"
    path.write_text("review\tstars\ngreat fun\tfive\ndull\tone\n\nok I guess\tthree\n")
    texts, labels = read_labelled_text(path, "review", "stars")
    assert texts == ["great fun", "dull", "ok I guess"]
    assert check_classes(labels, "d.tsv") == ["five", "one", "three"]


def test_missing_column_names_file_option_and_columns(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("body,label\nhi,a\n")
    with pytest.raises(
        DataError,
        match=r"d.csv: no column 'text' \(set it with --set text_column=NAME\); "
        r"columns: body, label",
    ):
        read_labelled_text(path, "text", "label")


def test_split_is_stratified_deterministic_and_complete():
    labels = ["a"] * 50 + ["b"] * 30
    first = split_indices(80, 0.1, 0.2, seed=3, labels=labels)
    second = split_indices(80, 0.1, 0.2, seed=3, labels=labels)
    assert all((x == y).all() for x, y in zip(first, second))
    train, validation, test = first
    assert sorted([*train, *validation, *test]) == list(range(80))
    assert sum(labels[i] == "b" for i in test) == 6 and sum(labels[i] == "a" for i in test) == 10


def test_folds_cover_every_index_once_stratified_and_share_one_partition_per_seed():
    labels = ["a"] * 53 + ["b"] * 22
    tests, sizes = [], []
    for fold in range(1, 6):
        train, validation, test = split_indices(75, 0.1, 0.5, seed=7, labels=labels, fold=(fold, 5))
        assert not set(train) & set(test) and not set(validation) & set(test)
        assert sorted([*train, *validation, *test]) == list(range(75))
        assert len(validation) == 5 + 2  # 10% of each class, from the other folds
        assert sum(labels[i] == "b" for i in test) in (4, 5)  # stratified: 22 / 5
        tests.append(set(test))
        sizes.append(len(test))
    assert set().union(*tests) == set(range(75))  # every example is tested exactly once
    assert sum(sizes) == 75 and max(sizes) - min(sizes) <= 1
    other_seed = split_indices(75, 0.1, 0.5, seed=8, labels=labels, fold=(1, 5))[2]
    assert set(other_seed) != tests[0]  # --repeats with --folds: another partition
    with pytest.raises(DataError, match="fold 6 of 5: expected 1 to 5"):
        split_indices(75, 0.1, 0.0, seed=7, fold=(6, 5))


def test_sample_is_deterministic_balanced_and_order_dependent():
    texts, labels = sample.generate(400)
    assert (texts, labels) == sample.generate(400)
    assert 150 < labels.count("positive") < 250
    # Same bag of words, opposite labels: only the order tells them apart.
    contrast = [t for t in texts if " but " in t or " even though " in t]
    assert len(contrast) > 150
