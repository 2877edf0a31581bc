"""Where pieces come from: music21's bundled corpus or a folder of MIDI and MusicXML files.

Parsing a score with music21 takes about a tenth of a second, so parsed pieces are cached
as JSON keyed by the file's content and the grid; a second run over the 400-odd chorales
reads the cache in well under a second.
"""

from __future__ import annotations

import hashlib
import json
import os
import warnings
from pathlib import Path

from seqapps.api import DataError, DataWarning, progress
from seqapps_music.midi import MidiError, read_midi
from seqapps_music.notes import Note, Piece
from seqapps_music.scores import ScoreError, corpus_paths, read_score

MIDI_SUFFIXES = (".mid", ".midi")
SCORE_SUFFIXES = (".xml", ".musicxml", ".mxl")
_CACHE_VERSION = 1


def default_cache_dir() -> Path:
    """$SEQAPPS_CACHE, else $XDG_CACHE_HOME/seqapps, else ~/.cache/seqapps."""
    if os.environ.get("SEQAPPS_CACHE"):
        return Path(os.environ["SEQAPPS_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "seqapps"


def source_files(source: str) -> tuple[list[Path], str]:
    """The files of ``music21:COMPOSER`` or of a folder, and a description of the source."""
    if source.startswith("music21:"):
        composer = source.partition(":")[2] or "bach"
        paths = corpus_paths(composer)
        if not paths:
            raise DataError(f"--data {source}: music21's corpus has no pieces by {composer!r}")
        return paths, source
    folder = Path(source).expanduser()
    if not folder.exists():
        raise DataError(f"--data {source}: no such folder")
    if not folder.is_dir():
        raise DataError(
            f"--data {source}: expected a folder of MIDI (.mid, .midi) or MusicXML "
            "(.xml, .musicxml, .mxl) files, or music21:bach"
        )
    paths = sorted(
        p for p in folder.rglob("*") if p.suffix.lower() in MIDI_SUFFIXES + SCORE_SUFFIXES
    )
    if not paths:
        raise DataError(
            f"--data {source}: the folder holds no MIDI (.mid, .midi) or MusicXML "
            "(.xml, .musicxml, .mxl) files"
        )
    return paths, str(folder)


def read_pieces(paths: list[Path], steps_per_quarter: int, cache_dir: Path | None) -> list[Piece]:
    """Parse every file; an unreadable or empty one is skipped with a DataWarning naming it."""
    pieces = []
    # The first run parses every chorale (about a minute); later runs read the cache.
    for path in progress(paths, "reading scores"):
        try:
            piece = _cached_read(path, steps_per_quarter, cache_dir)
        except (MidiError, ScoreError) as error:
            warnings.warn(f"{error}; skipped", DataWarning, stacklevel=2)
            continue
        if not piece.parts:
            warnings.warn(f"{path.name}: no notes; skipped", DataWarning, stacklevel=2)
            continue
        pieces.append(piece)
    return pieces


def _read(path: Path, steps_per_quarter: int) -> Piece:
    if path.suffix.lower() in MIDI_SUFFIXES:
        return read_midi(path, steps_per_quarter)
    return read_score(path, steps_per_quarter)


def _cached_read(path: Path, steps_per_quarter: int, cache_dir: Path | None) -> Piece:
    if cache_dir is None or path.suffix.lower() in MIDI_SUFFIXES:  # MIDI parses fast enough
        return _read(path, steps_per_quarter)
    digest = hashlib.sha1(path.read_bytes()).hexdigest()[:20]
    entry = cache_dir / "music" / f"{digest}-{steps_per_quarter}-v{_CACHE_VERSION}.json"
    if entry.is_file():
        try:
            return _from_json(json.loads(entry.read_text(encoding="utf-8")), path.stem)
        except (ValueError, KeyError, TypeError):
            pass  # a damaged cache entry is parsed again and rewritten
    piece = _read(path, steps_per_quarter)
    try:
        entry.parent.mkdir(parents=True, exist_ok=True)
        partial = entry.with_suffix(f".tmp{os.getpid()}")
        partial.write_text(json.dumps(_to_json(piece)), encoding="utf-8")
        partial.replace(entry)  # atomic: a concurrent run never reads half a file
    except OSError:
        pass  # no cache is slower, not wrong
    return piece


def _to_json(piece: Piece) -> dict:
    parts = [[[n.start, n.duration, n.pitch] for n in part] for part in piece.parts]
    return {"length": piece.length, "parts": parts}


def _from_json(data: dict, name: str) -> Piece:
    parts = [[Note(*map(int, n)) for n in part] for part in data["parts"]]
    return Piece(name, parts, int(data["length"]))
