"""What the steps of one run share: the RunContext each step reads and fills in."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class RunContext:
    """One run, as the steps of ``training.run`` build it up, in the order they fill it.

    resolve: task, arch, config, echo, chunk, cluster, tracker, experiment_id
    load data: data; choose strategy: strategy; open run: run_id, resume
    build: model, compiled (loss, metric arguments); fit: snapshot, stopped_early
    """

    task: Any
    arch: Any
    config: Any
    echo: Callable[[str], None]
    #: Truncated-BPTT chunk length, or None for ordinary training.
    chunk: int | None
    #: The multi-worker cluster (a StrategyInfo) when --strategy multi-worker, else None.
    cluster: Any
    tracker: Any
    experiment_id: str
    data: Any = None
    strategy: Any = None
    run_id: str = ""
    #: (Progress, arrays) of a resumed run's saved state.
    resume: tuple[Any, dict] | None = None
    params: dict[str, Any] = field(default_factory=dict)
    #: Called with one short line per epoch (pipeline children, whose Keras output is off).
    epoch_echo: Callable[[str], None] | None = None
    model: Any = None
    #: Keyword arguments of compile() that name the metrics ({"metrics": [...]} or weighted).
    metric_arguments: dict[str, Any] = field(default_factory=dict)
    snapshot: Any = None
    #: Where checkpoints and the model folder go (--output-dir/<run id> or a temporary one).
    work: Path | None = None
    #: The resumable state's folder: a new run's, or the one a resumed run was started with.
    state_dir: Path | None = None
    #: A tuning study's link to this run (``tuning.TrialLink``): its per-epoch callbacks, and
    #: the run ends after the best epoch without reading the test split. None for other runs.
    trial: Any = None

    @property
    def stateful(self) -> bool:
        """Whether recurrent state is carried across batches (truncated BPTT)."""
        return self.chunk is not None

    @property
    def global_batch(self) -> int:
        """Examples per step over every replica."""
        return self.config.batch_size * self.strategy.replicas

    @property
    def state_directory(self) -> Path:
        """Where the run's resumable state lives (whatever the current folder is now)."""
        if self.state_dir is None:
            from seqapps import runstate

            self.state_dir = runstate.state_directory(self.config.output_dir, self.run_id)
        return self.state_dir


@dataclass
class RunResult:
    """What a finished run reports back: ids, final metrics and the lines to show."""

    run_id: str
    experiment_id: str
    tracking_uri: str
    metrics: dict[str, float]
    summary: list[str] = field(default_factory=list)
    params: dict[str, str] = field(default_factory=dict)
