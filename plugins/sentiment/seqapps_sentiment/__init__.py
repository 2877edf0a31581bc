"""Sentiment classification for seqapps: `seqapps run sentiment --arch bilstm`."""

__version__ = "0.1.0"
