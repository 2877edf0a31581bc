"""The shared base of tagging tasks (one tag per token): reading, encoding, model, predict.

A tagging plugin (pos, ner, a third party's) subclasses ``TaggingTask`` and writes only what
is its own: the embedded sample, and how predicted tags are scored (``score``). The pitfalls
of padded tagging are handled once, here:

- each batch is padded to its longest sentence and padding gets sample weight 0, so the loss
  is the mean over real tokens (``reduction="mean_with_sample_weight"``);
- the mask is ended (``ZeroPadding``) before the softmax head: a mask reaching the loss would
  make Keras rescale it per batch;
- no Keras accuracy is compiled: Keras averages weighted metrics per sentence before
  accumulating, which is not token accuracy; ``score`` computes exact token-level figures.
"""

from __future__ import annotations

import abc
import random
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from seqapps.data.sources import (
    existing_file,
    fingerprint_file,
    fingerprint_rows,
    load_tfds,
    parse_source,
)
from seqapps.data.splits import cap_splits, check_not_empty, fold_splits
from seqapps.data.tag_sets import map_tags, read_tag_map, warn_unseen_tags
from seqapps.data.tagging import FORMATS, Sentence, Vocabulary, detect_format, read_tagged
from seqapps.exceptions import ConfigError, DataError
from seqapps.options import Option
from seqapps.task import SPLITS, DataBundle, Report, Spec, Task
from seqapps.tensorflow_import import import_tensorflow

#: Options every tagging task has; a subclass adds its own with ``{**TAGGING_OPTIONS, ...}``.
TAGGING_OPTIONS = {
    "format": Option("auto", "file format of --data (auto reads it from the content)", FORMATS),
    "dev_file": Option("", "validation file (else split from --data by validation_fraction)"),
    "test_file": Option("", "test file (else split from --data by test_fraction)"),
    "validation_fraction": Option(0.1, "share of sentences for validation when no dev_file"),
    "test_fraction": Option(0.1, "share of sentences for testing when no test_file"),
    "min_count": Option(1, "words seen fewer times in training become <unk>"),
    "lowercase": Option(True, "lowercase words for the word vocabulary (characters keep case)"),
    "char_features": Option(False, "add a character CNN per word (helps unknown words)"),
    "word_dropout": Option(
        0.1, "in training, share of words replaced by <unk> (learns unknown words)"
    ),
    "max_word_length": Option(
        16, "characters kept per word for the character CNN (a longer word keeps its ends)"
    ),
    "char_boundaries": Option(
        False,
        "mark where each word begins and ends for the character CNN, so its filters can "
        "tell a suffix (-ing, -ly) from the same letters inside a word",
    ),
    "embedding_dim": Option(64, "size of the word embedding"),
    "char_dim": Option(24, "size of the character embedding"),
    "char_filters": Option(48, "character CNN filters per width"),
    "char_widths": Option("3", "characters each CNN filter sees, comma-separated (3,4,5)"),
    "sample_sentences": Option(2000, "sentences in the embedded sample"),
    "tag_map": Option("", "file of OLD<TAB>NEW lines: tags renamed or merged in every split"),
}

#: What ``export_metadata`` saves and ``restore`` reads back in a fresh process.
_SETTINGS = ("lowercase", "char_features", "max_word_length", "char_boundaries")
#: Models saved before a setting existed behave as they were trained: its old value.
_SETTINGS_BEFORE = {"char_boundaries": False}
#: The characters that mark a word's start and end (control characters text never holds).
WORD_START, WORD_END = "\x02", "\x03"


#: Length buckets hold at least this many full batches each, so few batches are partial
#: (a small sample keeps plain padded batches: buckets of it would be mostly partial).
BATCHES_PER_BUCKET = 25
MOST_BUCKETS = 8


def _widths(text: str) -> list[int]:
    """``--set char_widths=3,4,5`` as a list of positive ints."""
    try:
        widths = [int(part) for part in str(text).split(",")]
    except ValueError:
        widths = []
    if not widths or min(widths) < 1:
        raise ConfigError(f"--set char_widths={text}: expected widths like 3 or 3,4,5")
    return widths


