"""One error hierarchy: the CLI turns any of these into one clear line and an exit code."""

from __future__ import annotations


class SeqappsError(Exception):
    """Base of every error seqapps raises on purpose; `exit_code` is what the CLI returns."""

    exit_code = 1


class UserInputError(SeqappsError, ValueError):
    """The user asked for something invalid (bad option, file, data): exit code 2."""

    exit_code = 2


class ConfigError(UserInputError):
    """A --config file, --set override or option value is invalid."""


class DataError(UserInputError):
    """A data source is missing, unreadable, malformed or unusable."""


class UnknownNameError(UserInputError):
    """A task or architecture name is not registered; the message lists what is."""

    def __init__(self, kind: str, name: str, available: list[str]):
        self.kind, self.name, self.available = kind, name, available
        choices = ", ".join(available) if available else "(none installed)"
        super().__init__(f"unknown {kind} {name!r}; available: {choices}")


class PluginLoadError(UserInputError):
    """A plugin's entry point could not be imported or does not provide what it should.

    Exit code 2: what is installed needs fixing, not seqapps. The message names the file
    and line where the plugin failed (``SEQAPPS_TRACE_PLUGINS=1`` prints the traceback).
    """

    def __init__(self, name: str, distribution: str, error: BaseException | str):
        self.name, self.distribution, self.error = name, distribution, error
        if isinstance(error, str):
            reason = error
        else:
            reason = f"{type(error).__name__}: {error}{failure_place(error)}"
        super().__init__(f"plugin {name!r} from {distribution} failed to load: {reason}")


def failure_place(error: BaseException) -> str:
    """ " (at FILE:LINE)" of the innermost frame outside Python's import machinery."""
    import traceback

    frames = [
        frame
        for frame in traceback.extract_tb(error.__traceback__)
        if "importlib" not in frame.filename and not frame.filename.startswith("<frozen")
    ]
    return f" (at {frames[-1].filename}:{frames[-1].lineno})" if frames else ""


class PluginWarning(UserWarning):
    """A plugin is installed but cannot be used; the others keep working."""


class DuplicatePluginError(SeqappsError):
    """Two distributions register the same task or architecture name."""

    def __init__(self, group: str, name: str, distributions: list[str]):
        self.group, self.name, self.distributions = group, name, distributions
        super().__init__(
            f"{group} name {name!r} is registered by more than one distribution: "
            + ", ".join(distributions)
            + "; uninstall one of them"
        )


class TrackingError(UserInputError):
    """The MLflow tracking store cannot be reached or used."""


class StoreLostError(SeqappsError):
    """The tracking store went away during a run (longer than MLflow retries): exit code 75.

    Not the user's mistake (2) nor a training failure (1): the state is saved and the run
    can be resumed once the store is back, so schedulers may retry (75 is EX_TEMPFAIL).
    """

    exit_code = 75


class TrainingError(SeqappsError):
    """Training failed after it started (the run is marked FAILED)."""


class RunInterrupted(SeqappsError):
    """Ctrl-C during training: the run is KILLED, its state saved; the message says how to
    resume."""

    exit_code = 130


class DataWarning(UserWarning):
    """Part of the data was skipped (e.g. an unreadable file); the run goes on without it.

    The CLI prints it as one "Warning: ..." line.
    """
