"""Speech for seqapps: `seqapps run speech --arch bilstm` (words) or `--set mode=ctc` (text)."""

__version__ = "0.1.0"
