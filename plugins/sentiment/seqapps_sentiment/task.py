"""Sentiment classification (many-to-one): raw text in, one label out.

    seqapps run sentiment --arch bilstm
    seqapps run sentiment --data reviews.csv --set text_column=review --set label_column=stars

TensorFlow is imported inside the methods, so listing this task stays instant.
"""

from __future__ import annotations

import csv
import io
import json
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from seqapps.api import (
    TRUNCATE_MODES,
    ConfigError,
    DataBundle,
    DataError,
    DataWarning,
    Option,
    Report,
    Spec,
    Task,
    cap_splits,
    check_classes,
    check_not_empty,
    confusion_matrix,
    encoder_settings,
    existing_file,
    fingerprint_file,
    fingerprint_rows,
    fit_vectorizer,
    import_tensorflow,
    load_tfds,
    macro_f1,
    parse_source,
    read_labelled_text,
    split_indices,
    token_lengths,
    warn_unseen_labels,
    window_texts,
)
from seqapps_sentiment import sample

#: Cap on the automatic sequence length, so one very long review cannot blow up memory.
MAX_AUTO_LENGTH = 400
#: The cap in chunks mode, where a long text costs chunks (run side by side), not steps.
MAX_AUTO_CHUNKED = 1600
SAMPLES_LOGGED = 20


