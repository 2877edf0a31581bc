"""How well a language model predicts held-out text: exact bits over the whole test text,
beside Kneser-Ney n-gram baselines scored on the very same tokens."""

from __future__ import annotations

import math

import numpy as np

from seqapps.api import PAD, DataError, bootstrap_interval, verdict_line
from seqapps_textgen.kneser_ney import KneserNey

#: Tokens scored per row of the exact evaluation, and the context each row reads first.
ROW_TOKENS, WARMUP_TOKENS = 2000, 200
#: Probabilities held at once while scoring (rows x steps x vocabulary).
_FLOATS_AT_ONCE = 30_000_000
#: The intervals resample blocks of this many consecutive test tokens: neighbouring tokens
#: are not independent draws (a name, once seen, is easy to predict again nearby).
BLOCK_TOKENS = 1000


def parse_orders(text: str) -> list[int]:
    """ "1-6" or "3,5" -> the n-gram orders to fit."""
    try:
        if "-" in text:
            low, high = (int(part) for part in text.split("-"))
            orders = list(range(low, high + 1))
        else:
            orders = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        orders = []
    if not orders or min(orders) < 1 or max(orders) > 10:
        raise DataError(f"--set ngram_orders={text}: expected orders 1..10 as 1-6 or 3,5")
    return orders


def capped(tokens: dict[str, list], max_samples: int | None, chunk: int, least: int) -> dict:
    """With --max-samples N, each split's first N chunks of tokens (at least ``least``)."""
    if not max_samples:
        return tokens
    keep = max(max_samples * chunk + 1, least)
    return {split: found[:keep] for split, found in tokens.items()}


