"""Parse --data values, fingerprint data, and read TensorFlow Datasets from a local folder."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from seqapps.exceptions import DataError


@dataclass(frozen=True)
class Source:
    """A parsed --data value: ``kind`` is sample, path, or a prefix such as tfds."""

    kind: str
    value: str

    def __str__(self) -> str:
        return self.value if self.kind in ("path", "sample") else f"{self.kind}:{self.value}"


def parse_source(data: str, prefixes: Iterable[str] = ("tfds",)) -> Source:
    """Split a --data value into its kind: ``sample``, ``PREFIX:NAME`` or a local path."""
    if data == "sample":
        return Source("sample", "sample")
    prefix, sep, rest = data.partition(":")
    if sep and prefix in prefixes:
        if not rest:
            raise DataError(f"--data {data!r}: expected {prefix}:NAME")
        return Source(prefix, rest)
    return Source("path", data)


def check_local_source(data: str) -> None:
    """A --data naming a local file or folder that is not there is refused at once, before
    TensorFlow and MLflow load (seconds); ``sample`` and ``PREFIX:NAME`` sources pass."""
    prefix, sep, _ = data.partition(":")
    if data == "sample" or (sep and len(prefix) > 1 and prefix.replace("_", "").isalnum()):
        return
    if not Path(data).expanduser().exists():
        raise DataError(f"--data {data}: no such file or folder")


def existing_file(path_text: str) -> Path:
    """The path as a readable file, or a DataError naming it."""
    path = Path(path_text).expanduser()
    if not path.exists():
        raise DataError(f"--data {path_text}: no such file")
    if path.is_dir():
        raise DataError(f"--data {path_text}: is a folder, expected a file")
    try:
        with path.open("rb"):
            pass
    except OSError as error:
        raise DataError(f"--data {path_text}: cannot read ({error.strerror})") from None
    return path


def fingerprint_file(path: Path) -> str:
    """SHA-256 of a file's bytes (first 16 hex digits), so runs on changed data differ."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()[:16]


def fingerprint_rows(rows: Iterable[Iterable[object]]) -> str:
    """SHA-256 over rows of values (first 16 hex digits), for generated or loaded data."""
    digest = hashlib.sha256()
    for row in rows:
        digest.update("\x1f".join(str(v) for v in row).encode("utf-8"))
        digest.update(b"\x1e")
    return digest.hexdigest()[:16]


def load_tfds(name: str, data_dir: str | None, splits: list[str]):
    """Read prepared TFDS splits from ``data_dir``; download only if it is not there yet.

    Returns (datasets, info). A missing dataset with no network is a clear DataError.
    """
    from seqapps.tensorflow_import import import_tensorflow

    import_tensorflow()
    import tensorflow_datasets as tfds

    try:
        builder = tfds.builder(name, data_dir=data_dir)
    except Exception as error:
        raise DataError(f"--data tfds:{name}: unknown TFDS dataset ({error})") from None
    if not builder.is_prepared():
        try:
            builder.download_and_prepare()
        except Exception as error:
            where = data_dir or "the default TFDS folder"
            raise DataError(
                f"--data tfds:{name}: not prepared in {where} and could not be downloaded "
                f"({type(error).__name__}); prepare it online once or pass --data-dir"
            ) from None
    try:
        datasets = builder.as_dataset(split=splits, shuffle_files=False)
    except Exception as error:
        raise DataError(f"--data tfds:{name}: cannot read splits {splits}: {error}") from None
    return datasets, builder.info
