"""Weight penalties shared by every architecture family (--l1, --l2)."""

from __future__ import annotations

import keras

from seqapps.archs import EncoderSettings


def kernel_regularizer(settings: EncoderSettings):
    """An L1/L2 penalty for kernels, or None when both are off."""
    if settings.l1 or settings.l2:
        return keras.regularizers.L1L2(l1=settings.l1, l2=settings.l2)
    return None
