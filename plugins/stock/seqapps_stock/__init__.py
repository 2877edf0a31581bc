"""Stock forecasting for seqapps: `seqapps run stock --arch lstm`."""

__version__ = "0.1.0"
