"""Translation task for seqapps (built-in plugin)."""

__version__ = "0.1.0"
