"""Price files that look wrong before anything trains: single-day moves that are stock splits.

Unadjusted closes fall by half on a 2:1 split (and rise on a reverse split). A model learns
a crash that never happened, and the test metrics are off by the split for every window
that spans it. Vendors ship an adjusted column beside the raw one for this reason.
"""

from __future__ import annotations

import csv
import warnings
from pathlib import Path

import numpy as np

from seqapps.api import DataWarning, Series

#: Price ratios of common splits (n:1 and 3:2) and reverse splits (1:n).
SPLIT_RATIOS = (2.0, 3.0, 4.0, 5.0, 7.0, 8.0, 10.0, 1.5)
#: How close a day's ratio must be to a split's to count (real closes move a little too).
TOLERANCE = 0.04
#: Below this many percent, a move is a move, not a split.
SMALLEST_MOVE = 0.3


def split_days(series: Series, column: str) -> list[tuple[str, float]]:
    """The dates whose close-to-close ratio matches a split's, with that ratio (new/old)."""
    prices = np.asarray(series.columns[column], dtype=float)
    if len(prices) < 2:
        return []
    with np.errstate(divide="ignore", invalid="ignore"):
        ratios = prices[1:] / prices[:-1]
    found = []
    for index, ratio in enumerate(ratios, start=1):
        if not np.isfinite(ratio) or ratio <= 0 or abs(np.log(ratio)) < np.log1p(SMALLEST_MOVE):
            continue
        size = 1 / ratio if ratio < 1 else ratio
        if any(abs(size / split - 1) <= TOLERANCE for split in SPLIT_RATIOS):
            found.append((series.dates[index].date().isoformat(), float(ratio)))
    return found


def adjusted_column(path: Path) -> str | None:
    """A column of the file that holds adjusted prices ("Adj Close", "adjusted_close"), if any."""
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            header = next(csv.reader(handle), [])
    except (OSError, UnicodeDecodeError):
        return None
    return next((name for name in header if "adj" in name.lower()), None)


def warn_about_splits(series: Series, columns: list[str], path: Path | None) -> None:
    """One DataWarning naming the dates that look like unadjusted splits, and the adjusted
    column to use instead when the file has one."""
    for column in columns:
        days = split_days(series, column)
        if not days:
            continue
        shown = ", ".join(f"{day} (x{ratio:.2f})" for day, ratio in days[:5])
        more = f" and {len(days) - 5} more" if len(days) > 5 else ""
        adjusted = adjusted_column(path) if path is not None else None
        advice = (
            f"; the file has {adjusted!r}: use --set target={adjusted!r}"
            if adjusted and adjusted != column
            else "; use split-adjusted prices"
        )
        warnings.warn(
            f"{series.source}: {column} moves like an unadjusted stock split on {shown}{more}"
            f"{advice}",
            DataWarning,
            stacklevel=2,
        )
        return
