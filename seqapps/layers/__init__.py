"""Keras layer factories: one architecture family per module, plus shared input adapters.

Modules here import Keras; the arch records in seqapps.archs point at their functions so
that listing architectures stays free of TensorFlow.
"""
