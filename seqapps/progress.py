"""Progress lines for long data work a user would otherwise watch in silence."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator, Sequence
from typing import TypeVar

T = TypeVar("T")


def progress(items: Sequence[T], label: str, every: float = 5.0) -> Iterator[T]:
    """Yield ``items``; every ``every`` seconds say on stderr how many are done, and once
    more at the end if anything was said (quick work stays silent)."""
    started = last = time.monotonic()
    total, said = len(items), False
    for done, item in enumerate(items):
        now = time.monotonic()
        if now - last >= every:
            print(f"{label}: {done}/{total} ({now - started:.0f} s)", file=sys.stderr, flush=True)
            last, said = now, True
        yield item
    if said:
        elapsed = time.monotonic() - started
        print(f"{label}: {total}/{total} ({elapsed:.0f} s)", file=sys.stderr, flush=True)