class SentimentTask(Task):
    """Classify a text into one of its labels (positive/negative or any set of classes)."""

    name = "sentiment"
    summary = "Sentiment classification of texts (many-to-one)"
    kind = "classify"
    default_arch = "bilstm"
    data_sources = ("sample", "PATH.csv|.tsv (text and label columns)", "tfds:imdb_reviews")
    options = {
        "text_column": Option("text", "CSV/TSV column holding the text"),
        "label_column": Option(
            "label", "CSV/TSV column holding the label (any strings, 2+ classes)"
        ),
        "max_tokens": Option(20000, "vocabulary size, fitted on the training split only"),
        "sequence_length": Option(
            0,
            "tokens kept per text; 0 = longest training text, up to 400 (1600 with "
            "truncate=chunks)",
        ),
        "truncate": Option(
            "head",
            "which tokens of a longer text are kept: head, tail, head+tail (half each), or "
            "chunks (all of them up to sequence_length, encoded chunk by chunk and pooled)",
            TRUNCATE_MODES,
        ),
        "chunk_length": Option(50, "tokens per chunk with truncate=chunks"),
        "embeddings": Option(
            "",
            "pretrained word vectors: a GloVe, word2vec (text) or fastText .vec file; "
            "'' = learn them from the training texts",
        ),
        "embeddings_trainable": Option(False, "fine-tune pretrained vectors (else frozen)"),
        "embeddings_vocabulary": Option(
            20000,
            "words of the vectors file (commonest first) added to the training vocabulary, so "
            "words training never shows still have their vector",
        ),
        "embedding_dim": Option(64, "size of the word embedding"),
        "test_file": Option(
            "",
            "a labelled CSV/TSV to test on (another domain, say): --data is then split into "
            "training and validation only; its labels training lacks count as errors",
        ),
        "validation_fraction": Option(0.1, "share of a single file used for validation"),
        "test_fraction": Option(0.1, "share of a single file used for testing (no test_file)"),
        "sample_size": Option(4000, "number of generated reviews in the embedded sample"),
    }
    defaults = {"epochs": 15, "dropout": 0.2}
    headline_metrics = ("test_accuracy", "test_macro_f1")
    cross_validation = "stratified by label"

    # -- data ---------------------------------------------------------------------------

    def _read_source(self, config) -> tuple[dict[str, tuple[list[str], list[str]]], str, str]:
        """Texts and labels per split, a description of the source, and its fingerprint."""
        source = parse_source(config.data)
        options = config.options
        if config.folds and (source.kind == "tfds" or options["test_file"]):
            fixed = "--set test_file" if options["test_file"] else f"--data {config.data}"
            raise ConfigError(
                f"--folds {config.folds}: {fixed} fixes the test split; cross-validate one "
                "labelled file (or the sample) instead"
            )
        if source.kind == "tfds":
            return self._read_tfds(source.value, config)
        if source.kind == "sample":
            texts, labels = sample.generate(options["sample_size"])
            fingerprint = fingerprint_rows(zip(texts, labels))
            description = "sample"
        else:
            path = existing_file(source.value)
            texts, labels = read_labelled_text(
                path, options["text_column"], options["label_column"]
            )
            fingerprint = fingerprint_file(path)
            description = str(path)
        check_classes(labels, description)
        train, validation, test = split_indices(
            len(texts),
            options["validation_fraction"],
            0.0 if options["test_file"] else options["test_fraction"],
            seed=config.seed,
            labels=labels,
            fold=(config.fold, config.folds),
        )
        splits = {
            name: ([texts[i] for i in index], [labels[i] for i in index])
            for name, index in (("train", train), ("validation", validation), ("test", test))
        }
        return splits, description, fingerprint

    def _read_tfds(self, name: str, config):
        if name != "imdb_reviews":
            raise DataError(f"--data tfds:{name}: the sentiment task reads tfds:imdb_reviews")
        cut = round(100 * (1 - config.options["validation_fraction"]))
        datasets, info = load_tfds(
            name, config.data_dir, [f"train[:{cut}%]", f"train[{cut}%:]", "test"]
        )
        class_names = info.features["label"].names
        splits = {}
        for split, dataset in zip(("train", "validation", "test"), datasets):
            texts, labels = [], []
            for example in dataset.as_numpy_iterator():
                texts.append(example["text"].decode("utf-8"))
                labels.append(class_names[int(example["label"])])
            splits[split] = (texts, labels)
        rows = (row for split in splits.values() for row in zip(*split))
        return splits, f"tfds:{name} {info.version}", fingerprint_rows(rows)

    def _read_test_file(self, splits, fingerprint: str, options) -> tuple[dict, str]:
        """The splits with their test split read from ``--set test_file``, and the
        fingerprint of both files."""
        path = existing_file(options["test_file"])
        texts, labels = read_labelled_text(path, options["text_column"], options["label_column"])
        if not texts:
            raise DataError(f"--set test_file={path}: no rows to test on")
        both = fingerprint_rows([(fingerprint, fingerprint_file(path))])
        return {**splits, "test": (texts, labels)}, both

    def load_data(self, config) -> DataBundle:
        """Read the source, fit the vocabulary on the training split, vectorize every split."""
        splits, description, fingerprint = self._read_source(config)
        if config.options["test_file"]:
            splits, fingerprint = self._read_test_file(splits, fingerprint, config.options)
        pairs = {split: list(zip(*columns)) for split, columns in splits.items()}
        pairs = cap_splits(pairs, config.max_samples, config.seed)
        check_not_empty(pairs, description)
        splits = {
            split: ([t for t, _ in rows], [y for _, y in rows]) for split, rows in pairs.items()
        }
        options = config.options
        # A broken vectors file is named before TensorFlow is imported.
        vectors = self._read_vectors(options["embeddings"]) if options["embeddings"] else None
        tf = import_tensorflow()
        classes = check_classes(splits["train"][1], description)
        splits = self._set_aside_unseen(splits, classes, description, options["test_file"])
        train_texts = splits["train"][0]
        self.vectorizer = fit_vectorizer(train_texts, options["max_tokens"], None)
        sizes = {split: len(splits[split][0]) for split in splits}
        self.pretrained = None
        if vectors is not None:
            sizes.update(self._use_vectors(vectors, options, config.seed))
        self.window = self._window(train_texts, options)
        # Labels training never shows take the indices after the model's classes: they
        # count as errors in the report and stay out of the Keras loss.
        shown = classes + sorted(self.unseen_labels.get("test", {}))
        index = {label: i for i, label in enumerate(shown)}
        datasets, cut = {}, {}
        for split, (texts, labels) in splits.items():
            windowed = window_texts(self.vectorizer, texts, self.window)
            targets = np.array([index[label] for label in labels], dtype="int32")
            known = targets < len(classes)
            tokens = windowed.tokens[known]
            datasets[split] = tf.data.Dataset.from_tensor_slices((tokens, targets[known]))
            sizes[split] = len(tokens)  # the core sizes shuffle buffers with it
            cut[split] = windowed.cut(self.window.length)
            if split == "test":
                sizes["test_token_coverage"] = round(windowed.coverage(), 4)
                self.test_tokens, self.test_targets = windowed.tokens, targets
        sizes.update(self._report_cuts(cut, description, options))
        self.shown_labels = shown
        self.train_texts = train_texts
        self.train_targets = [index[label] for label in splits["train"][1]]
        self.test_texts = splits["test"][0]
        dimensions = (
            options["embedding_dim"] if self.pretrained is None else self.pretrained.shape[1]
        )
        spec = Spec(
            classes=classes,
            vocabulary_size=self.vectorizer.vocabulary_size(),
            sequence_length=self.window.length,
            extra={
                "truncate": options["truncate"],
                "chunk_length": self.window.chunk_length,
                "embedding_dim": int(dimensions),
            },
        )
        return DataBundle.from_splits(datasets, spec, description, fingerprint, sizes)

    def _set_aside_unseen(self, splits, classes: list[str], description: str, test_file: str):
        """Warn about validation/test labels training lacks; drop the validation ones."""
        origins = {"validation": f"--data {description}", "test": f"--data {description}"}
        if test_file:
            origins["test"] = f"--set test_file={test_file}"
        self.unseen_labels = warn_unseen_labels(
            classes, {s: splits[s][1] for s in ("validation", "test")}, origins
        )
        if "validation" in self.unseen_labels:
            texts, labels = splits["validation"]
            known = set(classes)
            kept = [(t, y) for t, y in zip(texts, labels) if y in known]
            splits = {**splits, "validation": ([t for t, _ in kept], [y for _, y in kept])}
            check_not_empty({"validation": kept}, description)
        return splits

    @staticmethod
    def _read_vectors(path: str):
        from seqapps.api import read_vectors

        return read_vectors(Path(path).expanduser())

    def _use_vectors(self, vectors, options: dict[str, Any], seed: int) -> dict[str, float]:
        """Add the vectors' commonest words to the vocabulary and keep the embedding matrix
        for build_model; the counts to log."""
        from seqapps.api import embedding_matrix, extend_vocabulary

        trained_words = self.vectorizer.vocabulary_size() - 2
        self.vectorizer, added = extend_vocabulary(
            self.vectorizer, vectors.words, options["embeddings_vocabulary"]
        )
        vocabulary = [str(word) for word in self.vectorizer.get_vocabulary()]
        self.pretrained, found = embedding_matrix(vocabulary, vectors, seed)
        in_training = found - added  # every added word has its vector
        return {
            "vectors_coverage": round(in_training / max(trained_words, 1), 4),
            "vectors_added_words": added,
            "vectors_dimensions": vectors.dimensions,
        }

    def _window(self, train_texts: list[str], options: dict[str, Any]):
        """The TokenWindow of this run: its length from the option or the training texts."""
        from seqapps.api import TokenWindow

        mode, chunk = options["truncate"], options["chunk_length"]
        if chunk < 1:
            raise ConfigError(f"--set chunk_length={chunk}: expected 1 or more tokens")
        length = options["sequence_length"]
        if length <= 0:
            cap = MAX_AUTO_CHUNKED if mode == "chunks" else MAX_AUTO_LENGTH
            longest = int(token_lengths(self.vectorizer, train_texts).max())
            length = max(1, min(cap, longest))
        if mode == "chunks":
            length = -(-length // chunk) * chunk  # whole chunks
        return TokenWindow(length, mode, chunk if mode == "chunks" else 0, name="token_window")

    def _report_cuts(self, cut, description: str, options) -> dict[str, float]:
        """Warn when texts were cut: how many, how much, and the setting that reads more."""
        sizes = {f"{split}_truncated_texts": count for split, (count, _) in cut.items()}
        count, share = cut["train"]
        sizes["train_truncated_token_share"] = round(share, 4)
        others = sum(cut[split][0] for split in ("validation", "test"))
        # Only a cut in training is news: with the length of the longest training text, a
        # few longer validation/test texts are expected (their counts are logged anyway).
        if count:
            mode = options["truncate"]
            advice = {
                "head": "try --set truncate=head+tail, or truncate=chunks to read them whole",
                "chunks": "raise sequence_length to keep more",
            }.get(mode, "try --set truncate=chunks to read them whole")
            warnings.warn(
                f"--data {description}: texts longer than {self.window.length} tokens were "
                f"cut ({mode}): {count} in training ({share:.0%} of the training tokens "
                f"dropped) and {others} in validation/test; {advice}",
                DataWarning,
                stacklevel=2,
            )
        return sizes

    # -- model --------------------------------------------------------------------------

    def build_model(self, spec, arch, config):
        """Token ids -> embedding (masked) -> the arch's encoder -> softmax over classes."""
        import keras

        from seqapps.api import classification_head, token_embedding

        dimensions = spec.extra.get("embedding_dim", config.options["embedding_dim"])
        embed = token_embedding(spec.vocabulary_size, dimensions)
        settings, kind = encoder_settings(config), self.arch_kind(config)
        chunk = spec.extra.get("chunk_length", 0) if spec.extra.get("truncate") == "chunks" else 0
        if not chunk:
            tokens = keras.Input(shape=(spec.sequence_length,), dtype="int32", name="tokens")
            x = arch.build_encoder(embed(tokens), settings, kind)
        else:
            # Every chunk is a row for the encoder; its summaries are pooled per text.
            from seqapps.api import ChunksToRows, PoolChunks

            chunks = spec.sequence_length // chunk
            tokens = keras.Input(shape=(chunks, chunk), dtype="int32", name="tokens")
            rows = ChunksToRows(name="chunk_rows")(tokens)
            encoded = arch.build_encoder(embed(rows), settings, kind)
            x = PoolChunks(chunks, name="pool_chunks")(encoded, tokens)
        outputs = classification_head(x, len(spec.classes))
        model = keras.Model(tokens, outputs, name=f"sentiment_{arch.name}")
        if getattr(self, "pretrained", None) is not None:
            # Set, not passed as an initializer: the weights file holds the matrix, and the
            # model's config stays small.
            embed.set_weights([self.pretrained])
            embed.trainable = config.options["embeddings_trainable"]
        return model

    def loss_and_metrics(self, spec):
        """Cross-entropy on integer labels; accuracy."""
        return "sparse_categorical_crossentropy", ["accuracy"]

    # -- after training -----------------------------------------------------------------

    def report(self, model, data, config) -> Report:
        """Macro-F1, a confusion matrix and predictions on the first test texts."""
        from seqapps.api import plots

        # Every test text, those with a label the model lacks too (data.test leaves them out).
        probabilities = model.predict(self.test_tokens, batch_size=256, verbose=0)
        predicted = probabilities.argmax(axis=1)
        classes = self.shown_labels
        matrix = confusion_matrix(self.test_targets, predicted, len(classes))
        samples = [
            {
                "text": text,
                "true": classes[int(true)],
                "label": classes[int(pred)],
                "probability": float(probs[pred]),
            }
            for text, true, pred, probs in zip(
                self.test_texts[:SAMPLES_LOGGED], self.test_targets, predicted, probabilities
            )
        ]
        figures = {"confusion_matrix": plots.confusion_matrix(matrix, classes)}
        attention = self._attention_figure(model, data)
        if attention is not None:
            figures["attention_weights"] = attention
        metrics, summary = self._intervals(predicted, len(classes))
        metrics["accuracy"] = float((predicted == self.test_targets).mean())
        metrics["macro_f1"] = macro_f1(matrix)
        baselines, line = self._baselines(predicted, len(classes))
        metrics.update(baselines)
        summary.append(line)
        table = io.StringIO()
        writer = csv.writer(table, lineterminator="\n")
        writer.writerow(["text", "true", "predicted"])
        for text, true, guess in zip(self.test_texts, self.test_targets, predicted):
            writer.writerow([text, classes[int(true)], classes[int(guess)]])
        texts = {
            "samples.json": json.dumps(samples, indent=2),
            "test_predictions.csv": table.getvalue(),
        }
        if self.unseen_labels:
            texts["unseen_labels.json"] = json.dumps(self._unseen_record(), indent=2)
            unseen = self.unseen_labels.get("test", {})
            metrics["unseen_label_texts"] = sum(unseen.values())
            if unseen:
                summary.append(
                    f"labels {sorted(unseen)} are unknown to the model: "
                    f"{sum(unseen.values())} test texts count as errors"
                )
        return Report(metrics=metrics, figures=figures, texts=texts, summary=summary)

    def _unseen_record(self) -> dict[str, Any]:
        """What happened to the labels training never showed, per split (a logged file)."""
        fate = {"validation": "left out of validation", "test": "scored as errors"}
        return {
            split: {"labels": dict(counts), "texts": fate[split]}
            for split, counts in self.unseen_labels.items()
        }

    def _baselines(self, predicted, classes: int) -> tuple[dict[str, float], str]:
        """The majority class and a bag-of-words naive Bayes, fitted on the training texts
        and scored on the test texts like the model."""
        from seqapps.api import accuracy_of, majority, naive_bayes, verdict_line

        true = np.asarray(self.test_targets)
        guesses = {
            "majority": majority(self.train_targets, len(true)),
            "bow": naive_bayes(self.train_texts, self.train_targets, self.test_texts, classes),
        }
        metrics = {}
        for name, guess in guesses.items():
            matrix = confusion_matrix(true, guess, classes)
            metrics[f"baseline_{name}_accuracy"] = accuracy_of(true, guess)
            metrics[f"baseline_{name}_macro_f1"] = macro_f1(matrix)
        named = {
            "majority": metrics["baseline_majority_accuracy"],
            "bag-of-words naive Bayes": metrics["baseline_bow_accuracy"],
        }
        line = verdict_line("accuracy", accuracy_of(true, predicted), named, "max")
        return metrics, line

    def _intervals(self, predicted, classes: int) -> tuple[dict[str, float], list[str]]:
        """95% bootstrap intervals of test accuracy and macro F1 over the test texts."""
        from seqapps.api import accuracy_of, bootstrap_interval, macro_f1_of

        true = np.asarray(self.test_targets)
        found = {}
        for name, statistic in (("accuracy", accuracy_of), ("macro_f1", macro_f1_of(classes))):
            low, high = bootstrap_interval(true, predicted, statistic)
            found[f"{name}_ci_low"], found[f"{name}_ci_high"] = low, high
        line = (
            f"95% intervals (bootstrap over {len(true)} test texts): accuracy "
            f"{found['accuracy_ci_low']:.3f}-{found['accuracy_ci_high']:.3f}, macro F1 "
            f"{found['macro_f1_ci_low']:.3f}-{found['macro_f1_ci_high']:.3f}"
        )
        return found, [line]

    def _attention_figure(self, model, data, examples: int = 6):
        """Where an attention arch looked in the first test texts (None for other archs)."""
        import keras

        from seqapps.api import ATTENTION_LAYER_NAME as LAYER_NAME
        from seqapps.api import plots

        if LAYER_NAME not in {layer.name for layer in model.layers}:
            return None
        if data.spec.extra.get("truncate") == "chunks":
            return None  # weights per chunk, not per text
        probe = keras.Model(model.inputs, model.get_layer(LAYER_NAME).output[1])
        tokens = np.stack([x for x, _ in data.test.take(examples).as_numpy_iterator()])
        weights = probe.predict(tokens, verbose=0)
        vocabulary = self.vectorizer.get_vocabulary()
        sentences = [[vocabulary[i] for i in row if i != 0] for row in tokens]
        return plots.attention_weights(sentences, weights)

    def export_model(self, model, data):
        """Strings in, class probabilities out: the fitted vectorizer and the token window
        (which reads a long text as training did) in front of the model."""
        import keras

        text = keras.Input(shape=(1,), dtype="string", name="text")
        outputs = model(self.window(self.vectorizer(text)))
        return keras.Model(text, outputs, name="sentiment_raw_text")

    def evaluate(self, model, metadata, source, options) -> Report:
        """Accuracy, macro-F1 and a confusion matrix on a labelled CSV/TSV file.

        Labels the model never learned count as errors (they are named in the summary).
        """
        from seqapps.api import plots

        path = existing_file(source)
        texts, labels = read_labelled_text(
            path,
            options.get("text_column", self.options["text_column"].default),
            options.get("label_column", self.options["label_column"].default),
        )
        if not texts:
            raise DataError(f"--data {path}: no rows to evaluate")
        classes = list(metadata["classes"])
        unknown = sorted(set(labels) - set(classes))
        shown = classes + unknown
        rows = self.predict(model, metadata, texts)
        index = {label: i for i, label in enumerate(shown)}
        truth = np.array([index[label] for label in labels])
        guess = np.array([index[row["label"]] for row in rows])
        matrix = confusion_matrix(truth, guess, len(shown))
        summary = [f"{len(texts)} texts of {path}"]
        if unknown:
            count = int(sum(label in unknown for label in labels))
            summary.append(
                f"labels {unknown} are unknown to the model: {count} texts count as errors"
            )
        return Report(
            metrics={"accuracy": float((truth == guess).mean()), "macro_f1": macro_f1(matrix)},
            figures={"confusion_matrix": plots.confusion_matrix(matrix, shown)},
            summary=summary,
        )

    def example_table(self, data, metadata: dict[str, Any]) -> dict[str, list]:
        """Two raw texts: the logged model's input example."""
        return {"input": ["the plot was not good but the acting was great", "a wonderful film"]}

    def predict(self, model, metadata: dict[str, Any], inputs: list[str]) -> list[dict[str, Any]]:
        """Label and probability for each text."""
        tf = import_tensorflow()

        probabilities = model.predict(tf.constant([[text] for text in inputs]), verbose=0)
        classes = metadata["classes"]
        return [
            {"label": classes[int(p.argmax())], "probability": float(p.max()), "text": text}
            for text, p in zip(inputs, probabilities)
        ]
