"""Everything MLflow: store, experiment, run lifecycle, params, metrics, figures, models.

Runs are opened with an explicit experiment id through ``MlflowClient``; nothing here uses
MLflow's process-global "active run" or ``set_experiment`` (both race between processes).
"""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from seqapps.exceptions import TrackingError
from seqapps.task import SPLITS

#: Seconds between background writes of buffered per-epoch metrics.
METRIC_INTERVAL = 2.0

DEFAULT_TRACKING_URI = "sqlite:///mlflow.db"
# A progress bar for a two-file model download is noise in a command's output.
os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
# MLflow caps one log_batch call at 100 params.
_PARAMS_PER_BATCH = 100


def resolve_tracking_uri(explicit: str | None) -> str:
    """--tracking-uri, else MLFLOW_TRACKING_URI, else MLflow's own default sqlite file."""
    return explicit or os.environ.get("MLFLOW_TRACKING_URI") or DEFAULT_TRACKING_URI


def clean_decimal(value: float) -> float:
    """``value`` to float32's precision (7 significant digits): Keras computes in float32, and
    the float64 a float32 widens to shows noise (0.6775000095367432 for 0.6775) in the UI."""
    return float(f"{float(value):.7g}")


#: MLflow 3's UI opens an experiment by its kind: without this tag it shows the GenAI
#: overview (traces) instead of the runs table.
EXPERIMENT_KIND = ("mlflow.experimentKind", "custom_model_development")

#: MLflow error codes that mean the store, not the request, failed.
_STORE_DOWN_CODES = ("TEMPORARILY_UNAVAILABLE", "REQUEST_LIMIT_EXCEEDED")


def is_store_failure(error: BaseException) -> bool:
    """Whether ``error`` means the tracking store failed (its database, the HTTP connection,
    or a server error), rather than training or a bad request to the store."""
    module = type(error).__module__.split(".")[0]
    if module in ("sqlalchemy", "sqlite3", "requests", "urllib3"):
        return True
    if module == "mlflow":  # an invalid param value is MLflow's too, and not a lost store
        return getattr(error, "error_code", "") in _STORE_DOWN_CODES or "API request to" in str(
            error
        )
    return False


def first_line(error: BaseException) -> str:
    """An exception's first line (SQLAlchemy and MLflow add the statement and a URL after)."""
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def epoch_metric_name(key: str) -> str:
    """MLflow name of a Keras log key: train_loss, val_loss, train_accuracy, ..."""
    return key if key.startswith("val_") else f"train_{key}"


def ui_command(tracking_uri: str) -> str:
    """How to see this store in the MLflow UI: a server's address, or the command for a file."""
    if tracking_uri.startswith(("http://", "https://")):
        return f"open {tracking_uri} in a browser"
    return f"mlflow ui --backend-store-uri {tracking_uri}"


