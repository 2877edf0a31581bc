"""Interpolated Kneser-Ney n-gram language models: the baseline a language model must beat.

For an n-gram model over a vocabulary of V symbols (Chen and Goodman 1999, interpolated
Kneser-Ney with one discount D per order):

    p(w | h) = max(c(h w) - D, 0) / c(h .)  +  D * N1+(h .) / c(h .) * p(w | h')

where h' is h without its first symbol, c are raw counts at the highest order and
continuation counts (how many different symbols precede) below it, N1+(h .) is how many
different symbols follow h, and the recursion ends in the uniform 1/V. A history never
seen passes its whole mass down. D = n1 / (n1 + 2 n2) from the counts of counts of each
order (0.5 where it is undefined). Every p(. | h) sums to 1 over the V symbols, so bits per
symbol are comparable with a neural model's over the same vocabulary.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Sequence

import numpy as np


class KneserNey:
    """An interpolated Kneser-Ney model of order ``order`` over ids 0..vocabulary_size-1."""

    def __init__(self, tokens: Sequence[int], order: int, vocabulary_size: int):
        if order < 1:
            raise ValueError(f"order must be at least 1. Received: {order}")
        self.order, self.size = order, vocabulary_size
        tokens = list(tokens)
        self.counts: list[dict[tuple, Counter]] = []  # by history length 0..order-1
        for length in range(order):
            if length == order - 1:
                grams = Counter(tuple(tokens[i : i + order]) for i in range(len(tokens) - length))
            else:  # continuation counts: distinct symbols seen before each (length+1)-gram
                grams = Counter(gram[1:] for gram in _distinct_grams(tokens, length + 2))
            table: dict[tuple, Counter] = defaultdict(Counter)
            for gram, count in grams.items():
                table[gram[:-1]][gram[-1]] = count
            self.counts.append(dict(table))
        self.discounts = [_discount(table) for table in self.counts]
        # c(h .) and N1+(h .) of every history, computed once
        self.totals = [{h: sum(c.values()) for h, c in table.items()} for table in self.counts]

    def probability(self, history: Sequence[int], symbol: int) -> float:
        """p(symbol | the last order-1 symbols of ``history``)."""
        kept = self.order - 1
        return self._p(tuple(history[len(history) - kept :]) if kept else (), symbol)

    def _p(self, history: tuple, symbol: int) -> float:
        lower = self._p(history[1:], symbol) if history else 1.0 / self.size
        followers = self.counts[len(history)].get(history)
        if not followers:  # an unseen history passes its whole mass down
            return lower
        total, discount = self.totals[len(history)][history], self.discounts[len(history)]
        seen = max(followers.get(symbol, 0) - discount, 0.0) / total
        return seen + discount * len(followers) / total * lower

    def bits(self, tokens: Sequence[int], start: int = 1) -> tuple[float, int]:
        """Total bits of ``tokens[start:]``, each given the tokens before it, and their count."""
        each = self.token_bits(tokens, start)
        return float(each.sum()), len(each)

    def token_bits(self, tokens: Sequence[int], start: int = 1) -> np.ndarray:
        """The bits of each of ``tokens[start:]``, given the tokens before it."""
        reach = self.order - 1
        return np.array(
            [
                -math.log2(self.probability(tokens[max(0, i - reach) : i], tokens[i]))
                for i in range(start, len(tokens))
            ]
        )


def _distinct_grams(tokens: list[int], n: int) -> set[tuple]:
    return {tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1)}


def _discount(table: dict[tuple, Counter]) -> float:
    """n1 / (n1 + 2 n2) over the counts of one order; 0.5 when a text too small or too
    regular has no counts of 1 or of 2 (the estimate would be 0, or 1: all mass passed down)."""
    ones = sum(1 for c in table.values() for v in c.values() if v == 1)
    twos = sum(1 for c in table.values() for v in c.values() if v == 2)
    return ones / (ones + 2 * twos) if ones and twos else 0.5
