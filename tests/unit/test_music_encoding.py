"""Music representations on MIDI files written here: round trips, pitch names, key, splits."""

import mido
import numpy as np
import pytest

from seqapps.data.splits import split_groups
from seqapps_music import encoding
from seqapps_music.midi import MidiError, read_midi, write_midi
from seqapps_music.notes import Note, Piece, estimate_key, parse_pitch, pitch_name, skyline

MELODY = "rest:2 E4:4 G4:2 G4:2 rest:4 C5:8 B4:1 A4:3 rest:2"


def write_with_mido(path, events, ticks_per_beat=96, steps_per_quarter=4, program=0):
    """A melody written independently of seqapps: note-on velocity 0 ends notes."""
    per_step = ticks_per_beat // steps_per_quarter
    track, pending = mido.MidiTrack(), 0
    track.append(mido.Message("program_change", program=program, time=0))
    for pitch, steps in events:
        if pitch is None:
            pending += steps * per_step
            continue
        track.append(mido.Message("note_on", note=pitch, velocity=90, time=pending))
        track.append(mido.Message("note_on", note=pitch, velocity=0, time=steps * per_step))
        pending = 0
    track.append(mido.MetaMessage("end_of_track", time=pending))
    midi = mido.MidiFile(type=0, ticks_per_beat=ticks_per_beat)
    midi.tracks.append(track)
    midi.save(path)


def test_tokens_to_midi_to_tokens_is_identity(tmp_path):
    tokens = MELODY.split()
    notes, steps = encoding.tokens_to_notes(tokens)
    path = tmp_path / "melody.mid"
    path.write_bytes(write_midi([notes], steps, steps_per_quarter=4))
    piece = read_midi(path, steps_per_quarter=4)
    assert encoding.melody_tokens(piece) == tokens
    assert piece.length == sum(int(t.split(":")[1]) for t in tokens)


def test_a_midi_file_from_another_writer_reads_as_its_events(tmp_path):
    events = [(None, 4), (64, 4), (67, 2), (67, 2), (None, 2), (72, 6)]
    path = tmp_path / "other.mid"
    write_with_mido(path, events, ticks_per_beat=96)
    piece = read_midi(path, steps_per_quarter=4)
    assert encoding.melody_tokens(piece) == ["rest:4", "E4:4", "G4:2", "G4:2", "rest:2", "C5:6"]


def test_midi_timing_is_quantized_to_the_nearest_step(tmp_path):
    track = mido.MidiTrack(
        [
            mido.Message("note_on", note=60, velocity=80, time=3),  # 3 ticks late
            mido.Message("note_off", note=60, velocity=0, time=475),  # ends 2 ticks early
            mido.Message("note_on", note=62, velocity=80, time=0),
            mido.Message("note_off", note=62, velocity=0, time=240),
        ]
    )
    midi = mido.MidiFile(type=0, ticks_per_beat=480)
    midi.tracks.append(track)
    midi.save(tmp_path / "played.mid")
    assert encoding.melody_tokens(read_midi(tmp_path / "played.mid", 4)) == ["C4:4", "D4:2"]


def test_piano_roll_to_midi_to_piano_roll_is_identity(tmp_path):
    rng = np.random.default_rng(0)
    roll = (rng.random((48, encoding.KEYS)) < 0.08).astype(np.uint8)
    roll[-3:] = 0  # a closing rest must survive too
    path = tmp_path / "roll.mid"
    path.write_bytes(write_midi([encoding.roll_to_notes(roll)], len(roll), 4))
    back = encoding.piano_roll(read_midi(path, 4))
    np.testing.assert_array_equal(back, roll)


def test_several_voices_make_one_roll_and_the_melody_is_the_top_voice():
    soprano = [Note(0, 4, 72), Note(4, 4, 74)]
    alto = [Note(0, 8, 64)]
    piece = Piece("two voices", [soprano, alto], 8)
    roll = encoding.piano_roll(piece)
    assert roll.shape == (8, 88)
    assert roll[:, 72 - 21].sum() == 4 and roll[:, 64 - 21].sum() == 8
    assert encoding.melody_tokens(piece) == ["C5:4", "D5:4"]
    chords = Piece("chords", [[Note(0, 4, 60), Note(0, 4, 67), Note(4, 2, 65)]], 6)
    assert skyline(chords.parts[0]) == [Note(0, 4, 67), Note(4, 2, 65)]


