"""seqapps: train, compare and serve recurrent sequence models on real tasks.

    seqapps run sentiment --arch bilstm

Importing this package is cheap: TensorFlow is only imported when a run needs it.
"""

__version__ = "0.1.0"
