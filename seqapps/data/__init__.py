"""Shared tf.data loaders and data-source helpers used by every task."""
