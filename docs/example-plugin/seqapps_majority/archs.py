"""Example third-party architecture: described here without importing Keras."""

from seqapps.api import Arch

LNGRU = Arch(
    name="lngru",
    summary="Example plugin: GRU followed by RMS normalization (a custom layer)",
    kinds=("many-to-one", "tagging", "forecasting", "generation"),
    factory="seqapps_majority.layers:lngru",  # imported only when a run uses it
)
