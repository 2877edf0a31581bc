"""Dated numeric series: CSV reading with row-level errors, time-ordered splits, windows.

Everything here keeps time order: splits are contiguous (train, then validation, then
test), scalers are fitted on the training rows only, and a window's targets never reach
past the end of its split, so nothing after the training cut-off can influence training.
"""

from __future__ import annotations

import csv
import datetime as dt
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from seqapps.exceptions import DataError

DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%m/%d/%Y", "%d.%m.%Y", "%Y-%m-%d %H:%M:%S")


@dataclass
class Series:
    """Dates and named numeric columns, in time order."""

    dates: list[dt.datetime]
    columns: dict[str, np.ndarray]
    source: str

    def __len__(self) -> int:
        return len(self.dates)

    def matrix(self, names: list[str]) -> np.ndarray:
        """Columns ``names`` as a (time, len(names)) float64 array."""
        return np.stack([self.columns[name] for name in names], axis=1)


def _parse_date(text: str) -> dt.datetime | None:
    text = text.strip()
    for form in DATE_FORMATS:
        try:
            return dt.datetime.strptime(text, form)
        except ValueError:
            continue
    try:
        return dt.datetime.fromisoformat(text)
    except ValueError:
        return None


def _number(text: str | None) -> float:
    if text is None:
        return math.nan
    text = text.strip().replace(",", "")
    if text in ("", "null", "NaN", "nan", "NA", "N/A", "-"):
        return math.nan
    try:
        return float(text)
    except ValueError:
        return math.nan


def _rows_text(rows: list[int], limit: int = 5) -> str:
    shown = ", ".join(str(r) for r in rows[:limit])
    return shown + (f" and {len(rows) - limit} more" if len(rows) > limit else "")


def read_series(path: Path, date_column: str, value_columns: list[str], fill: str = "") -> Series:
    """Read a dated CSV: check dates are parseable, unique and increasing; values numeric.

    ``fill`` decides what happens to missing or non-numeric values: "" reports the rows,
    "ffill" carries the previous value forward, "drop" removes those rows. Row numbers in
    messages are file lines (the header is line 1).
    """
    if fill not in ("", "ffill", "drop"):
        raise DataError(f"--set fill={fill}: expected ffill or drop")
    date_key, keys, rows = _read_rows(path, date_column, value_columns)
    dates, lines, bad_dates = [], [], []
    values = np.full((len(rows), len(keys)), np.nan)
    for index, (line, row) in enumerate(rows):
        parsed = _parse_date(row.get(date_key) or "")
        if parsed is None:
            bad_dates.append(line)
        dates.append(parsed)
        lines.append(line)
        for column, key in enumerate(keys):
            values[index, column] = _number(row.get(key))
    if bad_dates:
        raise DataError(f"--data {path}: unparseable dates in rows {_rows_text(bad_dates)}")
    _check_order(path, dates, lines)
    dates, values = _fill_missing(path, dates, values, lines, fill)
    columns = {name: values[:, i] for i, name in enumerate(value_columns)}
    return Series(dates, columns, str(path))


