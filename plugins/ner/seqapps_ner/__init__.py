"""Named-entity recognition for seqapps: `seqapps run ner --arch bilstm`."""

__version__ = "0.1.0"
