"""Speech: spoken-word recognition (many-to-one) and short speech-to-text with CTC.

    seqapps run speech --arch bilstm                          # embedded synthesized voices
    seqapps run speech --data speech_commands/ --arch gru     # ROOT/<word>/*.wav
    seqapps run speech --arch bilstm --set mode=ctc           # characters, CTC loss
    seqapps predict RUN_ID yes.wav no.wav

Audio is decoded, cut to a fixed duration and turned into log-mel features inside tf.data;
augmentation touches the training split only. Speakers never straddle splits, so the test
accuracy is the accuracy on voices the model has never heard.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from seqapps.api import (
    TAGGING,
    ConfigError,
    DataBundle,
    DataError,
    Option,
    Report,
    Spec,
    Task,
    cap_splits,
    check_not_empty,
    fingerprint_rows,
    import_tensorflow,
    label_confusion,
    load_tfds,
    parse_source,
    verdict_line,
)
from seqapps.api import (
    accuracy as accuracy_of,
)
from seqapps_speech import sources
from seqapps_speech.augment import AugmentSettings
from seqapps_speech.baseline import frame_statistics, most_frequent_transcript, word_baselines
from seqapps_speech.features import FeatureSettings
from seqapps_speech.frontend import conv_frontend
from seqapps_speech.scoring import error_rate, greedy_decode

SPLITS = sources.SPLITS
MODES = ("words", "ctc")


class SpeechTask(Task):
    """Recognize a spoken word from WAV audio, or transcribe a short utterance (CTC)."""

    name = "speech"
    summary = "Spoken-word recognition from WAV audio; speech-to-text with CTC (--set mode=ctc)"
    kind = "classify"
    default_arch = "bilstm"
    data_sources = (
        "sample (default: synthesized voices, offline)",
        "FOLDER in the Speech Commands layout (FOLDER/<word>/*.wav)",
        "PATH.csv manifest with columns path,transcript (mode=ctc)",
        "tfds:speech_commands",
    )
    options = {
        "mode": Option(
            "words",
            "words (one label per clip) or ctc (character transcripts, CTC loss)",
            MODES,
        ),
        "sample_rate": Option(
            16000, "rate every file must have (Hz); files at another rate are refused"
        ),
        "duration": Option(
            0.0, "seconds per clip, padded or trimmed; 0 = 1.0 for words, 1.5 for ctc"
        ),
        "mel_bins": Option(40, "log-mel channels per 10 ms frame (25 ms window)"),
        "mfcc": Option(0, "0 = log-mel features; N = the first N MFCCs instead"),
        "normalize": Option(
            "utterance",
            "utterance (each channel over the clip: robust to new voices and microphones) "
            "or dataset (training-set mean and variance)",
            ("utterance", "dataset"),
        ),
        "augment": Option(
            True, "time shift, background noise and SpecAugment masks on training clips"
        ),
        "augment_domain": Option(
            "waveform",
            "waveform (shift and noise on the audio, then an STFT per clip per epoch: the most "
            "accurate) or mel (on cached mel power: an input pipeline >10x cheaper, for when "
            "the pipeline holds training back)",
            ("waveform", "mel"),
        ),
        "shift_ms": Option(100.0, "largest random time shift"),
        "snr_db": Option(15.0, "signal-to-noise ratio of added background noise (+- 5 dB)"),
        "spec_masks": Option(2, "SpecAugment: time masks and frequency masks per clip (each)"),
        "warp": Option(
            0.0,
            "largest relative stretch of each training clip's features in time and along the "
            "mel axis (speaking rate, vocal-tract length): 0.15 = factors 0.85-1.15",
        ),
        "frontend": Option(
            "none",
            "none (features straight into the arch) or conv (two 3x3 convolution blocks over "
            "time and mel bands first: a pattern that moves with a new voice's pitch is the "
            "same filter's)",
            ("none", "conv"),
        ),
        "validation_fraction": Option(0.1, "share of speakers for validation (no list files)"),
        "test_fraction": Option(0.1, "share of speakers for testing (no list files)"),
        "sample_speakers": Option(30, "voices in the embedded sample"),
        "sample_repeats": Option(2, "times each voice says each word (words) or x10 phrases (ctc)"),
    }
    defaults = {"epochs": 40, "batch_size": 32, "patience": 8, "learning_rate": 2e-3}
    headline_metrics = ("test_accuracy", "test_cer", "test_wer")
    cross_validation = "grouped by speaker: each fold holds out whole speakers"
    metric_goals = {"cer": "min", "wer": "min"}

    # -- data ---------------------------------------------------------------------------

    def _settings(self, options: dict[str, Any]) -> None:
        self.mode = options["mode"]
        if not 0 <= options["mfcc"] <= options["mel_bins"]:
            raise ConfigError(
                f"--set mfcc={options['mfcc']}: expected 0..mel_bins ({options['mel_bins']})"
            )
        if not 0 <= options["warp"] < 0.5:
            raise ConfigError(f"--set warp={options['warp']}: expected 0 (off) up to 0.5")
        if options["sample_rate"] < 8000:
            raise ConfigError(f"--set sample_rate={options['sample_rate']}: expected at least 8000")
        duration = options["duration"] or (1.0 if self.mode == "words" else 1.5)
        self.features = FeatureSettings(
            sample_rate=options["sample_rate"],
            duration=duration,
            mel_bins=options["mel_bins"],
            upper_hz=min(7600.0, options["sample_rate"] / 2),
            mfcc=options["mfcc"],
            normalize=options["normalize"],
        )
        self.augmentation = (
            AugmentSettings(
                options["shift_ms"],
                options["snr_db"],
                0.8,
                options["spec_masks"],
                options["augment_domain"],
                options["warp"],
            )
            if options["augment"]
            else None
        )

    @classmethod
    def arch_kind(cls, config=None) -> str:
        """Words: many-to-one. CTC: tagging, one output per frame for the CTC loss."""
        if config is not None and config.options.get("mode") == "ctc":
            return TAGGING
        return super().arch_kind(config)

    def load_data(self, config) -> DataBundle:
        """Read and check every clip, split by speaker, decode and featurize in tf.data."""
        options = config.options
        self._settings(options)
        source = parse_source(config.data)
        rate = self.features.sample_rate
        fractions = (options["validation_fraction"], options["test_fraction"])
        self.noise = []
        if source.kind == "sample":
            splits, self.noise = sources.synthesized(
                self.mode,
                options["sample_speakers"],
                options["sample_repeats"],
                self.features.duration,
                rate,
                config.seed,
                *fractions,
            )
            description = "sample"
        elif source.kind == "tfds":
            if config.folds:
                raise ConfigError(
                    f"--folds {config.folds}: tfds:{source.value} comes with fixed splits; fold "
                    "a Speech Commands folder or a manifest instead"
                )
            return self._load_tfds(source.value, config)
        else:
            path = Path(source.value).expanduser()
            if path.is_dir():
                splits, self.noise = sources.speech_commands_folder(path, rate, *fractions)
            elif path.is_file() and path.suffix.lower() == ".csv":
                splits = sources.manifest(path, rate, *fractions)
            elif not path.exists():
                raise DataError(f"--data {source.value}: no such file or folder")
            else:
                raise DataError(
                    f"--data {source.value}: expected a folder (FOLDER/<word>/*.wav) or a "
                    "CSV manifest (path,transcript)"
                )
            description = str(path)
        if config.folds:
            splits = self._fold(splits, config, path if source.kind != "sample" else None)
        splits = cap_splits(splits, config.max_samples, config.seed)
        check_not_empty(splits, description)
        self.speakers = {s: sorted({u.speaker for u in splits[s]}) for s in SPLITS}
        self._fit_targets([u.target for u in splits["train"]], description)
        for split in ("validation", "test"):
            self._check_targets([u.target for u in splits[split]], split, description)
        tf = import_tensorflow()
        waveforms = {s: self._waveforms(tf, splits[s]) for s in SPLITS}
        targets = {s: [u.target for u in splits[s]] for s in SPLITS}
        rows = [(s, u.name, u.target) for s in SPLITS for u in splits[s]]
        return self._bundle(tf, waveforms, targets, description, fingerprint_rows(rows))

    @staticmethod
    def _fold(splits, config, path: Path | None):
        """The splits of fold ``config.fold``: whole speakers held out in turn."""
        from seqapps.api import fold_splits

        lists = [name for name in sources.LIST_FILES.values() if path and (path / name).is_file()]
        if lists:
            raise ConfigError(
                f"--folds {config.folds}: {path / lists[0]} fixes the held-out speakers; "
                "fold a folder without split lists"
            )
        fraction = config.options["validation_fraction"]
        return fold_splits(
            splits, config.folds, config.fold, config.seed, fraction, lambda u: u.speaker
        )

    def _load_tfds(self, name: str, config) -> DataBundle:
        if name != "speech_commands":
            raise DataError(f"--data tfds:{name}: the speech task reads tfds:speech_commands")
        if self.mode != "words":
            raise DataError("--data tfds:speech_commands has no transcripts; use mode=words")
        tf = import_tensorflow()
        datasets, info = load_tfds(name, config.data_dir, ["train", "validation", "test"])
        names = info.features["label"].names
        samples = self.features.samples
        waveforms, targets = {}, {}
        labels = {
            split: [names[int(x)] for x in dataset.map(lambda ex: ex["label"]).as_numpy_iterator()]
            for split, dataset in zip(SPLITS, datasets)
        }
        # --max-samples as for every task: the same seeded choice of each split's examples.
        everything = {split: np.arange(len(labels[split])) for split in SPLITS}
        kept = cap_splits(everything, config.max_samples, config.seed)
        for split, dataset in zip(SPLITS, datasets):
            dataset = _only(tf, dataset, kept[split])
            targets[split] = [labels[split][i] for i in kept[split]]
            waveforms[split] = dataset.map(
                lambda ex: _fixed(tf, tf.cast(ex["audio"], tf.float32) / 32768.0, samples),
                num_parallel_calls=tf.data.AUTOTUNE,
            )
        self.speakers = {s: [] for s in SPLITS}
        self._fit_targets(targets["train"], f"tfds:{name}")
        rows = [(s, len(targets[s])) for s in SPLITS]
        return self._bundle(
            tf, waveforms, targets, f"tfds:{name} {info.version}", fingerprint_rows(rows)
        )

    def _fit_targets(self, train_targets: list[str], description: str) -> None:
        if self.mode == "words":
            self.classes = sorted(set(train_targets))
            if len(self.classes) < 2:
                raise DataError(
                    f"--data {description}: one word only ({self.classes[0]!r}); need two or more"
                )
        else:
            self.chars = sorted({c for t in train_targets for c in t})

    def _check_targets(self, targets: list[str], split: str, description: str) -> None:
        known = set(self.classes) if self.mode == "words" else set(self.chars)
        seen = set(targets) if self.mode == "words" else {c for t in targets for c in t}
        unseen = sorted(seen - known)
        if unseen:
            what = "words" if self.mode == "words" else "characters"
            raise DataError(
                f"--data {description}: {what} {unseen} occur in the {split} split but never "
                "in training"
            )

    def _waveforms(self, tf, utterances):
        """Fixed-length mono float waveforms, decoded from WAV bytes or files in tf.data."""
        from seqapps_speech.features import decode_wav

        if isinstance(utterances[0].audio, bytes):
            contents = tf.data.Dataset.from_tensor_slices([u.audio for u in utterances])
        else:
            paths = tf.data.Dataset.from_tensor_slices([str(u.audio) for u in utterances])
            contents = paths.map(tf.io.read_file, num_parallel_calls=tf.data.AUTOTUNE)
        samples = self.features.samples
        return contents.map(
            lambda c: _fixed(tf, decode_wav(c), samples), num_parallel_calls=tf.data.AUTOTUNE
        )

    def _encode(self, tf, targets: list[str]):
        if self.mode == "words":
            index = {c: i for i, c in enumerate(self.classes)}
            return tf.data.Dataset.from_tensor_slices(
                np.array([index[t] for t in targets], np.int32)
            )
        index = {c: i + 1 for i, c in enumerate(self.chars)}  # 0 is the CTC blank
        encoded = [[index[c] for c in t] for t in targets]
        lengths = np.array([len(ids) for ids in encoded], np.int32)
        padded = np.zeros((len(encoded), max(lengths)), np.int32)
        for row, ids in enumerate(encoded):
            padded[row, : len(ids)] = ids
        # Plain tensors of each transcript's own length (padded_batch cannot batch ragged ones).
        return tf.data.Dataset.from_tensor_slices((padded, lengths)).map(lambda ids, n: ids[:n])

    def _bundle(self, tf, waveforms, targets, description, fingerprint) -> DataBundle:
        from seqapps_speech.augment import cached_form, noise_bank
        from seqapps_speech.features import features

        self.mean = self.std = None
        if self.features.normalize == "dataset":
            self.mean, self.std = _training_statistics(tf, waveforms["train"], self.features)
        mean, std, settings = self.mean, self.std, self.features
        augmentation = self.augmentation
        if augmentation is not None:
            self.noise_bank = noise_bank(self.noise, settings, augmentation)
        datasets = {}
        for split in SPLITS:
            pairs = tf.data.Dataset.zip((waveforms[split], self._encode(tf, targets[split])))
            if split == "train" and augmentation is not None:
                # Cached by the core as is; augment() finishes the features per epoch.
                pairs = pairs.map(
                    lambda w, t: (cached_form(w, settings, augmentation), t),
                    num_parallel_calls=tf.data.AUTOTUNE,
                )
            else:
                pairs = pairs.map(
                    lambda w, t: (features(w, settings, mean, std), t),
                    num_parallel_calls=tf.data.AUTOTUNE,
                )
            datasets[split] = pairs
        self.test_targets, self.test_features = targets["test"], datasets["test"]
        # For the baselines: the training clips' plain features (no augmentation).
        self.train_targets = targets["train"]
        self.train_clean_features = waveforms["train"].map(
            lambda w: features(w, settings, mean, std), num_parallel_calls=tf.data.AUTOTUNE
        )
        self.validation_targets = targets["validation"]
        self.validation_features = datasets["validation"]
        sizes = {s: len(targets[s]) for s in SPLITS}
        sizes.update({f"{s}_speakers": len(self.speakers[s]) for s in SPLITS if self.speakers[s]})
        spec = Spec(
            classes=self.classes if self.mode == "words" else self.chars,
            sequence_length=self.features.frames,
            features=self.features.channels,
            extra={"mode": self.mode},
        )
        return DataBundle.from_splits(datasets, spec, description, fingerprint, sizes)

    def augment(self, batches, seed):
        """Finish training batches' features after time shift, noise and SpecAugment."""
        import tensorflow as tf

        from seqapps_speech.augment import augmenter

        if self.augmentation is None:
            return batches  # featurized before caching, like the evaluation splits
        apply = augmenter(self.features, self.augmentation, self.noise_bank, self.mean, self.std)
        # Each batch's draws are seeded by (the epoch's seed, its index): the core passes a
        # new seed every epoch, so every epoch hears new variants, reproducibly.
        seed = tf.cast(seed, tf.int64)
        return batches.enumerate().map(
            lambda index, batch: apply(batch[0], batch[1], tf.stack([seed, index])),
            num_parallel_calls=tf.data.AUTOTUNE,
        )

    def batch(self, dataset, batch_size: int):
        """Clips have one length; CTC transcripts are padded with the blank (0)."""
        if self.mode == "ctc":
            return dataset.padded_batch(batch_size)
        return dataset.batch(batch_size)

    # -- model --------------------------------------------------------------------------

    def build_model(self, spec, arch, config):
        """Feature frames -> the arch's encoder -> a word softmax, or per-frame character
        scores for CTC."""
        import keras

        from seqapps.api import classification_head, encoder_settings

        inputs = keras.Input(shape=(spec.sequence_length, spec.features), name="features")
        x = inputs
        if config.options["frontend"] == "conv":
            x = conv_frontend(x, pool_time=spec.extra["mode"] != "ctc")
        if spec.extra["mode"] == "ctc":
            x = arch.build_encoder(x, encoder_settings(config), self.arch_kind(config))
            outputs = keras.layers.Dense(len(spec.classes) + 1, dtype="float32", name="characters")(
                x
            )  # logits: CTC normalizes itself
        else:
            x = arch.build_encoder(x, encoder_settings(config), self.arch_kind(config))
            outputs = classification_head(x, len(spec.classes), name="words")
        return keras.Model(inputs, outputs, name=f"speech_{arch.name}")

    def loss_and_metrics(self, spec):
        """Cross-entropy and accuracy (words) or CTC loss (ctc: error rates in the report)."""
        import keras

        if spec.extra["mode"] == "ctc":
            return keras.losses.CTC(), []
        return keras.losses.SparseCategoricalCrossentropy(), [
            keras.metrics.SparseCategoricalAccuracy(name="accuracy")
        ]

    # -- after training -----------------------------------------------------------------

    def _outputs(self, model, dataset):
        batches = dataset.map(lambda x, t: x).batch(64)
        features = np.concatenate(list(batches.as_numpy_iterator()))
        return features, model.predict(features, verbose=0)

    def validation_metrics(self, model) -> dict[str, float]:
        """CTC: the character error rate on the validation clips after every epoch (val_cer);
        CTC's loss falls long before the transcripts get better, so this is the figure to
        watch. Words mode: none (val_accuracy says it)."""
        if self.mode != "ctc":
            return {}
        _, outputs = self._outputs(model, self.validation_features)
        return {"cer": error_rate(self.validation_targets, self.transcribe(outputs), "char")}

    def transcribe(self, logits: np.ndarray) -> list[str]:
        """Greedy CTC transcripts of a batch of (frames, characters + 1) scores."""
        return ["".join(self.chars[k - 1] for k in greedy_decode(row)) for row in logits]

    def report(self, model, data, config) -> Report:
        """Words: per-word accuracy and confusions. CTC: CER, WER and sample transcripts.
        Both: spectrograms of a few test clips."""
        from seqapps.api import plots
        from seqapps_speech.figures import spectrograms

        features, outputs = self._outputs(model, self.test_features)
        truth = self.test_targets
        shown = range(min(4, len(truth)))
        if self.mode == "ctc":
            heard = self.transcribe(outputs)
            metrics = {
                "cer": error_rate(truth, heard, "char"),
                "wer": error_rate(truth, heard, "word"),
            }
            guess = most_frequent_transcript(self.train_targets)
            metrics["baseline_cer"] = error_rate(truth, [guess] * len(truth), "char")
            metrics["baseline_wer"] = error_rate(truth, [guess] * len(truth), "word")
            verdict = verdict_line(
                "CER", metrics["cer"], {f"always {guess!r}": metrics["baseline_cer"]}, "min"
            )
            samples = "".join(f"{t!r} -> {h!r}\n" for t, h in zip(truth[:30], heard[:30]))
            titles = [f"said {truth[i]!r}, heard {heard[i]!r}" for i in shown]
            summary = [
                f"transcribed {len(truth)} test clips of unseen speakers: "
                f"CER {metrics['cer']:.3f}, WER {metrics['wer']:.3f}",
                verdict,
            ]
            return Report(
                metrics=metrics,
                figures={"spectrograms": spectrograms([features[i] for i in shown], titles, 10.0)},
                texts={"samples/transcripts.txt": samples},
                summary=summary,
            )
        guess = [self.classes[i] for i in outputs.argmax(axis=-1)]
        matrix = label_confusion(truth, guess, self.classes)
        lines = ["word,accuracy,clips"]
        for i, word in enumerate(self.classes):
            clips = matrix[i].sum()
            right = matrix[i, i] / clips if clips else float("nan")
            lines.append(f"{word},{right:.4f},{clips}")
        accuracy = accuracy_of(matrix)
        titles = [f"{truth[i]!r}, recognized {guess[i]!r}" for i in shown]
        chance = 1 / len(self.classes)
        baselines = word_baselines(
            frame_statistics(self.train_clean_features.batch(256).as_numpy_iterator()),
            self.train_targets,
            frame_statistics([features]),
            truth,
            self.classes,
        )
        verdict = verdict_line(
            "accuracy",
            accuracy,
            {"majority": baselines["majority"], "frame statistics": baselines["frame_statistics"]},
            "max",
        )
        return Report(
            metrics={
                "word_accuracy": accuracy,
                **{f"baseline_{name}_accuracy": value for name, value in baselines.items()},
            },
            figures={
                "confusion_matrix": plots.confusion_matrix(matrix, self.classes),
                "spectrograms": spectrograms([features[i] for i in shown], titles, 10.0),
            },
            texts={"per_word.csv": "\n".join(lines) + "\n"},
            summary=[
                f"recognized {len(truth)} test clips of {len(self.speakers['test']) or 'held-out'} "
                f"unseen speakers: accuracy {accuracy:.3f} (chance {chance:.3f})",
                verdict,
            ],
        )

    def export_model(self, model, data):
        """Raw waveforms in: (batch, samples) float at the training rate, features inside."""
        import keras

        from seqapps_speech.layers import SpeechFeatures

        waveform = keras.Input(shape=(self.features.samples,), name="waveform")
        mean = None if self.mean is None else np.asarray(self.mean).tolist()
        std = None if self.std is None else np.asarray(self.std).tolist()
        x = SpeechFeatures(self.features.to_dict(), mean, std, name="log_mel_features")(waveform)
        return keras.Model(waveform, model(x), name=f"{model.name}_from_waveform")

    def export_metadata(self, data) -> dict[str, Any]:
        """What the model expects (rate, duration) and how to read its output."""
        settings = self.features
        return {
            "classes": self.classes if self.mode == "words" else [],
            "chars": self.chars if self.mode == "ctc" else [],
            "mode": self.mode,
            "sample_rate": settings.sample_rate,
            "duration": settings.duration,
            "input": f"mono 16-bit PCM WAV at {settings.sample_rate} Hz, padded or trimmed "
            f"to {settings.duration:g} s",
        }

    def evaluate(self, model, metadata, source, options) -> Report:
        """Words: accuracy on every clip of a ROOT/<label>/*.wav folder. CTC: CER and WER on
        a CSV manifest (path,transcript). Labels the model never learned count as errors."""
        from seqapps.api import plots

        path = Path(source)
        rate = metadata["sample_rate"]
        if metadata["mode"] == "ctc":
            if not (path.is_file() and path.suffix.lower() == ".csv"):
                raise DataError(f"--data {source}: CTC models are scored on a CSV manifest")
            utterances = [
                u for split in sources.manifest(path, rate, 0.0, 0.0).values() for u in split
            ]
        else:
            if not path.is_dir():
                raise DataError(f"--data {source}: expected a folder of <label>/*.wav")
            splits, _ = sources.speech_commands_folder(path, rate, 0.0, 0.0)
            utterances = [u for split in splits.values() for u in split]
        files = [str(u.audio) for u in utterances]
        truth = [u.target for u in utterances]
        rows = self.predict(model, metadata, files)
        if metadata["mode"] == "ctc":
            heard = [row["transcript"] for row in rows]
            return Report(
                metrics={
                    "cer": error_rate(truth, heard, "char"),
                    "wer": error_rate(truth, heard, "word"),
                },
                summary=[f"{len(files)} clips of {source}"],
            )
        shown = list(metadata["classes"]) + sorted(set(truth) - set(metadata["classes"]))
        matrix = label_confusion(truth, [row["word"] for row in rows], shown)
        return Report(
            metrics={"accuracy": accuracy_of(matrix)},
            figures={"confusion_matrix": plots.confusion_matrix(matrix, shown)},
            summary=[f"{len(files)} clips of {source}"],
        )

    def serving_columns(self, metadata: dict[str, Any]) -> dict[str, str]:
        """WAV files' bytes, one clip per row (base64 in a JSON request)."""
        return {"audio": "binary"}

    def inputs_from_table(self, table, metadata: dict[str, Any], scratch: Path) -> list[str]:
        """Write each row's WAV bytes to a file in ``scratch``; predict reads the files."""
        if "audio" not in table.columns:
            raise DataError(
                "the model takes a table with column 'audio' (WAV bytes); got columns "
                + ", ".join(map(str, table.columns))
            )
        paths = []
        for number, content in enumerate(table["audio"], 1):
            path = scratch / f"clip-{number}.wav"
            path.write_bytes(bytes(content))
            paths.append(str(path))
        return paths

    def example_table(self, data, metadata: dict[str, Any]) -> dict[str, list]:
        """A quiet clip of the model's rate and length, as WAV bytes."""
        from seqapps_speech.synth import wav_bytes

        samples = round(metadata["sample_rate"] * metadata["duration"])
        quiet = np.random.default_rng(0).normal(0, 1e-3, samples).astype(np.float32)
        return {"audio": [wav_bytes(quiet, metadata["sample_rate"])]}

    def predict(self, model, metadata: dict[str, Any], inputs: list[str]) -> list[dict[str, Any]]:
        """The word and its probability (words) or the transcript (ctc) of each WAV file."""
        self.mode, self.classes, self.chars = (
            metadata["mode"],
            metadata["classes"],
            metadata["chars"],
        )
        rate = metadata["sample_rate"]
        samples = round(rate * metadata["duration"])
        clips = np.zeros((len(inputs), samples), np.float32)
        for row, name in enumerate(inputs):
            path = Path(name)
            if not path.is_file():
                raise DataError(f"{name}: no such file")
            audio = sources.read_wav(path, rate)[:samples]
            clips[row, : len(audio)] = audio
        outputs = model.predict(clips, verbose=0)
        if self.mode == "ctc":
            return [{"file": n, "transcript": t} for n, t in zip(inputs, self.transcribe(outputs))]
        return [
            {"file": n, "word": self.classes[int(p.argmax())], "probability": float(p.max())}
            for n, p in zip(inputs, outputs)
        ]


def _fixed(tf, waveform, samples: int):
    from seqapps_speech.features import fix_length

    fixed = fix_length(waveform, samples)
    return tf.ensure_shape(fixed, (samples,))


def _training_statistics(tf, waveforms, settings: FeatureSettings):
    """Per-channel mean and standard deviation of the training features (no augmentation)."""
    from seqapps_speech.features import log_mel

    total = squares = count = 0
    for batch in waveforms.batch(256).map(lambda w: log_mel(w, settings)).as_numpy_iterator():
        flat = batch.reshape(-1, batch.shape[-1]).astype(np.float64)
        total, squares, count = total + flat.sum(0), squares + (flat**2).sum(0), count + len(flat)
    mean = total / count
    std = np.sqrt(np.maximum(squares / count - mean**2, 1e-10))
    return mean.astype(np.float32), std.astype(np.float32)


def _only(tf, dataset, indices):
    """The examples of ``dataset`` at ``indices`` (sorted), streamed."""
    keep = tf.constant(indices, tf.int64)
    chosen = dataset.enumerate().filter(lambda i, example: tf.reduce_any(tf.equal(i, keep)))
    return chosen.map(lambda i, example: example)
