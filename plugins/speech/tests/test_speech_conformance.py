"""The speech plugin passes the seqapps conformance kit (predict reads WAV files)."""

import numpy as np

from seqapps.testing import TaskConformance
from seqapps_speech import synth


class TestSpeechConformance(TaskConformance):
    task = "speech"
    # `seqapps predict` in a fresh process, and the MLflow Model agreeing with it:
    run_checked_by = "tests/integration/test_models_outside_training.py"
    settings = {"max_samples": 60}

    def make_predict_inputs(self, folder):
        voice = synth.speakers(1, seed=5)[0]
        path = folder / "ai.wav"
        rng = np.random.default_rng(0)
        path.write_bytes(synth.wav_bytes(synth.say(["ai"], voice, rng, 16000), 16000))
        return [str(path)]
