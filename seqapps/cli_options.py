"""Options several `seqapps` commands share, declared once."""

from __future__ import annotations

import click

TRACKING_URI_HELP = "[default: $MLFLOW_TRACKING_URI or sqlite:///mlflow.db]"


def tracking_uri(help_text: str = "MLflow tracking URI."):
    """--tracking-uri, with the default every command resolves it to."""
    return click.option("--tracking-uri", help=f"{help_text} {TRACKING_URI_HELP}")


def set_pairs(help_text: str):
    """--set KEY=VALUE, repeatable, collected as ``set_pairs``."""
    return click.option("--set", "set_pairs", multiple=True, metavar="KEY=VALUE", help=help_text)
