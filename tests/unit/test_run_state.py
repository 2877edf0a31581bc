"""The saved run state: weights and counters always belong to the same epoch."""

import json

import numpy as np

from seqapps import runstate


def snapshot_after(epoch: int, folder) -> runstate.Snapshot:
    """A snapshot whose weights are the epoch number, saved to ``folder``."""
    snapshot = runstate.Snapshot(folder, interval=0.0, progress=runstate.Progress(epoch=epoch))
    snapshot.variables = [np.full(3, float(epoch), np.float32)]
    snapshot.optimizer = [np.array([epoch], np.float32)]
    snapshot.save()
    return snapshot


def test_a_kill_between_the_two_files_still_pairs_weights_with_their_epoch(tmp_path):
    """Epoch 3's arrays written, then killed before state.json moved on from epoch 2: the
    state resumes after epoch 3 (it once resumed after 2 with epoch 3's weights, and the
    replayed epoch trained the model a fourth time)."""
    snapshot_after(2, tmp_path)
    stale_json = (tmp_path / runstate.STATE_FILE).read_text()
    snapshot_after(3, tmp_path)
    (tmp_path / runstate.STATE_FILE).write_text(stale_json)  # as the kill left it
    progress, arrays = runstate.load(tmp_path)
    assert progress.epoch == 3
    assert arrays["variables"][0].tolist() == [3.0, 3.0, 3.0]
    assert arrays["optimizer"][0].tolist() == [3.0]


def test_state_saved_before_the_counters_moved_into_the_arrays_still_loads(tmp_path):
    snapshot_after(4, tmp_path)
    with np.load(tmp_path / runstate.ARRAYS_FILE) as stored:
        old = {name: stored[name] for name in stored.files if name != runstate.PROGRESS_KEY}
    np.savez(tmp_path / runstate.ARRAYS_FILE, **old)
    (tmp_path / runstate.STATE_FILE).write_text(json.dumps({"epoch": 4, "best_epoch": 1}))
    progress, arrays = runstate.load(tmp_path)
    assert (progress.epoch, progress.best_epoch) == (4, 1)
    assert arrays["variables"][0].tolist() == [4.0, 4.0, 4.0]
    assert runstate.has_state(tmp_path) and not runstate.has_state(tmp_path / "none")