def test_roll_events_read_back_as_the_same_roll():
    roll = encoding.roll_from_events("C4+E4+G4:4 rest:2 D4:1 D4+F4:3", 4)
    assert encoding.roll_events(roll) == "C4+E4+G4:4 rest:2 D4:1 D4+F4:3"
    np.testing.assert_array_equal(encoding.roll_from_events(encoding.roll_events(roll), 4), roll)


@pytest.mark.parametrize(
    ("name", "pitch"),
    [("C4", 60), ("A4", 69), ("C#4", 61), ("Db4", 61), ("E-5", 75), ("B#3", 60), ("A0", 21)],
)
def test_pitch_names(name, pitch):
    assert parse_pitch(name) == pitch


@pytest.mark.parametrize("text", ["H4", "C", "4", "C4x", "", "G#10"])
def test_bad_pitch_names_are_refused(text):
    with pytest.raises(ValueError):
        parse_pitch(text)


def test_pitch_names_round_trip():
    assert all(parse_pitch(pitch_name(p)) == p for p in range(128))


def test_key_estimation_finds_major_and_minor_keys():
    def scale(tonic, steps):
        return [Note(4 * i, 4 * (3 if i in (0, 4) else 1), tonic + s) for i, s in enumerate(steps)]

    assert estimate_key(scale(67, [0, 2, 4, 5, 7, 9, 11, 12, 7, 4, 0])) == (7, "major")
    assert estimate_key(scale(57, [0, 2, 3, 5, 7, 8, 11, 12, 7, 3, 0])) == (9, "minor")


def test_a_corrupt_midi_file_is_named(tmp_path):
    path = tmp_path / "broken.mid"
    path.write_bytes(b"MThd this is not MIDI")
    with pytest.raises(MidiError, match=r"broken\.mid"):
        read_midi(path, 4)


def test_groups_never_share_a_split_and_keep_it_across_calls():
    names = [f"piece{i}" for i in range(40)] * 2  # each piece twice (e.g. transposed)
    first = split_groups(names, 0.1, 0.1)
    assert first == split_groups(list(reversed(names)), 0.1, 0.1)
    assert sorted(first.values()).count("test") == 4
    assert set(first.values()) == {"train", "validation", "test"}
    tiny = split_groups(["a", "b", "c"], 0.1, 0.1)
    assert sorted(tiny.values()) == ["test", "train", "validation"]


def test_a_musicxml_score_reads_as_its_voices_with_ties_merged(tmp_path):
    import music21

    from seqapps_music.scores import read_score

    soprano, alto = music21.stream.Part(), music21.stream.Part()
    for name, length in (("E4", 1.0), ("G4", 0.5), ("A4", 0.5), ("C5", 2.0)):
        soprano.append(music21.note.Note(name, quarterLength=length))
    tied = [music21.note.Note("C4", quarterLength=2.0), music21.note.Note("C4", quarterLength=2.0)]
    tied[0].tie, tied[1].tie = music21.tie.Tie("start"), music21.tie.Tie("stop")
    for note in tied:
        alto.append(note)
    score = music21.stream.Score([soprano, alto])
    path = tmp_path / "two-voices.musicxml"
    score.write("musicxml", fp=str(path))
    piece = read_score(path, steps_per_quarter=4)
    assert encoding.melody_tokens(piece) == ["E4:4", "G4:2", "A4:2", "C5:8"]
    assert [n for n in piece.parts[1]] == [Note(0, 16, 60)]  # one note, not two tied halves
    assert piece.length == 16
    # On a coarse grid a note sounds on the beats it covers: the eighths land on one beat.
    coarse = read_score(path, steps_per_quarter=1)
    assert encoding.melody_tokens(coarse) == ["E4:1", "G4:1", "C5:2"]
