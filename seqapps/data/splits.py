"""Deterministic train/validation/test splits of in-memory examples."""

from __future__ import annotations

import numpy as np

from seqapps.exceptions import DataError


def split_indices(
    count: int,
    validation_fraction: float,
    test_fraction: float,
    seed: int,
    labels: list[str] | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Shuffle ``count`` indices with ``seed`` and cut them into train, validation, test.

    With ``labels`` the split is stratified so every class appears in every split it can.
    """
    if not 0 <= validation_fraction < 1 or not 0 <= test_fraction < 1:
        raise DataError("validation and test fractions must be in [0, 1)")
    if validation_fraction + test_fraction >= 1:
        raise DataError("validation_fraction + test_fraction must leave examples for training")
    rng = np.random.default_rng(seed)
    groups = [np.arange(count)]
    if labels is not None:
        label_array = np.asarray(labels)
        groups = [np.flatnonzero(label_array == value) for value in sorted(set(labels))]
    train, validation, test = [], [], []
    for group in groups:
        group = rng.permutation(group)
        n_test = round(len(group) * test_fraction)
        n_validation = round(len(group) * validation_fraction)
        test.append(group[:n_test])
        validation.append(group[n_test : n_test + n_validation])
        train.append(group[n_test + n_validation :])
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
    import hashlib

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
