"""fold_splits: K folds of items or of whole groups, pooled from a task's own splits."""

import pytest

from seqapps.data.splits import fold_splits
from seqapps.exceptions import DataError


def pooled(speakers: int, clips: int) -> dict[str, list[tuple[str, int]]]:
    items = [(f"speaker{s}", c) for s in range(speakers) for c in range(clips)]
    third = len(items) // 3
    return {
        "train": items[:third],
        "validation": items[third : 2 * third],
        "test": items[2 * third :],
    }


def speaker(item) -> str:
    return item[0]


def test_whole_speakers_are_held_out_in_turn_and_validation_takes_whole_speakers():
    data = pooled(10, 6)
    held = []
    for fold in range(1, 6):
        splits = fold_splits(data, 5, fold, seed=1, validation_fraction=0.2, group=speaker)
        by_split = {name: {speaker(i) for i in items} for name, items in splits.items()}
        assert len(by_split["test"]) == 2 and len(by_split["validation"]) == 2
        assert not by_split["train"] & (by_split["test"] | by_split["validation"])
        assert sum(len(items) for items in splits.values()) == 60
        held += sorted(by_split["test"])
    assert sorted(held) == sorted(f"speaker{s}" for s in range(10))  # each one held out once


def test_with_four_speakers_one_is_held_out_and_validation_is_a_share_of_the_others_clips():
    data = pooled(4, 10)
    held = []
    for fold in range(1, 5):
        splits = fold_splits(data, 4, fold, seed=1, validation_fraction=0.1, group=speaker)
        (tested,) = {speaker(i) for i in splits["test"]}
        held.append(tested)
        # Training keeps all three other speakers; one clip of each checks the epochs.
        assert {speaker(i) for i in splits["train"]} == {f"speaker{s}" for s in range(4)} - {tested}
        assert sorted(speaker(i) for i in splits["validation"]) == sorted(
            {speaker(i) for i in splits["train"]}
        )
    assert sorted(held) == [f"speaker{s}" for s in range(4)]
    with pytest.raises(DataError, match="--folds 5: the data has 4 groups to fold"):
        fold_splits(data, 5, 1, seed=1, validation_fraction=0.1, group=speaker)


def test_items_without_groups_fold_by_item_the_same_way_for_every_fold_of_a_seed():
    data = pooled(3, 10)
    tests = [
        fold_splits(data, 3, fold, seed=4, validation_fraction=0.1)["test"] for fold in (1, 2, 3)
    ]
    assert sorted(i for t in tests for i in t) == sorted(i for d in data.values() for i in d)
