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
