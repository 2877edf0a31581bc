"""Part-of-speech tagging (many-to-many): one tag per token.

    seqapps run pos --arch bilstm
    seqapps run pos --data en_ewt-ud-train.conllu --set dev_file=en_ewt-ud-dev.conllu \\
        --set test_file=en_ewt-ud-test.conllu --set char_features=true
    seqapps predict RUN_ID "The old man the boats ."

Reading, encoding, padded batching, the model and predict are the shared ``TaggingTask``'s;
this module adds the sample and the POS figures (token, unknown-word and sentence accuracy).
Sentences are never cut: every token of the test split is evaluated.
"""

from __future__ import annotations

import numpy as np

from seqapps.api import (
    TAGGING_OPTIONS,
    Option,
    Report,
    Sentence,
    TaggingTask,
    label_confusion,
    per_class_scores,
)
from seqapps_pos import sample


class PosTask(TaggingTask):
    """Tag every token of a sentence (UPOS, XPOS or any tag set)."""

    name = "pos"
    summary = "Part-of-speech tagging of tokenized sentences (many-to-many)"
    data_sources = (
        "sample",
        "PATH.conllu (CoNLL-U; --set tag_column=upos|xpos)",
        "PATH.conll (CoNLL-2003: token POS chunk NER; the POS column)",
        "PATH.tsv (token<TAB>tag, blank line between sentences)",
        "tfds:conll2003",
    )
    # Defaults chosen on UD English EWT (docs/quality.md has every setting tried): the
    # character CNN, 30% of training words dropped to <unk>, and filters of widths 3-5 over
    # words marked at both ends took unknown-word accuracy from 0.75 to 0.80.
    options = {
        **TAGGING_OPTIONS,
        "char_features": Option(True, "add a character CNN per word (helps unknown words)"),
        "word_dropout": Option(
            0.3, "in training, share of words replaced by <unk> (learns unknown words)"
        ),
        "char_filters": Option(64, "character CNN filters per width"),
        "char_widths": Option("3,4,5", "characters each CNN filter sees, comma-separated"),
        "char_boundaries": Option(
            True, "mark where each word begins and ends, so a filter can see a suffix"
        ),
        "tag_column": Option(
            "",
            "column to learn: upos|xpos (CoNLL-U, default upos), pos|chunk (CoNLL-2003, "
            "default pos)",
            ("", "upos", "xpos", "pos", "chunk"),
        ),
    }
    headline_metrics = ("test_token_accuracy", "test_unknown_accuracy", "test_sentence_accuracy")
    tfds_tags = "pos"
    conll2003_column = "pos"

    def sample_splits(self, counts: dict[str, int], seed: int) -> dict[str, list[Sentence]]:
        """Generated sentences where context on both sides decides (see ``sample``)."""
        return sample.generate(counts)

    def score(self, sentences: list[Sentence], predicted: list[list[str]], known) -> Report:
        """Token, unknown-word and sentence accuracy, per-tag P/R/F1 and a confusion figure."""
        from seqapps.api import plots

        gold = [t for s in sentences for t in s.tags]
        guess = [t for tags in predicted for t in tags]
        unknown = np.array([self.word(t) not in known for s in sentences for t in s.tokens])
        right = np.array([g == p for g, p in zip(gold, guess)])
        metrics = {
            "token_accuracy": float(right.mean()),
            "unknown_accuracy": float(right[unknown].mean()) if unknown.any() else float("nan"),
            "unknown_tokens": float(unknown.sum()),
            "sentence_accuracy": float(
                np.mean([p == s.tags for p, s in zip(predicted, sentences)])
            ),
            "tokens_evaluated": float(len(right)),
        }
        tags = sorted(set(self.tags) | set(gold))
        table, matrix = per_tag_scores(gold, guess, tags)
        figures = {"confusion_matrix": plots.confusion_matrix(*most_confused(matrix, tags))}
        summary = [
            f"tagged {len(right)} tokens: accuracy {metrics['token_accuracy']:.4f}, "
            f"unknown words {metrics['unknown_accuracy']:.4f} ({int(unknown.sum())} tokens), "
            f"whole sentences {metrics['sentence_accuracy']:.4f}"
        ]
        return Report(
            metrics=metrics, figures=figures, texts={"per_tag.csv": table}, summary=summary
        )


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