def score_text(model, ids: np.ndarray, characters: int) -> dict[str, float]:
    """Bits of every test token after the first, each given all the tokens before it, up to
    ``WARMUP_TOKENS`` back (the text is read in rows of ``ROW_TOKENS`` scored tokens, each
    row starting that far earlier).
    """
    rows = []
    for start in range(1, len(ids), ROW_TOKENS):
        begin, end = max(0, start - 1 - WARMUP_TOKENS), min(len(ids), start + ROW_TOKENS)
        rows.append((ids[begin : end - 1], ids[begin + 1 : end], start - 1 - begin))
    longest = max(len(inputs) for inputs, _, _ in rows)
    vocabulary = int(model.output_shape[-1])
    per_call = max(1, _FLOATS_AT_ONCE // (longest * vocabulary))
    each = []
    for first in range(0, len(rows), per_call):
        group = rows[first : first + per_call]
        batch = np.full((len(group), longest), PAD, np.int32)
        for row, (inputs, _, _) in enumerate(group):
            batch[row, : len(inputs)] = inputs
        probabilities = np.asarray(model.predict_on_batch(batch), np.float64)
        for row, (_, targets, skip) in enumerate(group):
            picked = probabilities[row, np.arange(len(targets)), targets][skip:]
            each.append(-np.log2(np.maximum(picked, 1e-30)))
    per_token = np.concatenate(each)
    return {
        "bits": float(per_token.sum()),
        "tokens": len(per_token),
        "characters": characters,
        "per_token": per_token,
    }


def ngram_baselines(ids: dict[str, np.ndarray], size: int, orders: list[int]) -> dict[int, dict]:
    """Kneser-Ney models of each order, fitted on the training ids: bits per token on the
    validation and the test ids (every token after the first)."""
    found = {}
    for order in orders:
        model = KneserNey(ids["train"].tolist(), order, size)
        scores = {"validation": model.bits(ids["validation"].tolist())}
        scores["validation"] = scores["validation"][0] / scores["validation"][1]
        scores["test_per_token"] = model.token_bits(ids["test"].tolist())
        scores["test"] = float(scores["test_per_token"].mean())
        found[order] = scores
    return found


def best_order(baselines: dict[int, dict]) -> int:
    """The order whose model predicts the validation text best."""
    return min(baselines, key=lambda order: baselines[order]["validation"])


def metrics_of(scores: dict, baselines: dict[int, dict], level: str) -> dict[str, float]:
    """The test metrics: bits per token (and per character), perplexity, the baselines."""
    per_token = scores["bits"] / scores["tokens"]
    metrics = {
        "bits_per_token": per_token,
        "perplexity": 2.0**per_token,
        "nats_per_token": per_token * math.log(2),
        "tokens_scored": float(scores["tokens"]),
    }
    unit = "char" if level == "char" else "token"
    if level == "char":
        metrics["bits_per_char"] = per_token
    for order, found in baselines.items():
        metrics[f"baseline_kn{order}_bits_per_{unit}"] = found["test"]
    best = best_order(baselines)
    metrics[f"baseline_ngram_bits_per_{unit}"] = baselines[best]["test"]
    metrics["baseline_ngram_order"] = float(best)
    return metrics


def intervals(scores: dict, baselines: dict, level: str, seed: int) -> dict[str, float]:
    """95% intervals of the model's test bits per token and of its gain over the best
    n-gram (baseline minus model, paired token by token), by a bootstrap over blocks of
    ``BLOCK_TOKENS`` consecutive tokens."""
    unit = "char" if level == "char" else "token"
    ours, theirs = scores["per_token"], baselines[best_order(baselines)]["test_per_token"]
    # One row per block: the model's bits, the baseline's bits, the tokens.
    blocks = np.array(
        [
            (
                ours[i : i + BLOCK_TOKENS].sum(),
                theirs[i : i + BLOCK_TOKENS].sum(),
                len(ours[i : i + BLOCK_TOKENS]),
            )
            for i in range(0, len(ours), BLOCK_TOKENS)
        ]
    )
    low, high = bootstrap_interval(blocks, blocks, _model_bits, seed=seed)
    gain_low, gain_high = bootstrap_interval(blocks, blocks, _gain_bits, seed=seed)
    return {
        f"bits_per_{unit}_ci_low": low,
        f"bits_per_{unit}_ci_high": high,
        f"gain_over_ngram_bits_per_{unit}": float(theirs.mean() - ours.mean()),
        f"gain_over_ngram_bits_per_{unit}_ci_low": gain_low,
        f"gain_over_ngram_bits_per_{unit}_ci_high": gain_high,
        "interval_blocks": float(len(blocks)),
    }


def _model_bits(blocks: np.ndarray, _) -> float:
    return blocks[:, 0].sum() / blocks[:, 2].sum()


def _gain_bits(blocks: np.ndarray, _) -> float:
    return (blocks[:, 1].sum() - blocks[:, 0].sum()) / blocks[:, 2].sum()


def interval_line(metrics: dict, baselines: dict, level: str) -> str:
    """The CLI line of the intervals: the model's bits, and the n-gram's bits minus them."""
    unit, short = ("character", "char") if level == "char" else ("token", "token")
    gain = f"gain_over_ngram_bits_per_{short}"
    return (
        f"95% intervals (bootstrap over {int(metrics['interval_blocks'])} blocks of "
        f"{BLOCK_TOKENS:,} test {unit}s): bits per {unit} "
        f"{metrics[f'bits_per_{short}_ci_low']:.4f}-{metrics[f'bits_per_{short}_ci_high']:.4f}; "
        f"Kneser-Ney {best_order(baselines)}-gram minus the model {metrics[gain]:+.4f} "
        f"({metrics[f'{gain}_ci_low']:+.4f} to {metrics[f'{gain}_ci_high']:+.4f})"
    )


def summary_lines(metrics: dict, baselines: dict, level: str, tokens: int) -> list[str]:
    """The CLI lines: the figure, and the verdict against the baselines."""
    unit = "character" if level == "char" else "token"
    short = "char" if level == "char" else "token"
    best = best_order(baselines)
    shown = {f"Kneser-Ney {best}-gram (best on validation)": baselines[best]["test"]}
    if 1 in baselines and best != 1:
        shown["unigram frequencies"] = baselines[1]["test"]
    return [
        f"test text: {metrics[f'bits_per_{short}']:.4f} bits per {unit} (perplexity "
        f"{metrics['perplexity']:.2f}) over {tokens - 1:,} {unit}s after the first",
        verdict_line(f"bits per {unit}", metrics[f"bits_per_{short}"], shown, "min"),
    ]


def baselines_figure(metrics: dict, baselines: dict, level: str):
    """Test bits per token of each n-gram order, with the model's as a line."""
    import matplotlib.pyplot as plt

    short = "char" if level == "char" else "token"
    orders = sorted(baselines)
    figure, axes = plt.subplots(figsize=(6, 3.5))
    axes.bar([str(o) for o in orders], [baselines[o]["test"] for o in orders], color="#9aa5b1")
    value = metrics[f"bits_per_{short}"]
    axes.axhline(value, color="#c0392b", label=f"the model: {value:.3f}")
    axes.set_xlabel("Kneser-Ney n-gram order")
    axes.set_ylabel(f"test bits per {short}")
    axes.legend()
    figure.tight_layout()
    return figure
