"""Translation (many-to-many of different lengths): an encoder-decoder with attention.

    seqapps run translate                                  # German number words -> English
    seqapps run translate --set attention=none             # the same without attention
    seqapps run translate --data deu.txt                   # Tatoeba/Anki: source TAB target
    seqapps predict RUN_ID "siebenundneunzig" --set beam=5

Training is teacher forcing: the decoder reads the reference shifted right by a start token
and learns each next token. The test sentences are decoded greedily and with beam search
(``--set beam``, a length penalty ``--set length_penalty``) and scored with sacrebleu's BLEU
and chrF and by exact match, beside the commonest training translation as a baseline.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from seqapps.api import (
    PAD,
    SPLITS,
    DataBundle,
    DataError,
    Option,
    Report,
    Spec,
    Task,
    UserInputError,
    Vocabulary,
    fingerprint_rows,
    import_tensorflow,
    verdict_line,
)
from seqapps_translate import pairs as pair_io
from seqapps_translate.attention import attention_weights
from seqapps_translate.decoding import decode
from seqapps_translate.scores import attention_figure, corpus_scores

START, END = "<s>", "</s>"
#: Test sentences whose attention is drawn in every run.
ATTENTION_EXAMPLES = 3


class TranslationTask(Task):
    """Sequence to sequence with teacher forcing; greedy and beam-search decoding."""

    name = "translate"
    summary = "Translation: an encoder-decoder with attention, greedy and beam-search decoding"
    kind = "transcribe"
    default_arch = "seq2seq"
    data_sources = (
        "sample (numbers in German words -> English words, made offline with num2words)",
        "PATH.tsv/.txt (source TAB target per line, as in Tatoeba/Anki exports)",
        "tfds:NAME (a TFDS translation set with source/target keys, e.g. "
        "ted_hrlr_translate/pt_to_en; --data-dir for a prepared copy)",
    )
    options = {
        "source_level": Option(
            "auto",
            "word, char, or auto (char for the sample's one-word numbers, else word)",
            ("auto", "word", "char"),
        ),
        "target_level": Option("word", "word or char tokens of the translation", pair_io.LEVELS),
        "lowercase": Option(False, "lowercase both sides before tokenizing"),
        "embedding_dim": Option(64, "size of the source and target token embeddings"),
        "beam": Option(5, "beam width of the test decoding (1 = greedy only)"),
        "length_penalty": Option(
            0.6, "alpha of the beam's length penalty ((5+length)/6)**alpha; 0 = none"
        ),
        "validation_fraction": Option(0.1, "share of pairs for validation (by a hash)"),
        "test_fraction": Option(0.1, "share of pairs for testing (by a hash)"),
    }
    defaults = {
        "data": "sample",
        "epochs": 15,
        "batch_size": 64,
        "units": 128,
        "learning_rate": 1e-2,
        "patience": 3,
    }
    headline_metrics = ("test_bleu", "test_exact_match", "test_chrf")
    metric_goals = {"bleu": "max", "chrf": "max", "exact_match": "max"}
    no_folds_because = "it tests on held-out sentences of one split, not on folds"
    predict_options = {
        "beam": Option(1, "beam width (1 = greedy); with more, the beam's outputs are listed"),
        "length_penalty": Option(0.6, "alpha of the beam's length penalty"),
    }

    # -- data ---------------------------------------------------------------------------

    def load_data(self, config) -> DataBundle:
        """Read the pairs, split them, fit both vocabularies on training, encode."""
        options = config.options
        found, description = pair_io.read_source(config.data, config.data_dir)
        self.source_level = options["source_level"]
        if self.source_level == "auto":
            self.source_level = "char" if config.data == "sample" else "word"
        self.target_level, self.lowercase = options["target_level"], options["lowercase"]
        by_split = found if isinstance(found, dict) else self._split(found, options)
        if config.max_samples:
            by_split = {s: by_split[s][: config.max_samples] for s in SPLITS}
        for split in SPLITS:
            if not by_split[split]:
                raise DataError(f"--data {description}: the {split} split has no sentence pairs")
        self.pairs = by_split
        tokens = {s: [self._tokens(p) for p in by_split[s]] for s in SPLITS}
        self.source_vocabulary = Vocabulary.fit([src for src, _ in tokens["train"]])
        fitted = Vocabulary.fit([tgt for _, tgt in tokens["train"]])
        self.target_vocabulary = Vocabulary([START, END, *fitted.items[2:]])
        self.longest = max(len(tgt) for _, tgt in tokens["train"]) + 1
        tf = import_tensorflow()
        datasets = {s: self._dataset(tf, tokens[s]) for s in SPLITS}
        sizes = {s: len(by_split[s]) for s in SPLITS}
        sizes["source_vocabulary"] = len(self.source_vocabulary)
        sizes["target_vocabulary"] = len(self.target_vocabulary)
        spec = Spec(
            vocabulary_size=len(self.source_vocabulary),
            extra={"target_vocabulary": len(self.target_vocabulary)},
        )
        rows = [(s, *p) for s in SPLITS for p in by_split[s][:200]]
        fingerprint = fingerprint_rows([*rows, (self.source_level, self.target_level)])
        return DataBundle.from_splits(datasets, spec, description, fingerprint, sizes)

    @staticmethod
    def _split(found: list[tuple[str, str]], options: dict) -> dict[str, list]:
        by_split = {s: [] for s in SPLITS}
        for pair in found:
            split = pair_io.split_of(
                pair[0], options["validation_fraction"], options["test_fraction"]
            )
            by_split[split].append(pair)
        return by_split

    def cased(self, text: str) -> str:
        """``text`` as the model reads it: lowercased when ``lowercase`` is set."""
        return text.lower() if self.lowercase else text

    def _tokens(self, pair: tuple[str, str]) -> tuple[list[str], list[str]]:
        return (
            pair_io.tokenize(self.cased(pair[0]), self.source_level),
            pair_io.tokenize(self.cased(pair[1]), self.target_level),
        )

    def _source_ids(self, tokens: list[str]) -> np.ndarray:
        return np.array(self.source_vocabulary.encode(tokens) or [PAD], np.int32)

    def _dataset(self, tf, tokenized):
        """((source ids, decoder input ids), next target ids, weights): teacher forcing."""
        index = self.target_vocabulary.index

        def generate():
            for source, target in tokenized:
                ids = [index[START], *self.target_vocabulary.encode(target), index[END]]
                yield (
                    (self._source_ids(source), np.array(ids[:-1], np.int32)),
                    np.array(ids[1:], np.int32),
                    np.ones(len(ids) - 1, np.float32),
                )

        step = tf.TensorSpec((None,), tf.int32)
        signature = ((step, step), step, tf.TensorSpec((None,), tf.float32))
        return tf.data.Dataset.from_generator(generate, output_signature=signature)

    def batch(self, dataset, batch_size: int):
        """Pad sources and targets to the batch's longest; padded steps weigh 0."""
        return dataset.padded_batch(batch_size)

    # -- model --------------------------------------------------------------------------

    def build_model(self, spec, arch, config):
        """Source and target embeddings -> the arch's encoder-decoder -> next target token."""
        import keras

        from seqapps.api import encoder_settings

        dim = config.options["embedding_dim"]
        source = keras.Input(shape=(None,), dtype="int32", name="source")
        target = keras.Input(shape=(None,), dtype="int32", name="target_in")
        embedded_source = keras.layers.Embedding(
            spec.vocabulary_size, dim, mask_zero=True, name="source_embedding"
        )(source)
        embedded_target = keras.layers.Embedding(
            spec.extra["target_vocabulary"], dim, mask_zero=True, name="target_embedding"
        )(target)
        decoded = arch.build_encoder(
            embedded_source,
            encoder_settings(config),
            self.arch_kind(config),
            decoder_inputs=embedded_target,
        )
        outputs = keras.layers.Dense(
            spec.extra["target_vocabulary"], activation="softmax", dtype="float32", name="next"
        )(decoded)
        return keras.Model([source, target], outputs, name=f"translate_{arch.name}")

    def loss_and_metrics(self, spec):
        """Cross-entropy of the next target token; token accuracy (padding weighs 0)."""
        return "sparse_categorical_crossentropy", ["accuracy"]

    # -- after training -----------------------------------------------------------------

    def translate(self, model, texts: list[str], beam: int, alpha: float) -> list[list]:
        """The best hypotheses of each text: (translation, log-probability) lists."""
        sources = [pair_io.tokenize(self.cased(t), self.source_level) for t in texts]
        encoded = [self._source_ids(s) for s in sources]
        batch = np.zeros((len(encoded), max(len(e) for e in encoded)), np.int32)
        for row, ids in enumerate(encoded):
            batch[row, : len(ids)] = ids
        index = self.target_vocabulary.index
        ids = {"start": index[START], "end": index[END], "pad": PAD}
        found = decode(model, batch, ids, beam, max_length=self.longest + 5, alpha=alpha)
        return [
            [
                (
                    pair_io.detokenize(
                        [self.target_vocabulary.items[t] for t in h.tokens], self.target_level
                    ),
                    h.log_probability,
                )
                for h in hypotheses
            ]
            for hypotheses in found
        ]

    def report(self, model, data, config) -> Report:
        """BLEU, chrF and exact match of greedy and beam decoding; a baseline; attention."""
        options = config.options
        sources = [src for src, _ in self.pairs["test"]]
        references = [self._reference(tgt) for _, tgt in self.pairs["test"]]
        greedy = [h[0][0] for h in self.translate(model, sources, 1, 0.0)]
        metrics = {f"greedy_{k}": v for k, v in corpus_scores(greedy, references).items()}
        outputs = greedy
        if options["beam"] > 1:
            found = self.translate(model, sources, options["beam"], options["length_penalty"])
            outputs = [h[0][0] for h in found]
        metrics |= corpus_scores(outputs, references)
        commonest = self._commonest_training_target()
        baseline = corpus_scores([commonest] * len(references), references)
        metrics |= {f"baseline_commonest_{k}": v for k, v in baseline.items()}
        decoding = f"beam {options['beam']}" if options["beam"] > 1 else "greedy"
        summary = [
            f"test ({decoding}): BLEU {metrics['bleu']:.2f}, chrF {metrics['chrf']:.2f}, "
            f"exact {metrics['exact_match']:.4f}; greedy: BLEU {metrics['greedy_bleu']:.2f}, "
            f"exact {metrics['greedy_exact_match']:.4f}",
            verdict_line(
                "BLEU", metrics["bleu"], {"commonest translation": baseline["bleu"]}, "max"
            ),
        ]
        rows = ["source\treference\ttranslation"]
        rows += [f"{s}\t{r}\t{o}" for s, r, o in zip(sources, references, outputs)]
        figures = {}
        shown = slice(0, ATTENTION_EXAMPLES)
        weights = attention_weights(self, model, sources[shown], greedy[shown])
        if weights:
            figures["attention"] = attention_figure(weights, f"attention of {model.name}")
        return Report(
            metrics=metrics,
            figures=figures,
            texts={"translations.tsv": "\n".join(rows) + "\n"},
            summary=summary,
        )

    def _reference(self, target: str) -> str:
        """The reference as the model is trained to write it (same case and tokens)."""
        text = self.cased(target)
        return pair_io.detokenize(pair_io.tokenize(text, self.target_level), self.target_level)

    def _commonest_training_target(self) -> str:
        from collections import Counter

        counts = Counter(self._reference(tgt) for _, tgt in self.pairs["train"])
        return counts.most_common(1)[0][0]

    def evaluate(self, model, metadata, source, options) -> Report:
        """BLEU, chrF and exact match of the greedy translations of a pairs file."""
        self._restore(metadata)
        found, description = pair_io.read_source(source, None)
        if isinstance(found, dict):
            found = found["test"]
        outputs = [h[0][0] for h in self.translate(model, [s for s, _ in found], 1, 0.0)]
        metrics = corpus_scores(outputs, [self._reference(t) for _, t in found])
        return Report(metrics=metrics, summary=[f"{len(found)} pairs of {description}, greedy"])

    def export_model(self, model, data):
        """The trained model: predict tokenizes and decodes around it."""
        return model

    def export_metadata(self, data) -> dict[str, Any]:
        """Both vocabularies and how each side is tokenized."""
        return {
            "classes": [],
            "source_level": self.source_level,
            "target_level": self.target_level,
            "lowercase": self.lowercase,
            "source_tokens": self.source_vocabulary.items[2:],
            "target_tokens": self.target_vocabulary.items[2:],
            "longest": self.longest,
        }

    def example_table(self, data, metadata: dict[str, Any]) -> dict[str, list]:
        """A test source sentence."""
        return {"input": [self.pairs["test"][0][0]]}

    def _restore(self, metadata: dict[str, Any]) -> None:
        self.source_level, self.target_level = metadata["source_level"], metadata["target_level"]
        self.lowercase, self.longest = metadata["lowercase"], metadata["longest"]
        self.source_vocabulary = Vocabulary(metadata["source_tokens"])
        self.target_vocabulary = Vocabulary(metadata["target_tokens"])

    def predict(self, model, metadata, inputs, beam: int = 1, length_penalty: float = 0.6):
        """The translation of each input; with a beam, its best outputs and log-probabilities."""
        if beam < 1:
            raise UserInputError(f"--set beam={beam}: expected 1 (greedy) or more")
        if not inputs:
            raise UserInputError("nothing to translate: give one or more sentences")
        self._restore(metadata)
        rows = []
        for text, hypotheses in zip(inputs, self.translate(model, inputs, beam, length_penalty)):
            row = {"input": text, "translation": hypotheses[0][0]}
            if beam > 1:
                row["beam"] = [
                    {"translation": t, "log_probability": round(p, 4)} for t, p in hypotheses
                ]
            rows.append(row)
        return rows
