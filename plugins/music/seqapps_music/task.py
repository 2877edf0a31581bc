"""Music generation (one-to-many): learn note sequences, then compose continuations.

    seqapps run music --arch lstm --max-samples 80
    seqapps run music --data ~/midi/ --set representation=roll
    seqapps predict RUN_ID --prime "C4 E4 G4" --length 64 --temperature 0.9 --output song.mid

Training is next-step prediction over whole pieces (many-to-many, causal): the melody as
event tokens, or the piano roll of all voices. Pieces are split into train, validation and
test by piece, never inside one, so the test NLL measures music the model has not heard.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from seqapps.api import (
    PAD,
    SPLITS,
    UNKNOWN,
    ConfigError,
    DataBundle,
    DataError,
    Option,
    Report,
    Spec,
    Task,
    UserInputError,
    Vocabulary,
    cap_splits,
    fingerprint_rows,
    fold_splits,
    import_tensorflow,
    split_groups,
    verdict_line,
)
from seqapps_music import encoding
from seqapps_music.library import default_cache_dir, read_pieces, source_files
from seqapps_music.midi import TICKS_PER_QUARTER, write_midi
from seqapps_music.notes import shift_to_c, transpose

REPRESENTATIONS = ("melody", "roll")
START, END = "<start>", "<end>"


class MusicTask(Task):
    """Next-step prediction of melody events or piano-roll frames; generation by sampling."""

    name = "music"
    summary = "Music generation from Bach chorales or MIDI: melody tokens or piano roll"
    kind = "generate"
    default_arch = "lstm"
    data_sources = (
        "music21:bach (default: the Bach chorales bundled with music21, read offline)",
        "FOLDER of MIDI (.mid, .midi) and MusicXML (.xml, .musicxml, .mxl) files",
    )
    options = {
        "representation": Option(
            "melody",
            "melody (event tokens of the top voice) or roll (88-key piano roll)",
            ("melody", "roll"),
        ),
        "steps_per_quarter": Option(
            4, "grid steps per quarter note (4 = sixteenths; the published chorale figures use 1)"
        ),
        "normalize_key": Option(True, "transpose every piece to C major / A minor (estimated key)"),
        "transpose": Option(
            0, "augment training pieces with copies moved by 1..N semitones up and down"
        ),
        "max_length": Option(256, "steps per training sequence; longer pieces are cut into parts"),
        "embedding_dim": Option(64, "size of the event embedding (melody)"),
        "validation_fraction": Option(0.1, "share of pieces for validation"),
        "test_fraction": Option(0.1, "share of pieces for testing"),
        "sample_length": Option(
            64, "events (melody) or steps (roll) of the sample logged with the run"
        ),
        "sample_temperature": Option(1.0, "temperature of the logged sample"),
    }
    defaults = {"data": "music21:bach", "epochs": 30, "batch_size": 16, "learning_rate": 3e-3}
    headline_metrics = (
        "test_nll_per_step",
        "test_perplexity",
        "test_accuracy",
        "test_frame_accuracy",
    )
    cross_validation = "grouped by piece: each fold holds out whole pieces"
    predict_options = {
        "length": Option(64, "events (melody) or steps (roll) to generate after the prime"),
        "temperature": Option(
            1.0, "1 = the model's distribution, lower = safer, higher = wilder, 0 = argmax"
        ),
        "seed": Option(0, "random seed of the sampler"),
    }

    # -- data ---------------------------------------------------------------------------

    def _settings(self, options: dict[str, Any]) -> None:
        self.representation = options["representation"]
        self.normalize_key, self.max_length = options["normalize_key"], options["max_length"]
        self.steps_per_quarter = options["steps_per_quarter"]
        if self.steps_per_quarter < 1 or TICKS_PER_QUARTER % self.steps_per_quarter:
            raise ConfigError(
                f"--set steps_per_quarter={self.steps_per_quarter}: expected a divisor of "
                f"{TICKS_PER_QUARTER} such as 1, 2, 4, 8 or 12"
            )

    def load_data(self, config) -> DataBundle:
        """Read pieces, split them by piece, encode each as (inputs, next steps, weights)."""
        options = config.options
        self._settings(options)
        source = "music21:bach" if config.data == "sample" else config.data
        paths, description = source_files(source)
        cache = Path(config.data_dir) if config.data_dir else default_cache_dir()
        by_split = self._read_splits(paths, description, config, cache)
        if options["normalize_key"]:
            by_split = {
                s: [transpose(p, shift_to_c(p.notes())) or p for p in by_split[s]] for s in SPLITS
            }
        pieces = [p for s in SPLITS for p in by_split[s]]
        self.pieces = by_split
        originals = list(by_split["train"])
        for semitones in range(1, options["transpose"] + 1):
            for piece in originals:  # copies stay in training, next to their original
                for moved in (transpose(piece, semitones), transpose(piece, -semitones)):
                    if moved is not None:
                        by_split["train"].append(moved)

        if self.representation == "melody":
            sequences = {s: [encoding.melody_tokens(p) for p in by_split[s]] for s in SPLITS}
            fitted = Vocabulary.fit(sequences["train"])
            self.vocabulary = Vocabulary([START, END, *fitted.items[2:]])
            encoded = {s: [self._token_ids(tokens) for tokens in sequences[s]] for s in SPLITS}
        else:
            silent = np.zeros((1, encoding.KEYS), np.uint8)
            encoded = {
                s: [np.concatenate([silent, encoding.piano_roll(p)]) for p in by_split[s]]
                for s in SPLITS
            }
        windows = {s: list(self._windows(encoded[s], options["max_length"])) for s in SPLITS}
        self.examples = cap_splits(windows, config.max_samples, config.seed)
        tf = import_tensorflow()
        datasets = {s: self._dataset(tf, self.examples[s]) for s in SPLITS}
        sizes = {f"{s}_pieces": len(by_split[s]) for s in SPLITS}
        sizes.update({s: len(self.examples[s]) for s in SPLITS})
        sizes["test_steps"] = int(sum(len(y) for _, y in self.examples["test"]))
        spec = Spec(
            vocabulary_size=len(self.vocabulary) if self.representation == "melody" else None,
            features=encoding.KEYS,
            extra={"representation": self.representation},
        )
        rows = [(p.name, p.length, len(p.notes())) for p in pieces]
        fingerprint = fingerprint_rows([*rows, (self.representation, self.steps_per_quarter)])
        return DataBundle.from_splits(datasets, spec, description, fingerprint, sizes)

    def _read_splits(self, paths, description: str, config, cache) -> dict[str, list]:
        """Pieces by split, split by piece name.

        With --max-samples N, files are split by name before parsing and only enough of them
        are parsed: each split's files in an order drawn with the run's seed, until they hold
        N windows (cap_splits then draws N of those). A full read parses every file first,
        so unreadable files never take a split's place.
        """
        if not config.max_samples:
            pieces = read_pieces(paths, self.steps_per_quarter, cache)
            _check_piece_count(description, len(pieces))
            assigned = _assign([p.name for p in pieces], config)
            return {s: [p for p in pieces if assigned[p.name] == s] for s in SPLITS}
        _check_piece_count(description, len({path.stem for path in paths}))
        assigned = _assign([path.stem for path in paths], config)
        by_split = {}
        for number, split in enumerate(SPLITS):
            files = [path for path in paths if assigned[path.stem] == split]
            order = np.random.default_rng([config.seed, number]).permutation(len(files))
            by_split[split] = self._read_enough(
                [files[i] for i in order], config.max_samples, cache
            )
        empty = [split for split in SPLITS if not by_split[split]]
        if empty:
            usable = sum(len(pieces) for pieces in by_split.values())
            _check_piece_count(description, usable, f"; the {empty[0]} split got none")
        return by_split

    def _read_enough(self, files, max_samples: int, cache) -> list:
        """The first pieces of ``files`` that hold ``max_samples`` windows, in name order."""
        chosen, windows = [], 0
        for path in files:
            if windows >= max_samples:
                break
            for piece in read_pieces([path], self.steps_per_quarter, cache):
                chosen.append((path, piece))
                windows += self._window_count(piece)
        return [piece for _, piece in sorted(chosen, key=lambda item: item[1].name)]

    def _window_count(self, piece) -> int:
        """How many (inputs, targets) windows ``_windows`` cuts from this piece."""
        if self.representation == "melody":
            targets = len(encoding.melody_tokens(piece)) + 1  # START ... END, one step ahead
        else:
            targets = piece.length  # a silent first row, then every step
        return max(1, -(-targets // self.max_length))

    def _token_ids(self, tokens: list[str]) -> np.ndarray:
        index = self.vocabulary.index
        return np.array([index[START], *self.vocabulary.encode(tokens), index[END]], np.int32)

    @staticmethod
    def _windows(sequences, max_length: int):
        """(inputs, targets) pairs: targets are inputs one step ahead, cut to ``max_length``."""
        for sequence in sequences:
            inputs, targets = sequence[:-1], sequence[1:]
            for start in range(0, len(targets), max_length):
                yield inputs[start : start + max_length], targets[start : start + max_length]

    def _dataset(self, tf, examples):
        if self.representation == "melody":
            step = tf.TensorSpec((None,), tf.int32)
            signature = (step, step, tf.TensorSpec((None,), tf.float32))
            cast = np.int32
        else:
            step = tf.TensorSpec((None, encoding.KEYS), tf.float32)
            signature = (step, step, tf.TensorSpec((None,), tf.float32))
            cast = np.float32

        def generate():
            for inputs, targets in examples:
                yield inputs.astype(cast), targets.astype(cast), np.ones(len(targets), np.float32)

        return tf.data.Dataset.from_generator(generate, output_signature=signature)

    def batch(self, dataset, batch_size: int):
        """Pad each batch to its longest sequence; padded steps get weight 0."""
        return dataset.padded_batch(batch_size)

    # -- model --------------------------------------------------------------------------

    def build_model(self, spec, arch, config):
        """Event embedding (or the roll itself) -> the arch's causal encoder -> next step."""
        import keras

        from seqapps.api import ZeroPadding, encoder_settings, token_embedding

        if spec.extra["representation"] == "melody":
            inputs = keras.Input(shape=(None,), dtype="int32", name="events")
            x = token_embedding(
                spec.vocabulary_size, config.options["embedding_dim"], name="event_embedding"
            )(inputs)
            units, activation, head = spec.vocabulary_size, "softmax", "next_event"
        else:
            # No mask: a silent frame is music, and padding only follows the real steps of a
            # causal model, where sample weights 0 leave it out of the loss.
            inputs = keras.Input(shape=(None, encoding.KEYS), dtype="float32", name="frames")
            x = inputs
            units, activation, head = encoding.KEYS, "sigmoid", "next_frame"
        x = arch.build_encoder(x, encoder_settings(config), self.arch_kind(config))
        x = ZeroPadding(name="end_of_mask")(x)
        outputs = keras.layers.Dense(units, activation=activation, dtype="float32", name=head)(x)
        return keras.Model(inputs, outputs, name=f"music_{arch.name}")

    def loss_and_metrics(self, spec):
        """NLL per step: cross-entropy over events, or Bernoulli NLL summed over the 88 keys."""
        import keras

        if spec.extra["representation"] == "melody":
            loss = keras.losses.SparseCategoricalCrossentropy(reduction="mean_with_sample_weight")
        else:
            from seqapps_music.losses import SummedBinaryCrossentropy

            loss = SummedBinaryCrossentropy(reduction="mean_with_sample_weight")
        return loss, []

    # -- after training -----------------------------------------------------------------

    def _probabilities(self, model, examples, batch_size: int = 32):
        """Yield (probabilities, targets) per test sequence, padding removed."""
        tf = import_tensorflow()
        for start in range(0, len(examples), batch_size):
            chunk = examples[start : start + batch_size]
            longest = max(len(x) for x, _ in chunk)
            shape = (len(chunk), longest, *chunk[0][0].shape[1:])
            batch = np.zeros(shape, np.int32 if self.representation == "melody" else np.float32)
            for row, (inputs, _) in enumerate(chunk):
                batch[row, : len(inputs)] = inputs
            predicted = model.predict_on_batch(tf.constant(batch))
            for row, (_, targets) in enumerate(chunk):
                yield np.asarray(predicted[row, : len(targets)], np.float64), targets

    def evaluate_exactly(self, model, examples) -> dict[str, float]:
        """Test NLL per step (nats), perplexity and accuracy (melody) or frame accuracy (roll)."""
        nll, steps, right, hits, misses = 0.0, 0, 0, 0, 0
        for probabilities, targets in self._probabilities(model, examples):
            p = np.clip(probabilities, 1e-12, 1 - 1e-7)
            steps += len(targets)
            if self.representation == "melody":
                nll -= np.log(p[np.arange(len(targets)), targets]).sum()
                right += int((p.argmax(-1) == targets).sum())
            else:
                y = targets.astype(bool)
                nll -= np.where(y, np.log(p), np.log1p(-p)).sum()
                guess = p > 0.5
                hits += int((guess & y).sum())
                misses += int((guess ^ y).sum())
        metrics = {"nll_per_step": nll / steps, "steps_evaluated": float(steps)}
        if getattr(self, "examples", None):  # the training frequencies are known
            metrics["baseline_nll_per_step"] = self._baseline_nll(examples)
        if self.representation == "melody":
            metrics["perplexity"] = float(np.exp(nll / steps))
            metrics["accuracy"] = right / steps
        else:  # Bay et al. (2009): true positives over all positives and errors
            metrics["frame_accuracy"] = hits / (hits + misses) if hits + misses else 1.0
        return metrics

    def _baseline_nll(self, examples) -> float:
        """NLL per step of a model without memory: training frequencies of each event (melody)
        or each key (roll), add-one smoothed. The model should beat it by a clear margin."""
        targets = [y for _, y in self.examples["train"]]
        if self.representation == "melody":
            counts = np.bincount(np.concatenate(targets), minlength=len(self.vocabulary)) + 1.0
            p = counts / counts.sum()
            test = np.concatenate([y for _, y in examples])
            return float(-np.log(p[test]).mean())
        on = np.concatenate(targets).astype(np.float64)
        p = (on.sum(axis=0) + 1) / (len(on) + 2)
        test = np.concatenate([y for _, y in examples]).astype(bool)
        return float(-np.where(test, np.log(p), np.log1p(-p)).sum(axis=1).mean())

    def report(self, model, data, config) -> Report:
        """Exact test metrics, and a generated sample as MIDI, text and piano-roll figure."""
        from seqapps_music.figures import piano_roll_figure

        metrics = self.evaluate_exactly(model, self.examples["test"])
        options = config.options
        rng = np.random.default_rng(config.seed)
        events, notes, steps = self.compose(
            model, "", options["sample_length"], options["sample_temperature"], rng
        )
        midi = write_midi([notes], steps, self.steps_per_quarter)
        title = f"generated by {model.name} (temperature {options['sample_temperature']})"
        figure = piano_roll_figure(
            encoding.notes_to_roll(notes, steps), self.steps_per_quarter, title
        )
        summary = [
            f"test: {metrics['nll_per_step']:.4f} nats per step over "
            f"{int(metrics['steps_evaluated'])} steps of {len(self.pieces['test'])} unseen pieces",
            verdict_line(
                "nats per step",
                metrics["nll_per_step"],
                {"frequencies without memory": metrics["baseline_nll_per_step"]},
                "min",
            ),
            f"sample: {len(events.split())} events, {steps / self.steps_per_quarter:g} "
            "quarter notes, logged as samples/generated.mid",
        ]
        return Report(
            metrics=metrics,
            figures={"generated_piano_roll": figure},
            texts={"samples/generated.txt": events + "\n"},
            files={"samples/generated.mid": midi},
            summary=summary,
        )

    def compose(self, model, prime: str, length: int, temperature: float, rng):
        """Generate ``length`` events (melody) or steps (roll) after ``prime``.

        Returns the generated events as text, and the notes and length in steps of prime +
        continuation.
        """
        from seqapps_music.generation import generate_roll, generate_tokens

        default_steps = self.steps_per_quarter  # a bare "C4" lasts a quarter note
        if self.representation == "melody":
            try:
                events = [encoding.parse_event(e, default_steps) for e in prime.split()]
            except ValueError as error:
                raise UserInputError(f"prime {prime!r}: {error}") from None
            tokens = [encoding.token_of(pitch, steps) for pitch, steps in events]
            unknown = [t for t in tokens if t not in self.vocabulary]
            if unknown:
                raise UserInputError(
                    f"prime {prime!r}: {', '.join(unknown)} never occurred in training; "
                    f"known events include {', '.join(self.vocabulary.items[4:12])}"
                )
            index = self.vocabulary.index
            ids = [index[START], *(index[t] for t in tokens)]
            banned = [PAD, UNKNOWN, index[START], index[END]]
            generated = generate_tokens(model, ids, length, temperature, rng, banned)
            continuation = [self.vocabulary.items[i] for i in generated]
            notes, steps = encoding.tokens_to_notes(tokens + continuation)
            return " ".join(continuation), notes, steps
        silent = np.zeros((1, encoding.KEYS), np.uint8)
        try:
            primed = encoding.roll_from_events(prime, default_steps) if prime.strip() else None
        except ValueError as error:
            raise UserInputError(f"prime {prime!r}: {error}") from None
        start = silent if primed is None else np.concatenate([silent, primed])
        generated = generate_roll(model, start, length, temperature, rng)
        roll = np.concatenate([start[1:], generated])
        return encoding.roll_events(generated), encoding.roll_to_notes(roll), len(roll)

    def export_model(self, model, data):
        """The trained model; `predict` samples from it step by step."""
        return model

    def export_metadata(self, data) -> dict[str, Any]:
        """Representation, grid and event vocabulary needed to generate."""
        metadata = {
            "classes": [],
            "representation": self.representation,
            "steps_per_quarter": self.steps_per_quarter,
            "normalize_key": self.normalize_key,
            "max_length": self.max_length,
        }
        if self.representation == "melody":
            metadata["events"] = self.vocabulary.items[2:]
        return metadata

    def evaluate(self, model, metadata, source, options) -> Report:
        """Exact NLL per step, perplexity and accuracy on a folder of MIDI/MusicXML pieces."""
        self._restore(metadata)
        paths, description = source_files(source)
        pieces = read_pieces(paths, self.steps_per_quarter, default_cache_dir())
        if not pieces:
            raise DataError(f"--data {description}: no usable pieces")
        if metadata.get("normalize_key", True):
            pieces = [transpose(p, shift_to_c(p.notes())) or p for p in pieces]
        if self.representation == "melody":
            encoded = [self._token_ids(encoding.melody_tokens(p)) for p in pieces]
        else:
            silent = np.zeros((1, encoding.KEYS), np.uint8)
            encoded = [np.concatenate([silent, encoding.piano_roll(p)]) for p in pieces]
        examples = list(self._windows(encoded, metadata.get("max_length", 256)))
        metrics = self.evaluate_exactly(model, examples)
        return Report(metrics=metrics, summary=[f"{len(pieces)} pieces of {description}"])

    def serving_columns(self, metadata: dict[str, Any]) -> dict[str, str]:
        """One prime per row (an empty prime composes from scratch)."""
        return {"prime": "string"}

    def example_table(self, data, metadata: dict[str, Any]) -> dict[str, list]:
        """A prime of the model's own vocabulary (melody) or none (piano roll)."""
        events = [e for e in metadata.get("events", []) if not e.startswith("<")]
        if metadata["representation"] == "melody" and len(events) >= 3:
            return {"prime": [" ".join(events[:3])]}
        return {"prime": [""]}

    def _restore(self, metadata: dict[str, Any]) -> None:
        self.representation = metadata["representation"]
        self.steps_per_quarter = metadata["steps_per_quarter"]
        if self.representation == "melody":
            self.vocabulary = Vocabulary(metadata["events"])

    def predict(
        self,
        model,
        metadata: dict[str, Any],
        inputs: list[str],
        length: int = 64,
        temperature: float = 1.0,
        seed: int = 0,
    ) -> list[dict[str, Any]]:
        """One generated piece per prime (no prime: one piece from scratch)."""
        if length < 1:
            raise UserInputError(f"--length {length}: expected at least 1")
        if temperature < 0:
            raise UserInputError(f"--temperature {temperature}: expected 0 or more")
        self._restore(metadata)
        rng = np.random.default_rng(seed)
        rows, self.composed = [], []
        for number, prime in enumerate(inputs or [""], 1):
            events, notes, steps = self.compose(model, prime, length, temperature, rng)
            self.composed.append((notes, steps))
            rows.append(
                {
                    "piece": number,
                    "prime": prime,
                    "quarters": steps / self.steps_per_quarter,
                    "events": events,
                }
            )
        return rows

    def write_predictions(self, rows: list[dict[str, Any]], path: Path) -> None:
        """MIDI for .mid/.midi (one file per piece: song.mid, song-2.mid, ...), else text."""
        if path.suffix.lower() in (".mid", ".midi"):
            for number, (notes, steps) in enumerate(self.composed, 1):
                name = path.name if number == 1 else f"{path.stem}-{number}{path.suffix}"
                path.with_name(name).write_bytes(write_midi([notes], steps, self.steps_per_quarter))
            return
        lines = [f"{row['prime']} | {row['events']}".strip(" |") for row in rows]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _assign(names: list[str], config) -> dict[str, str]:
    """The split of each piece: by a hash of its name, or fold ``config.fold`` of
    ``config.folds`` (whole pieces held out in turn)."""
    options = config.options
    if not config.folds:
        return split_groups(names, options["validation_fraction"], options["test_fraction"])
    pieces = {"train": sorted(set(names)), "validation": [], "test": []}
    folded = fold_splits(
        pieces, config.folds, config.fold, config.seed, options["validation_fraction"], str
    )
    return {name: split for split, held in folded.items() for name in held}


def _check_piece_count(description: str, count: int, detail: str = "") -> None:
    if count < 3 or detail:
        raise DataError(
            f"--data {description}: {count} usable piece(s); at least 3 are needed "
            f"(train, validation and test are split by piece{detail})"
        )