def length_buckets(lengths: list[int], batch_size: int) -> tuple[int, ...]:
    """Bucket bounds at quantiles of the training sentence lengths; () when too few."""
    ordered = sorted(lengths)
    count = min(MOST_BUCKETS, len(ordered) // (BATCHES_PER_BUCKET * batch_size))
    if count < 2:
        return ()
    cuts = {ordered[len(ordered) * k // count] for k in range(1, count)}
    return tuple(sorted(c for c in cuts if c > ordered[0]))


class TaggingTask(Task):
    """A task that tags every token of a sentence; subclasses provide the sample and ``score``."""

    kind = "tag"
    default_arch = "bilstm"
    options: ClassVar[dict[str, Option]] = TAGGING_OPTIONS
    defaults: ClassVar[dict[str, Any]] = {"epochs": 15, "dropout": 0.25, "batch_size": 32}
    #: The tag feature read from ``tfds:conll2003`` (pos, chunks or ner).
    tfds_tags: ClassVar[str] = "pos"
    #: The column of a CoNLL-2003 file learned when --set tag_column is not given.
    conll2003_column: ClassVar[str] = "ner"
    cross_validation: ClassVar[str | None] = "by sentence, from one file (no dev_file/test_file)"
    #: A sentence for the logged model's input example.
    example_sentence: ClassVar[str] = "the old man saw a dog in the park"

    # -- what a subclass provides -------------------------------------------------------

    def sample_splits(self, counts: dict[str, int], seed: int) -> dict[str, list[Sentence]]:
        """The embedded sample: ``counts[split]`` sentences for each split."""
        raise DataError(f"--data sample: task {self.name!r} has no embedded sample; give a file")

    @abc.abstractmethod
    def score(self, sentences: list[Sentence], predicted: list[list[str]], known) -> Report:
        """Metrics (and figures, files) for predicted tags against the gold ``sentences``.

        ``known`` holds the words the model was trained on (``word in known``), for
        unknown-word figures. ``report`` and ``evaluate`` both call this.
        """

    # -- data ---------------------------------------------------------------------------

    def read_splits(self, config) -> tuple[dict[str, list[Sentence]], str, str]:
        """Sentences of each split, a description of the source and its fingerprint."""
        source = parse_source(config.data)
        if config.folds and (
            source.kind != "path" or any(config.options[key] for key in ("dev_file", "test_file"))
        ):
            raise ConfigError(
                f"--folds {config.folds}: folds are cut from one file of sentences (--data "
                "FILE without dev_file/test_file)"
            )
        if source.kind == "sample":
            total = config.options["sample_sentences"]
            counts = {"train": total - 2 * (total // 10)}
            counts.update(validation=total // 10, test=total // 10)
            splits = self.sample_splits(counts, config.seed)
            rows = ((s, " ".join(x.tokens), " ".join(x.tags)) for s in splits for x in splits[s])
            return splits, "sample", fingerprint_rows(rows)
        if source.kind == "tfds":
            return self._read_tfds(source.value, config)
        return self._read_files(existing_file(source.value), config)

    def _read_file(self, path: Path, options) -> list[Sentence]:
        file_format = options.get("format", "auto")
        if file_format == "auto":
            file_format = detect_format(path)
        column = options.get("tag_column") or None
        if file_format == "conll2003":
            column = column or self.conll2003_column
        return read_tagged(path, column, file_format)

    def _read_files(self, path: Path, config):
        options = config.options
        sentences = self._read_file(path, options)
        fingerprint = fingerprint_file(path)
        splits: dict[str, list[Sentence] | None] = {"train": sentences}
        for split, key in (("validation", "dev_file"), ("test", "test_file")):
            splits[split] = None
            if options[key]:
                extra = existing_file(options[key])
                splits[split] = self._read_file(extra, options)
                fingerprint = fingerprint_rows([(fingerprint, fingerprint_file(extra))])
        pending = [s for s in ("validation", "test") if splits[s] is None]
        if config.folds:
            none = {"validation": [], "test": []}
            fraction = options["validation_fraction"]
            folded = fold_splits(
                {"train": sentences, **none}, config.folds, config.fold, config.seed, fraction
            )
            return folded, str(path), fingerprint
        if pending:  # cut the missing splits from the training file, by whole sentences
            order = list(range(len(sentences)))
            random.Random(config.seed).shuffle(order)
            taken = 0
            for split in pending:
                count = max(1, round(len(sentences) * options[f"{split}_fraction"]))
                splits[split] = [sentences[i] for i in order[taken : taken + count]]
                taken += count
            splits["train"] = [sentences[i] for i in sorted(order[taken:])]
        return splits, str(path), fingerprint

    def _read_tfds(self, name: str, config):
        if name != "conll2003":
            raise DataError(f"--data tfds:{name}: the {self.name} task reads tfds:conll2003")
        datasets, info = load_tfds(name, config.data_dir, ["train", "dev", "test"])
        names = info.features[self.tfds_tags].feature.names
        splits = {}
        for split, dataset in zip(SPLITS, datasets):
            splits[split] = [
                Sentence(
                    [t.decode("utf-8") for t in ex["tokens"]],
                    [names[int(i)] for i in ex[self.tfds_tags]],
                )
                for ex in dataset.as_numpy_iterator()
            ]
        rows = ((s, " ".join(x.tokens)) for s in splits for x in splits[s])
        return splits, f"tfds:{name} {info.version}", fingerprint_rows(rows)

    def load_data(self, config) -> DataBundle:
        """Read, check, build vocabularies on the training split, encode every sentence."""
        splits, description, fingerprint = self.read_splits(config)
        options = config.options
        if options["tag_map"]:
            splits = map_tags(splits, read_tag_map(options["tag_map"]))
        splits = cap_splits(splits, config.max_samples, config.seed)
        check_not_empty(splits, description)
        train_tags = {tag for s in splits["train"] for tag in s.tags}
        origins = {
            "validation": options["dev_file"] or f"--data {description}",
            "test": options["test_file"] or f"--data {description}",
        }
        self.unseen_tags = warn_unseen_tags(splits, origins)
        _widths(options["char_widths"])  # a bad value is named before anything trains
        for key in _SETTINGS:
            setattr(self, key, options[key])
        self.words = Vocabulary.fit(
            ([self.word(t) for t in s.tokens] for s in splits["train"]), options["min_count"]
        )
        self.chars = Vocabulary.fit(self.spelled(t) for s in splits["train"] for t in s.tokens)
        self.tags = sorted(train_tags)
        self.length_buckets = length_buckets(
            [len(s.tokens) for s in splits["train"]], config.batch_size
        )
        self._fit_baseline(splits["train"])
        self.validation_sentences, self.test_sentences = splits["validation"], splits["test"]
        tf = import_tensorflow()
        datasets = {split: self._dataset(tf, splits[split]) for split in SPLITS}
        sizes = {split: len(splits[split]) for split in SPLITS}
        sizes["test_tokens"] = sum(len(s.tokens) for s in splits["test"])
        spec = Spec(
            classes=self.tags, vocabulary_size=len(self.words), extra={"chars": len(self.chars)}
        )
        return DataBundle.from_splits(datasets, spec, description, fingerprint, sizes)

    def _fit_baseline(self, sentences: list[Sentence]) -> None:
        from collections import Counter, defaultdict

        by_word: dict[str, Counter] = defaultdict(Counter)
        overall: Counter = Counter()
        for sentence in sentences:
            for token, tag in zip(sentence.tokens, sentence.tags):
                by_word[self.word(token)][tag] += 1
                overall[tag] += 1
        # Ties go to the alphabetically first tag, so the baseline is the same every run.
        pick = lambda counts: min(counts, key=lambda tag: (-counts[tag], tag))  # noqa: E731
        self.tag_of_word = {word: pick(counts) for word, counts in by_word.items()}
        self.commonest_tag = pick(overall)

    def word(self, token: str) -> str:
        """The form of ``token`` looked up in the word vocabulary."""
        return token.lower() if self.lowercase else token

    def spelled(self, token: str) -> str:
        """The characters the character CNN reads: at most ``max_word_length``; with
        ``char_boundaries``, within start/end marks, and the two ends of a longer word kept
        (its affixes)."""
        if not self.char_boundaries:  # as models before the marks read words
            return token[: self.max_word_length]
        room = self.max_word_length - 2
        if len(token) > room:
            head = (room + 1) // 2
            token = token[:head] + token[len(token) - (room - head) :]
        return f"{WORD_START}{token}{WORD_END}"

    def encode(self, tokens: list[str]) -> dict[str, np.ndarray]:
        """Word ids and (with char features) character ids for one sentence."""
        encoded = {"words": np.array(self.words.encode(self.word(t) for t in tokens), "int32")}
        if self.char_features:
            chars = np.zeros((len(tokens), self.max_word_length), "int32")
            for i, token in enumerate(tokens):
                ids = self.chars.encode(self.spelled(token))
                chars[i, : len(ids)] = ids
            encoded["chars"] = chars
        return encoded

    def _dataset(self, tf, sentences: list[Sentence]):
        index = {tag: i for i, tag in enumerate(self.tags)}
        inputs = {"words": tf.TensorSpec((None,), tf.int32)}
        if self.char_features:
            inputs["chars"] = tf.TensorSpec((None, self.max_word_length), tf.int32)
        signature = (inputs, tf.TensorSpec((None,), tf.int32), tf.TensorSpec((None,), tf.float32))

        def examples():
            for sentence in sentences:
                # A tag training never showed has no output: weight 0 in the loss, and the
                # task's own scores count the token as wrong.
                tags = np.array([index.get(t, 0) for t in sentence.tags], "int32")
                weights = np.array([t in index for t in sentence.tags], "float32")
                yield self.encode(sentence.tokens), tags, weights

        return tf.data.Dataset.from_generator(examples, output_signature=signature)

    def batch(self, dataset, batch_size: int):
        """Each batch padded to its longest sentence (padded steps get weight 0). On a corpus
        large enough, sentences of similar length are batched together (``length_buckets``),
        so a 60-token sentence no longer makes 31 short ones run 60 steps. The batches per
        epoch do not depend on the order (each bucket ends with one partial batch), which
        exact resume needs."""
        bounds = getattr(self, "length_buckets", ())
        if not bounds:
            return dataset.padded_batch(batch_size)
        tf = import_tensorflow()
        return dataset.bucket_by_sequence_length(
            lambda inputs, tags, weights: tf.shape(tags)[0],
            bucket_boundaries=list(bounds),
            bucket_batch_sizes=[batch_size] * (len(bounds) + 1),
        )

    # -- model --------------------------------------------------------------------------

    def build_model(self, spec, arch, config):
        """Word embedding (+ char CNN) -> the arch's per-step encoder -> softmax over tags."""
        import keras

        from seqapps.archs import encoder_settings
        from seqapps.layers.characters import CharacterCNN
        from seqapps.layers.heads import WordDropout, token_embedding
        from seqapps.layers.masking import MaskOfIds, ZeroPadding

        options = config.options
        words = keras.Input(shape=(None,), dtype="int32", name="words")
        inputs = {"words": words}
        dropped = WordDropout(options["word_dropout"], seed=config.seed, name="word_dropout")(words)
        x = token_embedding(spec.vocabulary_size, options["embedding_dim"], name="word_embedding")(
            dropped
        )
        if options["char_features"]:
            chars = keras.Input(
                shape=(None, options["max_word_length"]), dtype="int32", name="chars"
            )
            inputs["chars"] = chars
            c = keras.layers.Embedding(
                spec.extra["chars"], options["char_dim"], name="char_embedding"
            )(chars)
            widths = _widths(options["char_widths"])
            if len(widths) == 1:
                c = CharacterCNN(options["char_filters"], widths[0], name="char_cnn")(c)
            else:  # each width its own filters: 3 sees "ing", 5 sees "ation" and a mark
                found = [
                    CharacterCNN(options["char_filters"], w, name=f"char_cnn_{w}")(c)
                    for w in widths
                ]
                c = keras.layers.Concatenate(name="char_features")(found)
            # The words' mask on the character features: Concatenate keeps a step any of its
            # inputs keeps, so unmasked features would unmask the padding (see MaskOfIds).
            c = MaskOfIds(name="char_mask")([c, words])
            x = keras.layers.Concatenate(name="word_and_chars")([x, c])
        x = arch.build_encoder(x, encoder_settings(config), self.arch_kind(config))
        x = ZeroPadding(name="end_of_mask")(x)  # see the module docstring
        outputs = keras.layers.Dense(
            len(spec.classes), activation="softmax", dtype="float32", name="tags"
        )(x)
        return keras.Model(inputs, outputs, name=f"{self.name}_{arch.name}")

    def loss_and_metrics(self, spec):
        """Cross-entropy averaged over real tokens; exact token metrics come from ``score``."""
        import keras

        loss = keras.losses.SparseCategoricalCrossentropy(reduction="mean_with_sample_weight")
        return loss, []

    # -- after training -----------------------------------------------------------------

    def tag(self, model, sentences: list[list[str]], batch_size: int = 64) -> list[list[str]]:
        """Tags for tokenized sentences, in order, each as long as its sentence."""
        tf = import_tensorflow()
        results = []
        for start in range(0, len(sentences), batch_size):
            chunk = sentences[start : start + batch_size]
            longest = max(len(s) for s in chunk)
            encoded = [self.encode(s) for s in chunk]
            batch = {}
            for key in encoded[0]:
                padded = np.zeros((len(chunk), longest, *encoded[0][key].shape[1:]), "int32")
                for row, item in enumerate(encoded):
                    padded[row, : len(item[key])] = item[key]
                batch[key] = tf.constant(padded)
            predicted = model.predict_on_batch(batch).argmax(axis=-1)
            results += [
                [self.tags[i] for i in predicted[row, : len(s)]] for row, s in enumerate(chunk)
            ]
        return results

    def report(self, model, data, config) -> Report:
        """``score`` on the test split, beside the most-frequent-tag-per-word baseline's."""
        from seqapps import goals
        from seqapps.baselines import verdict_line

        sentences = self.test_sentences
        # Unknown means never seen in training, whatever min_count sent to <unk>.
        seen = self.tag_of_word
        found = self.score(sentences, self.tag(model, [s.tokens for s in sentences]), seen)
        guessed = [self.most_frequent_tags(s.tokens) for s in sentences]
        scored = self.score(sentences, guessed, seen)
        _close(scored.figures)
        headline = [goals.base_name(m) for m in self.headline_metrics]
        baseline = {k: v for k, v in scored.metrics.items() if k in headline or not headline}
        found.metrics.update({f"baseline_{k}": v for k, v in baseline.items()})
        metric = headline[0] if headline else ""
        if metric in baseline and metric in found.metrics:
            direction = goals.goal(metric, self.metric_goals)
            named = {"most frequent tag per word": baseline[metric]}
            found.summary.append(verdict_line(metric, found.metrics[metric], named, direction))
        return found

    def most_frequent_tags(self, tokens: list[str]) -> list[str]:
        """The baseline tagger: each word's most frequent training tag; the most frequent
        tag overall for a word training never showed."""
        return [self.tag_of_word.get(self.word(t), self.commonest_tag) for t in tokens]

    def export_model(self, model, data):
        """The trained model; `predict` encodes raw sentences with the saved vocabularies."""
        return model

    def export_metadata(self, data) -> dict[str, Any]:
        """Vocabularies and settings needed to encode new sentences."""
        metadata = {"classes": self.tags, "words": self.words.items[2:]}
        metadata["chars"] = self.chars.items[2:]
        return metadata | {key: getattr(self, key) for key in _SETTINGS}

    def restore(self, metadata: dict[str, Any]) -> None:
        """Set up a fresh instance from ``export_metadata``'s facts (predict, evaluate)."""
        self.words, self.chars = Vocabulary(metadata["words"]), Vocabulary(metadata["chars"])
        self.tags = metadata["classes"]
        for key in _SETTINGS:
            setattr(self, key, metadata.get(key, _SETTINGS_BEFORE.get(key)))

    def evaluate(self, model, metadata, source, options) -> Report:
        """``score`` on a tagged file; tags the model never learned count as errors."""
        path = existing_file(source)
        sentences = self._read_file(path, options)
        self.restore(metadata)
        report = self.score(sentences, self.tag(model, [s.tokens for s in sentences]), self.words)
        unseen = sorted({t for s in sentences for t in s.tags} - set(metadata["classes"]))
        report.summary.insert(0, f"{len(sentences)} sentences of {path}")
        if unseen:
            report.summary.append(f"tags {unseen} are unknown to the model and count as errors")
        return report

    def example_table(self, data, metadata: dict[str, Any]) -> dict[str, list]:
        """One raw sentence: the logged model's input example."""
        return {"input": [self.example_sentence]}

    def predict(self, model, metadata: dict[str, Any], inputs: list[str]) -> list[dict[str, Any]]:
        """One row per token: sentence number, token, tag (sentences split on whitespace)."""
        self.restore(metadata)
        sentences = [text.split() for text in inputs if text.split()]
        rows = []
        for number, (tokens, tags) in enumerate(zip(sentences, self.tag(model, sentences)), 1):
            rows += [{"sentence": number, "token": t, "tag": g} for t, g in zip(tokens, tags)]
        return rows

    def write_predictions(self, rows: list[dict[str, Any]], path: Path) -> None:
        """CoNLL-U (.conllu, tags in UPOS) or token<TAB>tag, a blank line between sentences."""
        lines, current, position = [], None, 0
        conllu = path.suffix == ".conllu"
        for row in rows:
            if row["sentence"] != current:
                if current is not None:
                    lines.append("")
                current, position = row["sentence"], 0
                if conllu:
                    sentence = " ".join(r["token"] for r in rows if r["sentence"] == current)
                    lines.append(f"# text = {sentence}")
            position += 1
            if conllu:
                lines.append(f"{position}\t{row['token']}\t_\t{row['tag']}\t_\t_\t_\t_\t_\t_")
            else:
                lines.append(f"{row['token']}\t{row['tag']}")
        path.write_text("\n".join(lines) + "\n\n", encoding="utf-8")


def _close(figures: dict[str, Any]) -> None:
    """Free figures that are made but not logged (a baseline's)."""
    import matplotlib.pyplot as plt

    for figure in figures.values():
        plt.close(figure)
