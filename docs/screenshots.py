"""Take the README's MLflow UI screenshots from a real sweep, with headless Chromium.

    .venv/bin/seqapps pipeline run pipelines/sentiment-quick.yaml --tracking-uri sqlite:///ui.db
    python3.11 -m venv /tmp/shots && /tmp/shots/bin/pip install playwright
    /tmp/shots/bin/python docs/screenshots.py --store ui.db --chromium /usr/bin/chromium

It starts `seqapps ui` on the store (the venv's seqapps), opens the sweep's experiment and
writes three PNGs to docs/images/: the runs table with metric columns, the parent run's page
naming the winner, and the chart (compare) view. Playwright drives the system Chromium
(Debian's package); nothing is downloaded.
"""

from __future__ import annotations

import argparse
import json
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SEQAPPS = ROOT / ".venv" / "bin" / "seqapps"


def free_port() -> int:
    """A loopback port nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def rest(base: str, endpoint: str, body: dict) -> dict:
    """POST to MLflow's REST API."""
    request = urllib.request.Request(
        f"{base}/api/2.0/mlflow/{endpoint}",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as reply:
        return json.loads(reply.read())


def start_ui(store: Path, port: int) -> subprocess.Popen:
    """`seqapps ui` on ``store``, returned once it answers."""
    process = subprocess.Popen(
        [str(SEQAPPS), "ui", "--tracking-uri", f"sqlite:///{store}", "--port", str(port)],
        stdout=subprocess.PIPE,
        text=True,
    )
    for line in process.stdout:  # `seqapps ui` prints its URL once the server answers
        if line.startswith("MLflow UI on"):
            return process
    raise SystemExit("seqapps ui stopped before it answered")


def sweep_ids(base: str, experiment: str) -> tuple[str, str]:
    """The experiment's id and its (newest) pipeline parent run's id."""
    found = rest(
        base, "experiments/search", {"max_results": 100, "filter": f"name = '{experiment}'"}
    )
    experiment_id = found["experiments"][0]["experiment_id"]
    runs = rest(
        base,
        "runs/search",
        {
            "experiment_ids": [experiment_id],
            "filter": "tags.`seqapps.pipeline_key` != ''",
            "order_by": ["attributes.start_time DESC"],
        },
    )["runs"]
    return experiment_id, runs[0]["info"]["run_id"]


def show_metric_columns(page, metrics: list[str]) -> None:
    """Tick ``metrics`` in the runs table's column chooser (the UI starts without them)."""
    page.get_by_role("button", name="Columns").click()
    for metric in metrics:
        page.get_by_text(metric, exact=True).first.click()
    page.keyboard.press("Escape")


def expand(page, parent_name: str) -> None:
    """Open the parent's row: its children are folded under it."""
    link = page.get_by_role("link", name=parent_name).last  # the table's, not the sidebar's
    box = link.bounding_box()
    page.mouse.click(box["x"] - 32, box["y"] + box["height"] / 2)  # the +/- left of the name


def shoot(base: str, experiment_id: str, parent_id: str, chromium: str, out: Path) -> None:
    """Write ui-runs-table.png, ui-compare-charts.png and ui-parent-run.png to ``out``."""
    from playwright.sync_api import sync_playwright

    runs = f"{base}/#/experiments/{experiment_id}/runs"
    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=chromium)
        page = browser.new_page(viewport={"width": 1900, "height": 760})
        page.goto(f"{runs}?compareRunsMode=TABLE")
        page.wait_for_timeout(8000)
        page.get_by_role("button", name="Close").first.click()  # the assistant panel
        page.get_by_text("Model training", exact=True).first.click()
        page.wait_for_timeout(1500)
        show_metric_columns(page, ["test_accuracy", "test_macro_f1", "best_test_accuracy"])
        page.wait_for_timeout(500)
        expand(page, "sentiment-quick")
        page.wait_for_timeout(2000)
        page.screenshot(path=out / "ui-runs-table.png")
        page.goto(f"{runs}?compareRunsMode=CHART")
        page.wait_for_timeout(6000)
        page.screenshot(path=out / "ui-compare-charts.png")
        page.goto(f"{base}/#/experiments/{experiment_id}/runs/{parent_id}")
        page.wait_for_timeout(6000)
        page.screenshot(path=out / "ui-parent-run.png", full_page=True)
        browser.close()


def main() -> None:
    """Start the UI on the store, take the screenshots, stop the UI."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", type=Path, required=True, help="sqlite file of the sweep")
    parser.add_argument("--experiment", default="sentiment-quick")
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "images")
    args = parser.parse_args()
    port = free_port()
    process = start_ui(args.store.resolve(), port)
    try:
        base = f"http://127.0.0.1:{port}"
        experiment_id, parent_id = sweep_ids(base, args.experiment)
        shoot(base, experiment_id, parent_id, args.chromium, args.out)
    finally:
        process.terminate()
        process.wait(timeout=60)
    print(f"wrote {args.out}/ui-runs-table.png, ui-parent-run.png, ui-compare-charts.png")


if __name__ == "__main__":
    started = time.monotonic()
    main()
    print(f"took {time.monotonic() - started:.0f} s")
