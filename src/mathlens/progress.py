"""One look for every long loop: a rich progress bar on stderr, silent when disabled."""

from __future__ import annotations

from typing import TextIO

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn


def progress_bar(enabled: bool = True, file: TextIO | None = None) -> Progress:
    """A bar with a free-text ``info`` field that callers fill with loss, speed, accuracy;
    on stderr, or on ``file`` where stderr is redirected."""
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("eta"),
        TimeRemainingColumn(),
        TextColumn("{task.fields[info]}"),
        console=Console(file=file) if file is not None else Console(stderr=True),
        disable=not enabled,
        transient=False,
    )
