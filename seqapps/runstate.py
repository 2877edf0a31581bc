"""What a run needs to continue after a crash: weights, optimizer, RNG and callback state.

At the end of every epoch the state is copied in memory (microseconds for our models); it
is written to disk after every epoch while writing costs under 2% of the time between
writes, at least every ``--checkpoint-interval`` seconds, and at once when the run is
interrupted or stops on a NaN. A write goes to a temporary file that replaces the old
one, so a crash or a full disk never leaves a half-written checkpoint behind. The counters
travel in the same file as the weights: a kill between two files' replacements once paired
one epoch's weights with the previous epoch's counters (``state.json`` is a readable copy).

Resuming restores the state of the last saved epoch and replays everything after it: an
epoch that was cut short by a crash restarts from its first batch, with the same data order
it would have had (the shuffle is seeded per epoch).
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from seqapps.exceptions import TrainingError, UserInputError

STATE_FILE = "state.json"
#: A save is due once the time since the last one is this many times what that save took.
SAVE_COST_FACTOR = 50
ARRAYS_FILE = "state.npz"
#: The progress (JSON text) inside the arrays file, so weights and counters change together.
PROGRESS_KEY = "progress"


def state_root() -> Path:
    """Where runs without --output-dir keep their state: $SEQAPPS_STATE_DIR, else
    $XDG_STATE_HOME/seqapps/runs, else ~/.local/state/seqapps/runs.

    Per user, not per working directory, so a run resumes from any folder.
    """
    if os.environ.get("SEQAPPS_STATE_DIR"):
        return Path(os.environ["SEQAPPS_STATE_DIR"]).expanduser()
    base = os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state"
    return Path(base) / "seqapps" / "runs"


def state_directory(output_dir: str | None, run_id: str) -> Path:
    """Where a new run keeps its resumable state: OUTPUT_DIR/<run id>/state, else
    state_root()/<run id>. A resumed run keeps the folder its ``seqapps.state_dir`` names."""
    if output_dir:
        return (Path(output_dir) / run_id / "state").resolve()
    return (state_root() / run_id).resolve()


@dataclass
class Progress:
    """The JSON part of the state: counters and per-epoch history."""

    epoch: int = 0
    history: dict[str, list[float]] = field(default_factory=dict)
    #: The best monitored value, negated when higher is better (so smaller is always best).
    best_loss: float = float("inf")
    best_epoch: int = 0
    wait: int = 0
    fingerprint: str = ""


class Snapshot:
    """The state after the last finished epoch, held in memory until it is saved."""

    def __init__(self, directory: Path | None, interval: float, progress: Progress):
        self.directory, self.interval, self.progress = directory, interval, progress
        self.variables: list[np.ndarray] | None = None
        self.optimizer: list[np.ndarray] | None = None
        self.best: list[np.ndarray] | None = None
        self._saved_at = time.monotonic()
        self._dirty = False
        #: How long the last save took; 0 until one is made (the first epoch then saves).
        self._save_seconds = 0.0

    def capture(self, model) -> None:
        """Copy the model's variables (RNG seeds included) and the optimizer's slots."""
        self.variables = [np.array(v.numpy()) for v in model.variables]
        self.optimizer = [np.array(v.numpy()) for v in model.optimizer.variables]
        self._dirty = True

    def capture_best(self, model) -> None:
        """Remember the current weights as the best so far."""
        self.best = [np.array(v.numpy()) for v in model.variables]

    def due(self) -> bool:
        """Whether to save now: after every epoch while a save costs under 2% of the time
        between saves (small models: a SIGKILL loses at most one epoch), and at least every
        ``--checkpoint-interval`` seconds (large models, whose saves take seconds)."""
        if not self._dirty:
            return False
        elapsed = time.monotonic() - self._saved_at
        return elapsed >= self.interval or elapsed >= SAVE_COST_FACTOR * self._save_seconds

    def save(self) -> None:
        """Write the captured state (atomically); a clear error if the disk refuses."""
        if self.variables is None or self.directory is None:
            return
        started = time.monotonic()
        arrays = {f"v{i}": a for i, a in enumerate(self.variables)}
        arrays.update({f"o{i}": a for i, a in enumerate(self.optimizer or [])})
        arrays.update({f"b{i}": a for i, a in enumerate(self.best or [])})
        text = json.dumps(asdict(self.progress), allow_nan=True)
        arrays[PROGRESS_KEY] = np.array(text)
        partial = self.directory / f".{ARRAYS_FILE}.{os.getpid()}.tmp"
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            with partial.open("wb") as handle:
                np.savez(handle, **arrays)
            partial.replace(self.directory / ARRAYS_FILE)
            partial = self.directory / f".{STATE_FILE}.{os.getpid()}.tmp"
            partial.write_text(text, encoding="utf-8")
            partial.replace(self.directory / STATE_FILE)
        except OSError as error:
            partial.unlink(missing_ok=True)  # the previous state, if any, stays whole
            raise TrainingError(
                f"cannot save the run state in {self.directory} ({error.strerror}); "
                "free some space or choose --output-dir elsewhere"
            ) from None
        now = time.monotonic()
        self._save_seconds = now - started
        self._saved_at, self._dirty = now, False


def has_state(directory: Path) -> bool:
    """Whether a run's state folder holds a saved epoch."""
    return (directory / ARRAYS_FILE).is_file()


def load(directory: Path) -> tuple[Progress, dict[str, list[np.ndarray]]]:
    """The saved progress and arrays ("variables", "optimizer", "best") of a run."""
    if not has_state(directory):
        raise UserInputError(
            f"no saved state in {directory}: the run never finished an epoch, or its state was "
            "removed (it is deleted when a run finishes)"
        )
    with np.load(directory / ARRAYS_FILE) as stored:
        if PROGRESS_KEY in stored.files:
            text = str(stored[PROGRESS_KEY])
        else:  # saved before the counters moved into the arrays file
            text = (directory / STATE_FILE).read_text(encoding="utf-8")
        progress = Progress(**json.loads(text))
        arrays = {
            name: [stored[f"{prefix}{i}"] for i in range(_count(stored.files, prefix))]
            for name, prefix in (("variables", "v"), ("optimizer", "o"), ("best", "b"))
        }
    return progress, arrays


def restore(model, arrays: dict[str, list[np.ndarray]]) -> None:
    """Put saved variables and optimizer slots back into a compiled model."""
    model.optimizer.build(model.trainable_variables)
    for variable, value in zip(model.variables, arrays["variables"], strict=True):
        variable.assign(value)
    for variable, value in zip(model.optimizer.variables, arrays["optimizer"], strict=True):
        variable.assign(value)


def _count(names: list[str], prefix: str) -> int:
    return sum(1 for n in names if n.startswith(prefix) and n[len(prefix) :].isdigit())
