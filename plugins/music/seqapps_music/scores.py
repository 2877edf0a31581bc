"""Scores read with music21 (its bundled corpus, MusicXML files) as pieces on the step grid."""

from __future__ import annotations

import math
from fractions import Fraction
from pathlib import Path

from seqapps_music.notes import Note, Piece


class ScoreError(ValueError):
    """A score file that cannot be read."""


def corpus_paths(composer: str) -> list[Path]:
    """Files of one composer in music21's bundled corpus (read offline), sorted by name."""
    from music21 import corpus

    return sorted(Path(p) for p in corpus.getComposer(composer))


def read_score(path: Path, steps_per_quarter: int) -> Piece:
    """Parse a MusicXML (or any music21-readable) score; one part per voice, ties merged."""
    import music21

    try:
        score = music21.converter.parse(str(path))
    except Exception as error:  # music21 raises many kinds on malformed input
        reason = error or type(error).__name__
        raise ScoreError(f"{path.name}: not a readable score ({reason})") from None
    parts = score.parts if score.parts else [score]
    result, length = [], 0
    for part in parts:
        notes = []
        for element in part.stripTies().flatten().notes:
            if element.duration.isGrace:
                continue
            # A note covers the grid points from its onset up to (not including) its end, so
            # a coarse grid samples what sounds on each beat; on a fine grid this is exact.
            offset = Fraction(element.offset).limit_denominator(10_000)
            end = offset + Fraction(element.quarterLength).limit_denominator(10_000)
            start, stop = math.ceil(offset * steps_per_quarter), math.ceil(end * steps_per_quarter)
            if stop <= start:
                continue  # shorter than a grid step and between two grid points
            for pitch in element.pitches:  # one for a note, several for a chord
                notes.append(Note(start, stop - start, int(pitch.midi)))
        if notes:
            result.append(sorted(notes, key=lambda n: (n.start, n.pitch)))
            length = max(length, *(n.start + n.duration for n in notes))
    highest = Fraction(score.highestTime).limit_denominator(10_000)
    length = max(length, math.ceil(highest * steps_per_quarter))
    return Piece(path.stem, result, length)  # bwv1.6.mxl -> bwv1.6
