"""Part-of-speech tagging (many-to-many): one tag per token.

    seqapps run pos --arch bilstm
    seqapps run pos --data en_ewt-ud-train.conllu --set dev_file=en_ewt-ud-dev.conllu \\
        --set test_file=en_ewt-ud-test.conllu --set char_features=true
    seqapps predict RUN_ID "The old man the boats ."

Sentences are never cut: each batch is padded to its longest sentence and padding carries
zero weight in the loss and the metrics, so every token of the test split is evaluated.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import numpy as np

from seqapps.api import (
    SPLITS,
    DataBundle,
    DataError,
    Option,
    Report,
    Sentence,
    Spec,
    Task,
    Vocabulary,
    cap_splits,
    check_labels_seen,
    check_not_empty,
    existing_file,
    fingerprint_file,
    fingerprint_rows,
    import_tensorflow,
    label_confusion,
    load_tfds,
    parse_source,
    per_class_scores,
    read_tagged,
)
from seqapps_pos import sample


class PosTask(Task):
    """Tag every token of a sentence (UPOS, XPOS or any tag set)."""

    name = "pos"
    summary = "Part-of-speech tagging of tokenized sentences (many-to-many)"
    kind = "tag"
    default_arch = "bilstm"
    data_sources = (
        "sample",
        "PATH.conllu (CoNLL-U; --set tag_column=upos|xpos)",
        "PATH.tsv (token<TAB>tag, blank line between sentences)",
        "tfds:conll2003",
    )
    options = {
        "tag_column": Option("upos", "CoNLL-U column to learn: upos or xpos", ("upos", "xpos")),
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
        "max_word_length": Option(16, "characters kept per word for the character CNN"),
        "embedding_dim": Option(64, "size of the word embedding"),
        "char_dim": Option(24, "size of the character embedding"),
        "char_filters": Option(48, "character CNN filters (size of the per-word char feature)"),
        "sample_sentences": Option(2000, "sentences in the embedded sample"),
    }
    defaults = {"epochs": 15, "dropout": 0.25, "batch_size": 32}
    headline_metrics = ("test_token_accuracy", "test_unknown_accuracy", "test_sentence_accuracy")

    # -- data ---------------------------------------------------------------------------

    def _read(self, config) -> tuple[dict[str, list[Sentence]], str, str]:
        options = config.options
        source = parse_source(config.data)
        if source.kind == "sample":
            total = options["sample_sentences"]
            counts = {
                "train": total - 2 * (total // 10),
                "validation": total // 10,
                "test": total // 10,
            }
            splits = sample.generate(counts)
            rows = ((s, " ".join(x.tokens), " ".join(x.tags)) for s in splits for x in splits[s])
            return splits, "sample", fingerprint_rows(rows)
        if source.kind == "tfds":
            return self._read_tfds(source.value, config)
        path = existing_file(source.value)
        sentences = read_tagged(path, options["tag_column"])
        fingerprint = fingerprint_file(path)
        splits = {"train": sentences}
        for split, key in (("validation", "dev_file"), ("test", "test_file")):
            if options[key]:
                extra = existing_file(options[key])
                splits[split] = read_tagged(extra, options["tag_column"])
                fingerprint = fingerprint_rows([(fingerprint, fingerprint_file(extra))])
            else:
                splits[split] = None
        pending = [s for s in ("validation", "test") if splits[s] is None]
        if pending:  # cut the missing splits from the training file, by whole sentences
            order = list(range(len(sentences)))
            random.Random(config.seed).shuffle(order)
            taken = 0
            for split in pending:
                fraction = options[
                    "validation_fraction" if split == "validation" else "test_fraction"
                ]
                count = max(1, round(len(sentences) * fraction))
                splits[split] = [sentences[i] for i in order[taken : taken + count]]
                taken += count
            splits["train"] = [sentences[i] for i in sorted(order[taken:])]
        return splits, str(path), fingerprint

    def _read_tfds(self, name: str, config):
        if name != "conll2003":
            raise DataError(f"--data tfds:{name}: the pos task reads tfds:conll2003")
        datasets, info = load_tfds(name, config.data_dir, ["train", "dev", "test"])
        names = info.features["pos"].feature.names
        splits = {}
        for split, dataset in zip(SPLITS, datasets):
            splits[split] = [
                Sentence(
                    [t.decode("utf-8") for t in ex["tokens"]], [names[int(i)] for i in ex["pos"]]
                )
                for ex in dataset.as_numpy_iterator()
            ]
        rows = ((s, " ".join(x.tokens)) for s in splits for x in splits[s])
        return splits, f"tfds:{name} {info.version}", fingerprint_rows(rows)

    def load_data(self, config) -> DataBundle:
        """Read, check, build vocabularies on the training split, encode every sentence."""
        splits, description, fingerprint = self._read(config)
        splits = cap_splits(splits, config.max_samples, config.seed)
        check_not_empty(splits, description)
        train_tags = {tag for s in splits["train"] for tag in s.tags}
        others = {split: [t for s in splits[split] for t in s.tags] for split in SPLITS[1:]}
        check_labels_seen(train_tags, others, description, noun="tags")
        options = config.options
        self.lowercase = options["lowercase"]
        self.max_word_length = options["max_word_length"]
        self.words = Vocabulary.fit(
            ([self._word(t) for t in s.tokens] for s in splits["train"]), options["min_count"]
        )
        self.chars = Vocabulary.fit(t for s in splits["train"] for t in s.tokens)
        self.tags = sorted(train_tags)
        self.char_features = options["char_features"]
        self.test_sentences = splits["test"]
        tf = import_tensorflow()
        datasets = {split: self._dataset(tf, splits[split]) for split in SPLITS}
        sizes = {split: len(splits[split]) for split in SPLITS}
        sizes["test_tokens"] = sum(len(s.tokens) for s in splits["test"])
        spec = Spec(
            classes=self.tags, vocabulary_size=len(self.words), extra={"chars": len(self.chars)}
        )
        return DataBundle.from_splits(datasets, spec, description, fingerprint, sizes)

    def _word(self, token: str) -> str:
        return token.lower() if self.lowercase else token

    def encode(self, tokens: list[str]) -> dict[str, np.ndarray]:
        """Word ids and (with char features) character ids for one sentence."""
        encoded = {"words": np.array(self.words.encode(self._word(t) for t in tokens), "int32")}
        if self.char_features:
            chars = np.zeros((len(tokens), self.max_word_length), "int32")
            for i, token in enumerate(tokens):
                ids = self.chars.encode(token[: self.max_word_length])
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
                tags = np.array([index[t] for t in sentence.tags], "int32")
                yield self.encode(sentence.tokens), tags, np.ones(len(tags), "float32")

        return tf.data.Dataset.from_generator(examples, output_signature=signature)

    def batch(self, dataset, batch_size: int):
        """Pad each batch to its longest sentence; padded steps get weight 0."""
        return dataset.padded_batch(batch_size)

    # -- model --------------------------------------------------------------------------

    def build_model(self, spec, arch, config):
        """Word embedding (+ char CNN) -> the arch's per-step encoder -> softmax over tags."""
        import keras

        from seqapps.api import (
            CharacterCNN,
            WordDropout,
            ZeroPadding,
            encoder_settings,
            token_embedding,
        )

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
            c = CharacterCNN(options["char_filters"], name="char_cnn")(c)
            x = keras.layers.Concatenate(name="word_and_chars")([x, c])
        x = arch.build_encoder(x, encoder_settings(config), self.arch_kind(config))
        # Sample weights exclude padding; a mask reaching the loss would be rescaled per batch.
        x = ZeroPadding(name="end_of_mask")(x)
        outputs = keras.layers.Dense(
            len(spec.classes), activation="softmax", dtype="float32", name="tags"
        )(x)
        return keras.Model(inputs, outputs, name=f"pos_{arch.name}")

    def loss_and_metrics(self, spec):
        """Cross-entropy averaged over real tokens (padding has weight 0).

        No Keras accuracy: Keras averages weighted metrics per sentence before accumulating,
        which is not token accuracy; `report` computes the exact token metrics instead.
        """
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
                shape = (len(chunk), longest, *encoded[0][key].shape[1:])
                padded = np.zeros(shape, "int32")
                for row, item in enumerate(encoded):
                    padded[row, : len(item[key])] = item[key]
                batch[key] = tf.constant(padded)
            predicted = model.predict_on_batch(batch).argmax(axis=-1)
            results += [
                [self.tags[i] for i in predicted[row, : len(s)]] for row, s in enumerate(chunk)
            ]
        return results

    def report(self, model, data, config) -> Report:
        """Token, unknown-word and sentence accuracy, per-tag P/R/F1 and a confusion figure."""
        from seqapps.api import plots

        sentences = self.test_sentences
        predicted = self.tag(model, [s.tokens for s in sentences])
        gold = [t for s in sentences for t in s.tags]
        guess = [t for tags in predicted for t in tags]
        unknown = [self._word(t) not in self.words for s in sentences for t in s.tokens]
        right = np.array([g == p for g, p in zip(gold, guess)])
        unknown = np.array(unknown)
        metrics = {
            "token_accuracy": float(right.mean()),
            "unknown_accuracy": float(right[unknown].mean()) if unknown.any() else float("nan"),
            "unknown_tokens": float(unknown.sum()),
            "sentence_accuracy": float(
                np.mean([p == s.tags for p, s in zip(predicted, sentences)])
            ),
            "tokens_evaluated": float(len(right)),
        }
        table, matrix = per_tag_scores(gold, guess, self.tags)
        figures = {"confusion_matrix": plots.confusion_matrix(*most_confused(matrix, self.tags))}
        summary = [
            f"tagged {len(right)} test tokens: accuracy {metrics['token_accuracy']:.4f}, "
            f"unknown words {metrics['unknown_accuracy']:.4f} ({int(unknown.sum())} tokens), "
            f"whole sentences {metrics['sentence_accuracy']:.4f}"
        ]
        return Report(
            metrics=metrics, figures=figures, texts={"per_tag.csv": table}, summary=summary
        )

    def export_model(self, model, data):
        """The trained model; `predict` encodes raw sentences with the saved vocabularies."""
        return model

    def export_metadata(self, data) -> dict[str, Any]:
        """Vocabularies and settings needed to encode new sentences."""
        return {
            "classes": self.tags,
            "words": self.words.items[2:],
            "chars": self.chars.items[2:],
            "lowercase": self.lowercase,
            "char_features": self.char_features,
            "max_word_length": self.max_word_length,
        }

    def evaluate(self, model, metadata, source, options) -> Report:
        """Token, unknown-word and sentence accuracy on a tagged file (CoNLL-U or token TAB tag).

        Tags the model never learned count as errors (named in the summary).
        """
        path = existing_file(source)
        sentences = read_tagged(path, options.get("tag_column", self.options["tag_column"].default))
        if not sentences:
            raise DataError(f"--data {path}: no sentences to evaluate")
        self._restore(metadata)
        guesses = self.tag(model, [s.tokens for s in sentences])
        known = set(metadata["words"])
        right = unknown = unknown_right = whole = 0
        tokens = 0
        for sentence, guess in zip(sentences, guesses):
            hits = [g == t for g, t in zip(guess, sentence.tags)]
            right, tokens, whole = right + sum(hits), tokens + len(hits), whole + all(hits)
            for token, hit in zip(sentence.tokens, hits):
                if self._word(token) not in known:
                    unknown, unknown_right = unknown + 1, unknown_right + hit
        unseen = sorted({t for s in sentences for t in s.tags} - set(metadata["classes"]))
        summary = [f"{len(sentences)} sentences, {tokens} tokens of {path}"]
        if unseen:
            summary.append(f"tags {unseen} are unknown to the model and count as errors")
        return Report(
            metrics={
                "token_accuracy": right / tokens,
                "unknown_accuracy": unknown_right / unknown if unknown else 1.0,
                "sentence_accuracy": whole / len(sentences),
            },
            summary=summary,
        )

    def _restore(self, metadata: dict[str, Any]) -> None:
        self.words, self.chars = Vocabulary(metadata["words"]), Vocabulary(metadata["chars"])
        self.tags, self.lowercase = metadata["classes"], metadata["lowercase"]
        self.char_features, self.max_word_length = (
            metadata["char_features"],
            metadata["max_word_length"],
        )

    def example_table(self, data, metadata: dict[str, Any]) -> dict[str, list]:
        """One raw sentence: the logged model's input example."""
        return {"input": ["the old man saw a dog in the park"]}

    def predict(self, model, metadata: dict[str, Any], inputs: list[str]) -> list[dict[str, Any]]:
        """One row per token: sentence number, token, tag (sentences split on whitespace)."""
        self._restore(metadata)
        sentences = [text.split() for text in inputs if text.split()]
        rows = []
        for number, (tokens, tags) in enumerate(zip(sentences, self.tag(model, sentences)), 1):
            rows += [{"sentence": number, "token": t, "tag": g} for t, g in zip(tokens, tags)]
        return rows

    def write_predictions(self, rows: list[dict[str, Any]], path: Path) -> None:
        """CoNLL-U (.conllu: tags in UPOS) or token<TAB>tag, a blank line between sentences."""
        lines, current, position = [], None, 0
        for row in rows:
            if row["sentence"] != current:
                if current is not None:
                    lines.append("")
                current, position = row["sentence"], 0
                if path.suffix == ".conllu":
                    sentence = " ".join(r["token"] for r in rows if r["sentence"] == current)
                    lines.append(f"# text = {sentence}")
            position += 1
            if path.suffix == ".conllu":
                lines.append(f"{position}\t{row['token']}\t_\t{row['tag']}\t_\t_\t_\t_\t_\t_")
            else:
                lines.append(f"{row['token']}\t{row['tag']}")
        path.write_text("\n".join(lines) + "\n\n", encoding="utf-8")


def per_tag_scores(gold: list[str], guess: list[str], tags: list[str]) -> tuple[str, np.ndarray]:
    """A CSV of precision, recall, F1 and support per tag, and the confusion matrix."""
    matrix = label_confusion(gold, guess, tags)
    scores = per_class_scores(matrix)
    lines = ["tag,precision,recall,f1,support"]
    for i, tag in enumerate(tags):
        precision, recall, f1 = (scores[key][i] for key in ("precision", "recall", "f1"))
        lines.append(f"{tag},{precision:.4f},{recall:.4f},{f1:.4f},{scores['support'][i]}")
    return "\n".join(lines) + "\n", matrix


def most_confused(matrix: np.ndarray, tags: list[str], keep: int = 10):
    """The sub-matrix of the ``keep`` tags most involved in errors."""
    errors = matrix - np.diag(np.diag(matrix))
    involvement = errors.sum(axis=0) + errors.sum(axis=1)
    chosen = sorted(np.argsort(-involvement, kind="stable")[:keep])
    return matrix[np.ix_(chosen, chosen)], [tags[i] for i in chosen]
