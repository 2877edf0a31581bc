"""Long data work says how far it is; quick work stays silent."""

from seqapps.api import progress


def test_progress_counts_on_stderr_when_it_takes_a_while(capsys):
    assert list(progress(["a", "b", "c"], "reading scores", every=0.0)) == ["a", "b", "c"]
    lines = capsys.readouterr().err.splitlines()
    assert [line.split(" (")[0] for line in lines] == [
        "reading scores: 0/3",
        "reading scores: 1/3",
        "reading scores: 2/3",
        "reading scores: 3/3",
    ]


def test_quick_work_is_silent(capsys):
    assert list(progress(range(1000), "reading", every=60.0)) == list(range(1000))
    assert capsys.readouterr().err == ""


def test_a_run_stopped_by_the_epoch_cap_while_improving_says_so():
    from seqapps.finishing import stopped_by_the_cap
    from seqapps.runstate import Progress

    falling = Progress(epoch=5, history={"loss": [5, 4, 3, 2, 1], "val_loss": [5, 4, 3, 2, 1.5]})
    falling.best_epoch = 5
    hint = stopped_by_the_cap(falling, 5, "val_loss", "min")
    assert hint == (
        "note: the best epoch was the last of --epochs 5 and val_loss was still improving "
        "(2 -> 1.5); more epochs may help"
    )
    assert stopped_by_the_cap(falling, 8, "val_loss", "min") == ""  # early stopping ended it
    rising = Progress(epoch=3, history={"loss": [3, 2, 1], "val_accuracy": [0.5, 0.6, 0.7]})
    rising.best_epoch = 3
    assert "val_accuracy was still improving (0.6 -> 0.7)" in stopped_by_the_cap(
        rising, 3, "val_accuracy", "max"
    )
    earlier = Progress(epoch=3, history={"loss": [3, 2, 1], "val_loss": [3, 1, 2]})
    earlier.best_epoch = 2
    assert stopped_by_the_cap(earlier, 3, "val_loss", "min") == ""  # the best was not the last
    converged = Progress(epoch=3, history={"loss": [3, 2, 1], "val_loss": [0.7, 3.5e-5, 3e-5]})
    converged.best_epoch = 3
    assert stopped_by_the_cap(converged, 3, "val_loss", "min") == ""  # a converged creep