def _read_rows(path: Path, date_column: str, value_columns: list[str]):
    """The date column's key, the value columns' keys (found case-insensitively), and the
    rows with their file line numbers."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            header = reader.fieldnames or []
            if not header:
                raise DataError(f"--data {path}: file is empty")
            lookup = {name.strip().lower(): name for name in header}
            date_key = lookup.get(date_column.lower())
            if date_key is None:
                raise DataError(
                    f"--data {path}: no date column {date_column!r} "
                    f"(set it with --set date_column=NAME); columns: {', '.join(header)}"
                )
            unknown = [name for name in value_columns if name.lower() not in lookup]
            if unknown:
                raise DataError(
                    f"--data {path}: unknown column {unknown[0]!r}; columns: {', '.join(header)}"
                )
            keys = [lookup[name.lower()] for name in value_columns]
            rows = [(reader.line_num, row) for row in reader]
    except UnicodeDecodeError:
        raise DataError(f"--data {path}: not UTF-8 text") from None
    except OSError as error:
        raise DataError(f"--data {path}: cannot read ({error.strerror})") from None
    if not rows:
        raise DataError(f"--data {path}: no rows after the header")
    return date_key, keys, rows


def _fill_missing(path: Path, dates: list, values: np.ndarray, lines: list[int], fill: str):
    """Report, drop or carry forward missing values, as ``fill`` says."""
    missing = [lines[i] for i in np.flatnonzero(np.isnan(values).any(axis=1))]
    if missing and not fill:
        raise DataError(
            f"--data {path}: missing or non-numeric values in rows {_rows_text(missing)}; "
            "fix them or use --set fill=ffill or --set fill=drop"
        )
    if fill == "drop":
        keep = ~np.isnan(values).any(axis=1)
        return [d for d, k in zip(dates, keep) if k], values[keep]
    if fill == "ffill":
        if np.isnan(values[0]).any():
            raise DataError(
                f"--data {path}: row {lines[0]} has missing values: nothing to fill from"
            )
        for column in range(values.shape[1]):
            series = values[:, column]
            for i in range(1, len(series)):
                if np.isnan(series[i]):
                    series[i] = series[i - 1]
    return dates, values


def _check_order(path: Path, dates: list[dt.datetime], lines: list[int]) -> None:
    for i in range(1, len(dates)):
        if dates[i] == dates[i - 1]:
            raise DataError(
                f"--data {path}: duplicate date {dates[i]:%Y-%m-%d} in rows {lines[i - 1]} "
                f"and {lines[i]}"
            )
        if dates[i] < dates[i - 1]:
            raise DataError(
                f"--data {path}: dates not in increasing order at row {lines[i]} "
                f"({dates[i]:%Y-%m-%d} after {dates[i - 1]:%Y-%m-%d}); sort the file by date"
            )


def split_points(steps: int, validation_fraction: float, test_fraction: float) -> tuple[int, int]:
    """Indices where validation and test start: contiguous, in time order."""
    test_start = steps - round(steps * test_fraction)
    validation_start = test_start - round(steps * validation_fraction)
    return validation_start, test_start


@dataclass(frozen=True)
class Scaler:
    """Per-column standardization fitted on training rows only."""

    mean: np.ndarray
    std: np.ndarray

    @classmethod
    def fit(cls, values: np.ndarray) -> Scaler:
        """Mean and standard deviation of each column (std 1 where a column is constant)."""
        std = values.std(axis=0)
        return cls(values.mean(axis=0), np.where(std > 0, std, 1.0))

    def transform(self, values: np.ndarray) -> np.ndarray:
        """Standardize."""
        return (values - self.mean) / self.std

    def inverse(self, values: np.ndarray) -> np.ndarray:
        """Undo standardize."""
        return values * self.std + self.mean


def window_origins(first: int, last: int, window: int, horizon: int) -> np.ndarray:
    """Forecast origins t (the last input step) with t >= ``first``, a full window behind
    them, and targets t+1..t+horizon that end before ``last``."""
    start = max(first, window - 1)
    stop = last - horizon  # t + horizon <= last - 1
    return np.arange(start, stop) if stop > start else np.arange(0)


def windows_dataset(
    inputs: np.ndarray, targets: np.ndarray, origins: np.ndarray, window: int, horizon: int
):
    """tf.data of (inputs[t-window+1 : t+1], targets[t+1 : t+1+horizon]) for each origin t."""
    import tensorflow as tf

    inputs_t = tf.constant(inputs, tf.float32)
    targets_t = tf.constant(targets, tf.float32)
    past = tf.range(-window + 1, 1, dtype=tf.int64)
    future = tf.range(1, horizon + 1, dtype=tf.int64)

    def gather(origin):
        return tf.gather(inputs_t, origin + past), tf.gather(targets_t, origin + future)

    return tf.data.Dataset.from_tensor_slices(origins.astype("int64")).map(
        gather, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True
    )
