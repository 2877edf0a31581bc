"""Named-entity recognition (many-to-many): BIO or BIOES tags, scored by whole entities.

    seqapps run ner --arch bilstm
    seqapps run ner --data eng.train --set dev_file=eng.testa --set test_file=eng.testb
    seqapps predict RUN_ID "Shares of Kelmar Group rose in Vrala Bay ."

Reading (CoNLL-2003, token<TAB>tag), encoding, padded batching, the model and the tagging
itself are the shared ``TaggingTask``'s. This module adds the sample and entity-level scoring
with seqeval: an entity counts only when its span and type are both right, the CoNLL rule.
"""

from __future__ import annotations

from typing import Any

from seqapps.api import TAGGING_OPTIONS, Option, Report, Sentence, TaggingTask
from seqapps_ner import sample


def scheme_of(tags) -> str:
    """BIOES when any tag is S- or E-, else BIO (IOB2; IOB1 files are read the same way)."""
    return "BIOES" if any(t[:2] in ("S-", "E-") for t in tags) else "BIO"


def entity_scores(gold: list[list[str]], guess: list[list[str]]) -> dict[str, float]:
    """Entity precision, recall and F1, overall (micro) and per type, with seqeval."""
    from seqeval.metrics import classification_report
    from seqeval.scheme import IOBES

    bioes = scheme_of(t for s in gold for t in s) == "BIOES"
    extra = {"mode": "strict", "scheme": IOBES} if bioes else {}
    table = classification_report(gold, guess, output_dict=True, zero_division=0, **extra)
    scores = {}
    for kind, row in table.items():
        if kind.endswith(" avg"):
            continue
        scores[f"f1_{kind}"] = float(row["f1-score"])
        scores[f"support_{kind}"] = float(row["support"])
    micro = table.get("micro avg", {"precision": 0.0, "recall": 0.0, "f1-score": 0.0})
    scores.update(
        entity_precision=float(micro["precision"]),
        entity_recall=float(micro["recall"]),
        entity_f1=float(micro["f1-score"]),
    )
    return scores


def entities(tokens: list[str], tags: list[str]) -> list[dict[str, Any]]:
    """The entities of one tagged sentence: text, type and token span [start, end)."""
    from seqeval.metrics.sequence_labeling import get_entities

    return [
        {"text": " ".join(tokens[start : end + 1]), "type": kind, "start": start, "end": end + 1}
        for kind, start, end in get_entities(list(tags))
    ]


class NerTask(TaggingTask):
    """Find the names of people, organizations, places (any BIO/BIOES tag set) in sentences."""

    name = "ner"
    summary = "Named-entity recognition with BIO/BIOES tags, scored by entities (many-to-many)"
    data_sources = (
        "sample",
        "PATH (CoNLL-2003: token POS chunk NER, -DOCSTART- lines; the NER column)",
        "PATH.tsv (token<TAB>tag, blank line between sentences)",
        "tfds:conll2003",
    )
    options = {
        **TAGGING_OPTIONS,
        "char_features": Option(True, "add a character CNN per word (capitals, unseen names)"),
        "lowercase": Option(True, "lowercase words for the word vocabulary (characters keep case)"),
        "tag_column": Option(
            "",
            "CoNLL-2003 column to learn: ner (default), chunk or pos",
            ("", "ner", "chunk", "pos"),
        ),
    }
    headline_metrics = ("test_entity_f1", "test_entity_precision", "test_entity_recall")
    metric_goals = {"entity_f1": "max", "entity_precision": "max", "entity_recall": "max"}
    monitor = "val_entity_f1"
    tfds_tags = "ner"
    conll2003_column = "ner"
    example_sentence = "Shares of Kelmar Group rose in Vrala Bay ."

    def sample_splits(self, counts: dict[str, int], seed: int) -> dict[str, list[Sentence]]:
        """News-like sentences whose test split names people, firms, places never seen."""
        return sample.generate(counts)

    def validation_metrics(self, model) -> dict[str, float]:
        """Entity F1 on the validation split: what early stopping watches (val_entity_f1)."""
        sentences = self.validation_sentences
        guess = self.tag(model, [s.tokens for s in sentences])
        return {"entity_f1": entity_scores([s.tags for s in sentences], guess)["entity_f1"]}

    def score(self, sentences: list[Sentence], predicted: list[list[str]], known) -> Report:
        """Entity precision/recall/F1 overall and per type, token accuracy, a per-type table."""
        gold = [s.tags for s in sentences]
        metrics = entity_scores(gold, predicted)
        tokens = [(g, p) for s, tags in zip(gold, predicted) for g, p in zip(s, tags)]
        metrics["token_accuracy"] = sum(g == p for g, p in tokens) / len(tokens)
        kinds = sorted(k[3:] for k in metrics if k.startswith("f1_"))
        table = "type,f1,support\n" + "".join(
            f"{k},{metrics[f'f1_{k}']:.4f},{metrics[f'support_{k}']:.0f}\n" for k in kinds
        )
        summary = [
            f"entities: F1 {metrics['entity_f1']:.4f} (precision {metrics['entity_precision']:.4f}"
            f", recall {metrics['entity_recall']:.4f}) over {len(sentences)} sentences; "
            + ", ".join(f"{k} {metrics[f'f1_{k}']:.3f}" for k in kinds)
        ]
        return Report(metrics=metrics, texts={"per_type.csv": table}, summary=summary)

    def predict(self, model, metadata: dict[str, Any], inputs: list[str]) -> list[dict[str, Any]]:
        """One row per sentence: its entities as text, every token's tag, the sentence, and
        the entities as spans (text, type, token start and end)."""
        self.restore(metadata)
        sentences = [text.split() for text in inputs if text.split()]
        rows = []
        for number, (tokens, tags) in enumerate(zip(sentences, self.tag(model, sentences)), 1):
            found = entities(tokens, tags)
            shown = "; ".join(f"{e['text']} ({e['type']})" for e in found) or "(none)"
            rows.append(
                {
                    "sentence": number,
                    "entities": shown,
                    "tags": " ".join(tags),
                    "text": " ".join(tokens),
                    "spans": found,
                }
            )
        return rows

    def write_predictions(self, rows: list[dict[str, Any]], path) -> None:
        """token<TAB>tag lines (CoNLL style), a blank line between sentences."""
        per_token = [
            {"sentence": row["sentence"], "token": token, "tag": tag}
            for row in rows
            for token, tag in zip(row["text"].split(), row["tags"].split())
        ]
        super().write_predictions(per_token, path)
