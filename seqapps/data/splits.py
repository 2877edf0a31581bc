"""Deterministic train/validation/test splits of in-memory examples."""

from __future__ import annotations

import hashlib
import warnings
from collections import Counter
from collections.abc import Callable, Iterable, Sized
from typing import TypeVar

import numpy as np

from seqapps.exceptions import DataError, DataWarning

T = TypeVar("T")


def split_indices(
    count: int,
    validation_fraction: float,
    test_fraction: float,
    seed: int,
    labels: list[str] | None = None,
    fold: tuple[int, int] = (0, 0),
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Shuffle ``count`` indices with ``seed`` and cut them into train, validation, test.

    With ``labels`` the split is stratified so every class appears in every split it can.
    With ``fold=(k, K)`` the test split is fold k (1..K) of K disjoint folds that cover every
    index, the same folds for every k of one seed (``test_fraction`` unused); validation is
    then ``validation_fraction`` of the whole, taken from the other folds.
    """
    fold, folds = fold
    if not 0 <= validation_fraction < 1 or not 0 <= test_fraction < 1:
        raise DataError("validation and test fractions must be in [0, 1)")
    if folds and not 1 <= fold <= folds:
        raise DataError(f"fold {fold} of {folds}: expected 1 to {folds}")
    if folds:
        test_fraction = 1 / folds
    if validation_fraction + test_fraction >= 1:
        raise DataError("validation_fraction + test_fraction must leave examples for training")
    rng = np.random.default_rng(seed)
    groups = [np.arange(count)]
    if labels is not None:
        label_array = np.asarray(labels)
        groups = [np.flatnonzero(label_array == value) for value in sorted(set(labels))]
    train, validation, test = [], [], []
    dealt = 0  # folds are dealt round-robin across classes, so their sizes differ by <= 1
    for group in groups:
        group = rng.permutation(group)
        n_validation = round(len(group) * validation_fraction)
        if folds:
            held = (np.arange(len(group)) + dealt) % folds == fold - 1
            dealt += len(group)
            test.append(group[held])
            rest = group[~held]
        else:
            n_test = round(len(group) * test_fraction)
            test.append(group[:n_test])
            rest = group[n_test:]
        validation.append(rest[:n_validation])
        train.append(rest[n_validation:])
    parts = [
        rng.permutation(np.concatenate(p)) if p else np.array([], int)
        for p in (train, validation, test)
    ]
    return parts[0], parts[1], parts[2]


def split_groups(
    groups: list[str], validation_fraction: float, test_fraction: float
) -> dict[str, str]:
    """Assign each distinct group (a piece, a speaker) to "train", "validation" or "test".

    Groups are ordered by a hash of their name, not by the seed, so a group keeps its split
    across runs and seeds and never lands in two splits. Validation and test each get at
    least one group.
    """
    distinct = sorted(set(groups), key=lambda g: hashlib.sha1(g.encode("utf-8")).hexdigest())
    if len(distinct) < 3:
        raise DataError(
            f"need at least 3 distinct groups to split train/validation/test, got {len(distinct)}"
        )
    n_test = max(1, round(len(distinct) * test_fraction))
    n_validation = max(1, round(len(distinct) * validation_fraction))
    if n_test + n_validation >= len(distinct):
        n_test = n_validation = 1
    assigned = {g: "test" for g in distinct[:n_test]}
    assigned.update({g: "validation" for g in distinct[n_test : n_test + n_validation]})
    assigned.update({g: "train" for g in distinct[n_test + n_validation :]})
    return assigned


def fold_splits(
    splits: dict[str, list[T]],
    folds: int,
    fold: int,
    seed: int,
    validation_fraction: float,
    group: Callable[[T], str] | None = None,
) -> dict[str, list[T]]:
    """Pool the train/validation/test items of ``splits`` and split them again for fold
    ``fold`` (1..``folds``): the test split is one fold of the items, or of whole groups
    when ``group(item)`` names them (a speaker, a piece: groups keep their fold across
    seeds). Validation is ``validation_fraction`` of the whole, from the other folds: whole
    groups while four or more groups stay for training, else that share of every training
    group's items (with four speakers, training on two would cost more than it tells)."""
    pooled = [item for split in ("train", "validation", "test") for item in splits[split]]

    def pick(indices) -> list[T]:
        return [pooled[i] for i in sorted(indices)]

    if group is None:
        train, validation, test = split_indices(
            len(pooled), validation_fraction, 0.0, seed, fold=(fold, folds)
        )
        return {"train": pick(train), "validation": pick(validation), "test": pick(test)}
    names = [group(item) for item in pooled]
    distinct = sorted(set(names), key=lambda g: hashlib.sha1(g.encode("utf-8")).hexdigest())
    if len(distinct) < folds:
        raise DataError(
            f"--folds {folds}: the data has {len(distinct)} groups to fold (speakers, pieces); "
            f"use --folds {len(distinct)} or fewer"
        )
    held = {g for i, g in enumerate(distinct) if i % folds == fold - 1}
    rest = [g for g in distinct if g not in held]
    n_validation = max(1, round(len(distinct) * validation_fraction))
    test = [i for i, g in enumerate(names) if g in held]
    others = [i for i, g in enumerate(names) if g not in held]
    if len(rest) - n_validation >= 4:
        checking = set(rest[:n_validation])
        validation = [i for i in others if names[i] in checking]
        train = [i for i in others if names[i] not in checking]
    else:
        kept, checked, _ = split_indices(
            len(others), validation_fraction, 0.0, seed, labels=[names[i] for i in others]
        )
        train, validation = [others[i] for i in kept], [others[i] for i in checked]
    return {"train": pick(train), "validation": pick(validation), "test": pick(test)}


def check_not_empty(splits: dict[str, Sized], source: str) -> None:
    """Fail naming the first empty split and what to change."""
    for split, items in splits.items():
        if not len(items):
            raise DataError(
                f"--data {source}: the {split} split is empty; use more data or change "
                "validation_fraction/test_fraction"
            )


def check_labels_seen(
    train: Iterable[str], others: dict[str, Iterable[str]], source: str, noun: str = "labels"
) -> None:
    """Fail when a validation or test split holds a label the training split never shows."""
    known = set(train)
    for split, labels in others.items():
        unseen = sorted(set(labels) - known)
        if unseen:
            raise DataError(
                f"--data {source}: {noun} {unseen} occur in the {split} split but never in "
                f"training; use more training data or merge those {noun}"
            )


def counted(counts: Counter, most: int = 8) -> str:
    """ "'a' (3), 'b' (1)" for the commonest ``most`` items, and how many more there are."""
    shown = ", ".join(f"{item!r} ({count})" for item, count in counts.most_common(most))
    return shown + (f" and {len(counts) - most} more" if len(counts) > most else "")


def warn_unseen_labels(
    train: Iterable[str],
    others: dict[str, Iterable[str]],
    origins: dict[str, str],
    noun: str = "texts",
) -> dict[str, Counter]:
    """Labels of the validation and test splits that training never shows, counted per
    split, with one DataWarning per split that names where the split came from
    (``origins[split]``, e.g. ``"--data reviews.csv"``) and what happens to those examples.

    Out-of-domain test files are a fact of life: their examples are scored as errors (the
    model has no output for the label), and validation ones are left out, because the
    validation loss that picks the best epoch has no target for them.
    """
    known = set(train)
    found = {}
    for split, labels in others.items():
        counts = Counter(label for label in labels if label not in known)
        if not counts:
            continue
        found[split] = counts
        total = sum(counts.values())
        if total == 1:
            which = f"that {noun.removesuffix('s')} " + (
                "counts as an error" if split == "test" else f"is left out of the {split} split"
            )
        else:
            which = f"those {total} {noun} " + (
                "count as errors" if split == "test" else f"are left out of the {split} split"
            )
        warnings.warn(
            f"{origins[split]}: labels {counted(counts)} occur in the {split} split but never in "
            f"training; {which}",
            DataWarning,
            stacklevel=2,
        )
    return found


def cap_splits(splits: dict[str, T], max_samples: int | None, seed: int) -> dict[str, T]:
    """What ``--max-samples N`` means for every task: N examples of each split.

    The N are drawn at random with the run's seed and kept in their original order, after
    the data is split, so a capped run sees the same kinds of example as a full one and no
    example changes split. ``splits`` maps split names to lists or arrays of examples.
    """
    if not max_samples:
        return splits
    capped = {}
    for number, (split, items) in enumerate(splits.items()):
        if len(items) <= max_samples:
            capped[split] = items
            continue
        rng = np.random.default_rng([seed, number])
        keep = np.sort(rng.choice(len(items), max_samples, replace=False))
        capped[split] = items[keep] if isinstance(items, np.ndarray) else [items[i] for i in keep]
    return capped
