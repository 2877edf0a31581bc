"""Scores of translations as the field reports them (sacrebleu's BLEU and chrF), exact
match, and the attention figure."""

from __future__ import annotations

import numpy as np


def corpus_scores(hypotheses: list[str], references: list[str]) -> dict[str, float]:
    """BLEU and chrF (sacrebleu's defaults: 13a tokenization, one reference per sentence)
    and the share of sentences translated exactly."""
    import sacrebleu

    bleu = sacrebleu.corpus_bleu(hypotheses, [references])
    chrf = sacrebleu.corpus_chrf(hypotheses, [references])
    exact = np.mean([h == r for h, r in zip(hypotheses, references)]) if references else 0.0
    return {"bleu": float(bleu.score), "chrf": float(chrf.score), "exact_match": float(exact)}


def attention_figure(examples: list[tuple[list[str], list[str], np.ndarray]], title: str):
    """One heat map per (source tokens, output tokens, weights[output, source]) example."""
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(1, len(examples), figsize=(4.5 * len(examples), 4), squeeze=False)
    for axis, (source, output, weights) in zip(axes[0], examples):
        axis.imshow(weights, cmap="viridis", aspect="auto", vmin=0.0)
        axis.set_xticks(range(len(source)), source, rotation=90, fontsize=7)
        axis.set_yticks(range(len(output)), output, fontsize=8)
        axis.set_xlabel("source")
        axis.set_ylabel("output")
    figure.suptitle(title)
    figure.tight_layout()
    return figure
