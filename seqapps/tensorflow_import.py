"""Import TensorFlow once, without its start-up chatter.

TensorFlow's C++ core prints INFO lines (oneDNN, CUDA stubs) before its logging is
configured, ignoring TF_CPP_MIN_LOG_LEVEL. We capture stderr while importing and while it
looks for devices, drop those known lines, and pass everything else through. If the import
fails, every captured line is shown. Its later C++ and Python log lines are kept below ERROR
severity; SEQAPPS_TF_VERBOSE=1 turns all of this off.
"""

from __future__ import annotations

import os
import re
import sys
import tempfile

_NOISE = re.compile(
    r"^(I\d{4} .*|WARNING: All log messages before absl::InitializeLog\(\).*"
    r"|E\d{4} .*failed call to cuInit.*)$"
)
_ready = False


def import_tensorflow():
    """Import and return tensorflow, with start-up INFO noise filtered from stderr."""
    global _ready
    if _ready or os.environ.get("SEQAPPS_TF_VERBOSE"):
        import tensorflow as tf

        _ready = True
        return tf
    # TensorFlow's C++ logs: "E" lines such as MapDataset's use_unbounded_threadpool
    # attribute are version chatter, not errors a user can act on (real failures raise).
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile(mode="w+b") as capture:
        os.dup2(capture.fileno(), 2)
        failed = True
        try:
            import tensorflow as tf

            tf.config.list_physical_devices()  # device probing logs now, not mid-run
            failed = False
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            capture.seek(0)
            for line in capture.read().decode("utf-8", "replace").splitlines():
                if failed or not _NOISE.match(line):
                    print(line, file=sys.stderr)
    # Python-side warnings (tf.function retracing after a few predict calls of other batch
    # shapes): advice for TensorFlow developers, not for someone training a model.
    tf.get_logger().setLevel("ERROR")
    _ready = True
    return tf
