"""Arrange one long sequence for truncated backpropagation through time (stateful training).

The sequence is cut into ``batch_size`` contiguous streams; each stream is cut into chunks
of ``chunk`` steps. Batch k holds chunk k of every stream, in stream order, so row j of
batch k+1 continues row j of batch k, and a stateful recurrent layer carries its state from
one batch to the next while gradients flow back only ``chunk`` steps.
"""

from __future__ import annotations

import numpy as np

from seqapps.exceptions import DataError


def parallel_streams(values: np.ndarray, batch_size: int, chunk: int) -> np.ndarray:
    """Reorder (time, ...) ``values`` into (batches * batch_size, chunk, ...) for TBPTT.

    Steps that do not fill a whole chunk of every stream are dropped from the end.
    """
    if batch_size < 1 or chunk < 1:
        raise ValueError(
            f"batch_size and chunk must be at least 1. Received: {batch_size}, {chunk}"
        )
    values = np.asarray(values)
    chunks_per_stream = len(values) // (batch_size * chunk)
    if chunks_per_stream == 0:
        raise DataError(
            f"a sequence of {len(values)} steps is too short for {batch_size} streams of "
            f"{chunk}-step chunks; lower --batch-size or the chunk length"
        )
    stream_length = chunks_per_stream * chunk
    streams = values[: batch_size * stream_length].reshape(
        batch_size, chunks_per_stream, chunk, *values.shape[1:]
    )
    # (stream, chunk index, step, ...) -> (chunk index, stream, step, ...): batch k = chunk k.
    ordered = np.swapaxes(streams, 0, 1)
    return ordered.reshape(chunks_per_stream * batch_size, chunk, *values.shape[1:])
