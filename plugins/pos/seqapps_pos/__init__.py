"""Part-of-speech tagging for seqapps: `seqapps run pos --arch bilstm`."""

__version__ = "0.1.0"
