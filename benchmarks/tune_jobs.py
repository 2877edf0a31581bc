"""Wall time of a 12-trial `seqapps tune` with --jobs 1 against --jobs 2, and what it found.

    python benchmarks/tune_jobs.py                 # stock sample, about 8 minutes on 2 cores
    python benchmarks/tune_jobs.py --trials 6 --jobs 1,2,4

Each study runs in a fresh folder (its own MLflow and Optuna stores) as a user types it. The
run with the fixed settings alone (`seqapps run`) is the reference the study must match or
beat: its best-epoch validation loss is printed beside the study's best trial. Nothing here
is asserted: the numbers are for people to read.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import click

SEARCH = [
    "--search", "units=8..128:log",
    "--search", "dropout=0..0.5",
    "--search", "learning_rate=3e-4..1e-2:log",
    "--search", "arch=lstm,gru",
]  # fmt: skip


def seqapps() -> str:
    """The seqapps script beside this interpreter."""
    return str(Path(sys.executable).with_name("seqapps"))


def default_run(task: str, folder: Path) -> float:
    """The best-epoch validation loss of `seqapps run TASK` with the fixed settings."""
    from mlflow import MlflowClient

    subprocess.run([seqapps(), "run", task, "-q"], cwd=folder, check=True, capture_output=True)
    client = MlflowClient(f"sqlite:///{folder / 'mlflow.db'}")
    run = client.search_runs([client.get_experiment_by_name(task).experiment_id])[0]
    return min(m.value for m in client.get_metric_history(run.info.run_id, "val_loss"))


def study(task: str, trials: int, jobs: int, folder: Path) -> dict:
    """Run one study; its wall time, trial states and best value from its summary lines."""
    command = [seqapps(), "tune", task, "--trials", str(trials), "--jobs", str(jobs)]
    command += ["--pruner", "median", *SEARCH]
    started = time.perf_counter()
    done = subprocess.run(command, cwd=folder, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if done.returncode:
        raise click.ClickException(f"{' '.join(command)} failed:\n{done.stdout}\n{done.stderr}")
    states = re.search(r"FINISHED: (\d+) finished, (\d+) pruned, (\d+) failed", done.stdout)
    best = re.search(r"best: trial (\d+), val_loss ([0-9.]+): (.*)", done.stdout)
    test = re.search(r"test \(best trial.*\): (.*)", done.stdout)
    return {
        "jobs": jobs,
        "seconds": seconds,
        "finished": int(states.group(1)),
        "pruned": int(states.group(2)),
        "failed": int(states.group(3)),
        "best_trial": int(best.group(1)),
        "best_val_loss": float(best.group(2)),
        "best_settings": best.group(3),
        "test": test.group(1),
    }


@click.command()
@click.option("--task", default="stock", show_default=True)
@click.option("--trials", default=12, show_default=True)
@click.option("--jobs", "jobs_list", default="1,2", show_default=True, help="Comma-separated.")
def main(task: str, trials: int, jobs_list: str) -> None:
    """Time the same study with each --jobs value."""
    click.echo(f"machine: {os.cpu_count()} cores, python {sys.version.split()[0]}")
    with tempfile.TemporaryDirectory() as scratch:
        reference = Path(scratch) / "default"
        reference.mkdir()
        fixed = default_run(task, reference)
        click.echo(f"seqapps run {task} (fixed settings): best val_loss {fixed:.4f}")
        results = []
        for jobs in (int(j) for j in jobs_list.split(",")):
            folder = Path(scratch) / f"jobs{jobs}"
            folder.mkdir()
            found = study(task, trials, jobs, folder)
            results.append(found)
            click.echo(
                f"--jobs {jobs}: {found['seconds']:.0f} s; {found['finished']} finished, "
                f"{found['pruned']} pruned, {found['failed']} failed; best trial "
                f"{found['best_trial']} val_loss {found['best_val_loss']:.4f} "
                f"({found['best_settings']}); test: {found['test']}"
            )
    first = results[0]["seconds"]
    for found in results[1:]:
        click.echo(f"--jobs {found['jobs']} / --jobs {results[0]['jobs']}: "
                   f"{found['seconds'] / first:.2f} of the wall time")  # fmt: skip


if __name__ == "__main__":
    main()