@contextlib.contextmanager
def _quick_http_failures() -> Iterator[None]:
    # MLflow retries HTTP calls for minutes by default; a reachability probe should not.
    saved = {
        k: os.environ.get(k)
        for k in ("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "MLFLOW_HTTP_REQUEST_TIMEOUT")
    }
    os.environ["MLFLOW_HTTP_REQUEST_MAX_RETRIES"] = "0"
    os.environ["MLFLOW_HTTP_REQUEST_TIMEOUT"] = "5"
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@contextlib.contextmanager
def _store_creation_lock(tracking_uri: str) -> Iterator[None]:
    """One process at a time opens a sqlite store: the first one creates its schema, and
    MLflow's migrations fail when several processes run them at once on a fresh file."""
    try:
        import fcntl
    except ImportError:  # Windows: no advisory locks here; racing starts stay a risk
        yield
        return
    if not tracking_uri.startswith("sqlite:///") or tracking_uri.endswith(":memory:"):
        yield
        return
    lock_path = Path(tracking_uri[len("sqlite:///") :] + ".seqapps-lock").expanduser()
    with lock_path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@contextlib.contextmanager
def process_store(uri: str) -> Iterator[None]:
    """Point MLflow's process-wide store at ``uri`` for a block, then restore it exactly.

    Some MLflow calls (logging a model, resolving runs:/ URIs) read only the process-wide
    store. ``mlflow.set_tracking_uri`` also exports MLFLOW_TRACKING_URI, which child
    processes inherit, so the previous value and the variable are both put back.
    """
    from mlflow.tracking._tracking_service import utils

    saved_variable = os.environ.get("MLFLOW_TRACKING_URI")
    saved = utils._tracking_uri  # None unless someone set it: mlflow's own default then
    utils.set_tracking_uri(uri)
    try:
        yield
    finally:
        utils.set_tracking_uri(saved)
        if saved_variable is None:
            os.environ.pop("MLFLOW_TRACKING_URI", None)
        else:
            os.environ["MLFLOW_TRACKING_URI"] = saved_variable


def _check_sqlite_location(tracking_uri: str) -> None:
    path_text = tracking_uri[len("sqlite:///") :]
    if not path_text or path_text == ":memory:":
        return
    path = Path(path_text).expanduser().resolve()
    directory = path.parent
    if path.is_file() and path.stat().st_size:
        with path.open("rb") as handle:
            if handle.read(16) != b"SQLite format 3\x00":
                # Before any lock file is made beside it, and before MLflow writes to it.
                raise TrackingError(f"tracking URI {tracking_uri}: {path} is not an SQLite file")
    if not directory.is_dir():
        raise TrackingError(f"tracking URI {tracking_uri}: directory {directory} does not exist")
    if not os.access(directory, os.W_OK):
        raise TrackingError(f"tracking URI {tracking_uri}: directory {directory} is not writable")


class Tracker:
    """A connection to one tracking store, checked before any training starts."""

    def __init__(self, tracking_uri: str | None = None):
        from mlflow import MlflowClient

        # Creating a fresh sqlite store logs schema migrations at INFO: not the user's concern.
        for name in ("mlflow.store.db.utils", "alembic.runtime.migration"):
            logging.getLogger(name).setLevel(logging.WARNING)
        self.uri = resolve_tracking_uri(tracking_uri)
        self._pending: list[Any] = []
        self._buffered: dict[str, list[Any]] = {}
        self._last_send = 0.0
        if self.uri.startswith("sqlite:///"):
            _check_sqlite_location(self.uri)
        try:
            with _quick_http_failures(), _store_creation_lock(self.uri):
                self.client = MlflowClient(tracking_uri=self.uri)
                self.client.search_experiments(max_results=1)
        except TrackingError:
            raise
        except Exception as error:  # MLflow raises many types for a bad or unreachable store
            reason = first_line(error)
            # The whole first line: MLflow puts the fix at its end (e.g. for file stores).
            raise TrackingError(f"cannot use tracking store {self.uri}: {reason}") from None

    def experiment_id(self, name: str) -> str:
        """Id of experiment ``name``, created if missing (safe when processes race)."""
        from mlflow.exceptions import MlflowException

        found = self.client.get_experiment_by_name(name)
        if found is not None:
            if found.lifecycle_stage == "deleted":
                raise TrackingError(
                    f"experiment {name!r} is deleted in {self.uri}; restore it or choose "
                    "another --experiment"
                )
            if EXPERIMENT_KIND[0] not in found.tags:  # made by an older seqapps, or by hand
                self.client.set_experiment_tag(found.experiment_id, *EXPERIMENT_KIND)
            return found.experiment_id
        try:
            return self.client.create_experiment(name, tags=dict([EXPERIMENT_KIND]))
        except MlflowException:
            # Another process created it between our lookup and create.
            found = self.client.get_experiment_by_name(name)
            if found is None:
                raise
            return found.experiment_id

    def check_artifact_root(self, experiment_id: str) -> None:
        """Fail before a run opens when the experiment's artifacts would land in a local
        folder that cannot be written (e.g. ./mlruns in a read-only working directory)."""
        location = self.client.get_experiment(experiment_id).artifact_location or ""
        if location.startswith("file://"):
            location = location[len("file://") :]
        if "://" in location or not location:
            return  # a server or a remote store checks its own
        folder = Path(location).expanduser()
        existing = next((p for p in (folder, *folder.parents) if p.exists()), None)
        if existing is not None and not os.access(existing, os.W_OK):
            raise TrackingError(
                f"tracking store {self.uri}: artifacts go to {folder}, and {existing} is not "
                "writable; run from a writable folder or use another store"
            )

    def start_run(self, experiment_id: str, run_name: str | None, tags: dict[str, str]) -> str:
        """Open a RUNNING run in an explicit experiment and return its id."""
        run = self.client.create_run(experiment_id, run_name=run_name, tags=tags)
        return run.info.run_id

    def get_run(self, run_id: str):
        """The MLflow run ``run_id``; a clear error if the store has none."""
        try:
            return self.client.get_run(run_id)
        except Exception:
            raise TrackingError(f"no run {run_id!r} in tracking store {self.uri}") from None

    def reopen(self, run_id: str, tags: dict[str, str]) -> None:
        """Mark an interrupted run RUNNING again (it continues) and tag why."""
        self.client.update_run(run_id, status="RUNNING")
        self.set_tags(run_id, tags)
        if "seqapps.failure" in self.client.get_run(run_id).data.tags:
            self.client.delete_tag(run_id, "seqapps.failure")  # it is running again

    def metric_steps(self, run_id: str, key: str) -> set[int]:
        """The steps at which metric ``key`` has been logged."""
        return {m.step for m in self.client.get_metric_history(run_id, key)}

    def log_dataset(self, run_id: str, source: str, digest: str, sizes: dict[str, int]) -> None:
        """The run's data as an MLflow dataset input (the runs table's Dataset column): its
        source, the data fingerprint as digest, and the split sizes as its profile."""
        import json

        from mlflow.entities import Dataset, DatasetInput, InputTag

        local = Path(source).exists()
        dataset = Dataset(
            name=Path(source).name if local else source,
            digest=digest,
            source_type="local" if local else "code" if source == "sample" else "external",
            source=json.dumps({"uri": str(Path(source).resolve()) if local else source}),
            profile=json.dumps({"num_rows": sum(sizes.get(s, 0) for s in SPLITS), **sizes}),
        )
        context = InputTag("mlflow.data.context", "training")
        self.client.log_inputs(run_id, datasets=[DatasetInput(dataset, [context])])

    def log_table(self, run_id: str, columns: dict[str, list], artifact_file: str) -> None:
        """Columns as an MLflow table artifact (the run page and the evaluation view read it)."""
        import pandas

        self.client.log_table(run_id, data=pandas.DataFrame(columns), artifact_file=artifact_file)

    def log_params(self, run_id: str, params: dict[str, Any]) -> None:
        """Log params in batches (MLflow limits each call)."""
        from mlflow.entities import Param

        items = [Param(key, str(value)[:6000]) for key, value in params.items()]
        for start in range(0, len(items), _PARAMS_PER_BATCH):
            self.client.log_batch(run_id, params=items[start : start + _PARAMS_PER_BATCH])

    def log_metrics(
        self, run_id: str, metrics: dict[str, float], step: int | None = None, wait: bool = True
    ) -> None:
        """Log several metrics at one step in one call.

        ``wait=False`` buffers the values (stamped now) and sends them in the background at
        most every ``METRIC_INTERVAL`` seconds, so short epochs do not each pay for a store
        write; call ``flush`` before the run is closed.
        """
        import time

        from mlflow.entities import Metric

        timestamp = int(time.time() * 1000)
        batch = [
            Metric(key, clean_decimal(value), timestamp, step or 0)
            for key, value in metrics.items()
        ]
        if batch and wait:
            self.client.log_batch(run_id, metrics=batch)
        elif batch:
            self._buffered.setdefault(run_id, []).extend(batch)
            if time.monotonic() - self._last_send >= METRIC_INTERVAL:
                self._send_buffered()

    def _send_buffered(self) -> None:
        import time

        for run_id, batch in self._buffered.items():
            for start in range(0, len(batch), 1000):  # MLflow takes 1000 metrics per batch
                chunk = batch[start : start + 1000]
                self._pending.append(
                    self.client.log_batch(run_id, metrics=chunk, synchronous=False)
                )
        self._buffered = {}
        self._last_send = time.monotonic()

    def flush(self) -> None:
        """Send buffered metrics and wait for every queued write; a failed one raises here
        rather than being lost silently."""
        self._send_buffered()
        pending, self._pending = self._pending, []
        for operation in pending:
            operation.wait()

    def set_tags(self, run_id: str, tags: dict[str, str]) -> None:
        """Set several tags at once."""
        from mlflow.entities import RunTag

        self.client.log_batch(run_id, tags=[RunTag(k, str(v)) for k, v in tags.items()])

    def log_figure(self, run_id: str, figure: Any, artifact_file: str) -> None:
        """Log a matplotlib figure as a PNG artifact and close it."""
        import matplotlib.pyplot as plt

        self.client.log_figure(run_id, figure, artifact_file)
        plt.close(figure)

    def log_text(self, run_id: str, text: str, artifact_file: str) -> None:
        """Log a text artifact."""
        self.client.log_text(run_id, text, artifact_file)

    def log_bytes(self, run_id: str, data: bytes, artifact_file: str) -> None:
        """Log a binary artifact (e.g. a MIDI or WAV sample) at ``artifact_file``."""
        with tempfile.TemporaryDirectory(prefix="seqapps-artifact-") as scratch:
            path = Path(scratch) / Path(artifact_file).name
            path.write_bytes(data)
            folder = str(Path(artifact_file).parent)
            self.client.log_artifact(run_id, str(path), None if folder == "." else folder)

    def log_directory(self, run_id: str, directory: str | Path, artifact_path: str) -> None:
        """Log every file under ``directory`` below ``artifact_path``."""
        self.client.log_artifacts(run_id, str(directory), artifact_path)

    def download_model(self, uri: str, destination: str | Path) -> Path:
        """Fetch the MLflow Model at ``uri`` (runs:/ID/model, models:/NAME/VERSION) locally."""
        import mlflow.artifacts

        if uri.startswith("runs:/"):
            self.get_run(uri[len("runs:/") :].split("/", 1)[0])  # a clear "no run" first
        try:
            # MLflow looks up a run's logged models in the process-wide store only.
            with process_store(self.uri):
                local = mlflow.artifacts.download_artifacts(
                    artifact_uri=uri, dst_path=str(destination), tracking_uri=self.uri
                )
        except Exception as error:  # MLflow raises several types for a missing model
            reason = str(error).strip().splitlines()[0] if str(error).strip() else ""
            raise TrackingError(f"{uri}: no logged model in {self.uri} ({reason})") from None
        return Path(local)

    def finish(self, run_id: str, status: str = "FINISHED") -> None:
        """Close the run with FINISHED, FAILED or KILLED."""
        self.client.set_terminated(run_id, status)

    def fail(self, run_id: str, reason: str, status: str = "FAILED") -> None:
        """Record why the run failed and close it; never raises (we are already failing)."""
        with contextlib.suppress(Exception):
            self.set_tags(run_id, {"seqapps.failure": reason[:5000]})
        with contextlib.suppress(Exception):
            self.finish(run_id, status)


class NullTracker:
    """Stands in for the tracker on the non-chief workers of a multi-worker job: only the
    chief opens the MLflow run and logs to it."""

    uri = "(the chief's store)"

    def experiment_id(self, name: str) -> str:
        return ""

    def start_run(self, *args: Any, **kwargs: Any) -> str:
        return ""

    def metric_steps(self, *args: Any) -> set[int]:
        return set()

    def __getattr__(self, name: str):
        return lambda *args, **kwargs: None
