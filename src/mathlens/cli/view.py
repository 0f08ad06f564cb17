"""``mathlens view``: a run (or several, side by side) as one HTML page that opens from disk."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from .common import ConfigDefaults, capability, user_errors

app = capability("Looking at runs in a browser.")


@app.command(
    epilog="Example: mathlens view runs/improve-climb\n\n"
    "Two evaluations side by side: mathlens view runs/improve-bestof/round-0/eval runs/improve-bestof/round-1/eval "
    "--out bestof.html"
)
@user_errors
def view(
    runs: Annotated[list[Path], typer.Argument(
        metavar="RUN",
        help="Run folders: an eval run (samples.jsonl), a lab run (predictions.jsonl, here or in subfolders) or an "
        "improve run (improve.json, round-r/eval/). With two eval or improve runs, their common problems side by side."
    )],  # fmt: skip
    out: Annotated[Optional[Path], typer.Option(
        help="The HTML file to write.", show_default="RUN/view.html for one run, ./view.html for several"
    )] = None,  # fmt: skip
    config: ConfigDefaults = None,
) -> None:
    """Write one self-contained HTML page (metrics, plots, training curves, a sample browser with
    filters, lab grids) that opens from disk with no server and no network; prints its path."""
    from ..view import write_view

    print(write_view(runs, out))
