"""benchmarks/run.py keeps working: its fastest section runs and writes its JSON."""

import json
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "run.py"


def test_latency_section_prints_a_table_and_writes_json(tmp_path):
    out = tmp_path / "bench.json"
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--quick", "--only", "latency", "--json", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "seqapps --help" in result.stdout
    figures = json.loads(out.read_text())
    commands = [row["command"] for row in figures["latency"]]
    assert commands == [
        "seqapps --help",
        "seqapps tasks",
        "seqapps archs",
        "seqapps run sentiment --data nothere.csv",  # named before TensorFlow loads
    ]
    assert all(row["seconds"]["min"] > 0 for row in figures["latency"])
    assert list(figures["section_seconds"]) == ["latency"]
    assert "(latency: " in result.stdout and "Total: " in result.stdout


def test_an_unknown_section_is_refused():
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--only", "speed"], capture_output=True, text=True
    )
    assert result.returncode == 2 and "unknown section 'speed'" in result.stderr


def test_an_unknown_task_is_refused_before_anything_runs():
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--only", "overhead", "--tasks", "stock,nope"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2 and "unknown task 'nope'" in result.stderr
    assert "machine:" not in result.stdout  # refused before TensorFlow was imported
