"""Greedy and beam-search decoding of a teacher-forced encoder-decoder.

The model maps (source ids, target prefix) to next-token probabilities at every prefix
position. Beam search keeps the ``beam`` best prefixes of every source; a finished
hypothesis (it produced the end token among the ``beam`` best candidates of a step, or
reached ``max_length``) is ranked by its log-probability divided by the length penalty of
Wu et al. (2016), ((5 + length) / 6) ** alpha: alpha 0 ranks by probability alone, which
favours short outputs; larger alpha favours longer ones. Beam 1 is greedy decoding.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Sources decoded together: rows of one model call are sources x beam.
_SOURCES_AT_ONCE = 256


@dataclass(frozen=True)
class Hypothesis:
    """One decoded output: its token ids (no start or end token), log-probability, score."""

    tokens: tuple[int, ...]
    log_probability: float
    score: float


def length_penalty(length: int, alpha: float) -> float:
    """Wu et al. (2016): ((5 + length) / 6) ** alpha."""
    return ((5.0 + length) / 6.0) ** alpha


def decode(model, sources: np.ndarray, ids: dict, beam: int = 1, **options) -> list[list]:
    """The ``beam`` best hypotheses of each (padded) source row, best first.

    ``ids`` holds the start, end and padding token ids; options: ``max_length`` (tokens,
    default 50) and ``alpha`` (length penalty, default 0.6).
    """
    found = []
    for first in range(0, len(sources), _SOURCES_AT_ONCE):
        chunk = np.asarray(sources[first : first + _SOURCES_AT_ONCE])
        found += _beam_search(model, chunk, ids, beam, options)
    return found


def _beam_search(model, sources: np.ndarray, ids: dict, beam: int, options: dict) -> list[list]:
    max_length, alpha = options.get("max_length", 50), options.get("alpha", 0.6)
    count = len(sources)
    rows = np.repeat(sources, beam, axis=0)  # source i's beams are rows i*beam..i*beam+beam-1
    prefixes = np.full((count * beam, 1), ids["start"], np.int32)
    # Only the first beam of each source is alive at the start, so no copy is expanded twice.
    scores = np.tile(np.r_[0.0, np.full(beam - 1, -np.inf)], count)
    finished: list[list[Hypothesis]] = [[] for _ in range(count)]
    for step in range(max_length):
        probabilities = np.asarray(model.predict_on_batch([rows, prefixes]), np.float64)
        log_p = np.log(np.maximum(probabilities[:, -1, :], 1e-30))
        log_p[:, ids["pad"]] = -np.inf
        last = step == max_length - 1
        candidates = (scores[:, None] + log_p).reshape(count, -1)  # (source, beam x vocab)
        order = np.argsort(-candidates, axis=1)[:, : 2 * beam]
        new_prefixes, new_scores = [], []
        for source in range(count):
            kept = []
            for rank, flat in enumerate(order[source]):
                value = candidates[source, flat]
                if not np.isfinite(value):
                    break
                row, token = source * beam + flat // log_p.shape[1], flat % log_p.shape[1]
                tokens = tuple(int(t) for t in prefixes[row, 1:])
                ends = token == ids["end"] or last
                if ends and rank >= beam:  # an ending below the best `beam` is not final
                    continue
                if ends:
                    done = tokens if token == ids["end"] else (*tokens, int(token))
                    penalty = length_penalty(len(done) + 1, alpha)
                    finished[source].append(Hypothesis(done, float(value), value / penalty))
                elif len(kept) < beam:
                    kept.append((row, token, value))
            kept += [(source * beam, ids["pad"], -np.inf)] * (beam - len(kept))
            for row, token, value in kept:
                new_prefixes.append([*prefixes[row], token])
                new_scores.append(value)
        prefixes, scores = np.array(new_prefixes, np.int32), np.array(new_scores)
        if all(
            _settled(finished[s], scores[s * beam : (s + 1) * beam], beam, alpha, max_length)
            for s in range(count)
        ):
            break
    return [sorted(found, key=lambda h: -h.score)[:beam] for found in finished]


def _settled(found: list, alive: np.ndarray, beam: int, alpha: float, max_length: int) -> bool:
    """No live prefix can still beat the beam's worst finished hypothesis: log-probabilities
    only fall, so a prefix's best possible score is its score under the kindest penalty.
    Greedy decoding (beam 1) stops at its first finished hypothesis."""
    if beam == 1 and found:
        return True
    if len(found) < beam:
        return not np.isfinite(alive).any()
    worst = sorted(h.score for h in found)[-beam]
    best_alive = alive.max() if np.isfinite(alive).any() else -np.inf
    return best_alive / length_penalty(max_length, alpha) < worst
