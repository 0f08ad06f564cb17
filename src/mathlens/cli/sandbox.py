"""``mathlens sandbox run``: the sandbox that TIR decoding uses."""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Annotated

import typer

from ..errors import MathlensError
from .common import ConfigDefaults, out_console, user_errors

sandbox_app = typer.Typer(
    help="Run Python safely: the sandbox that TIR decoding uses.",
    epilog="Example: mathlens sandbox run solution.py",
    no_args_is_help=True,
)


@sandbox_app.command("run", epilog="Example: mathlens sandbox run solution.py --timeout 5 --cells")
@user_errors
def sandbox_run(
    files: Annotated[list[Path], typer.Argument(help="Python files; each runs in its own sandboxed process.")],
    timeout: Annotated[float, typer.Option(help="Wall-clock seconds per file.")] = 5.0,
    memory_mb: Annotated[int, typer.Option(help="Memory a file may use on top of the warm interpreter.")] = 512,
    cells: Annotated[
        bool, typer.Option("--cells", help="Split each file at '# %%' lines and run it as notebook cells.")
    ] = False,
    isolation: Annotated[str, typer.Option(help="auto (the strongest available), namespaces or rlimits.")] = "auto",
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON result per file.")] = False,
    config: ConfigDefaults = None,
) -> None:
    """Run files as a TIR model's code runs: what a notebook cell shows, limits, no network."""
    import json

    if not timeout > 0:
        raise MathlensError(f"--timeout must be more than 0 seconds, not {timeout:g}")
    if memory_mb < 1:
        raise MathlensError(f"--memory-mb must be at least 1, not {memory_mb}")

    from ..sandbox import Sandbox

    snippets = []
    for path in files:
        try:
            text = path.read_text()
        except OSError as exc:
            raise MathlensError(f"{path}: cannot read ({exc.strerror})") from None
        snippets.append([c for c in re.split(r"(?m)^# %%.*$", text) if c.strip()] or [""] if cells else text)
    with Sandbox(workers=min(len(files), 4), timeout=timeout, memory_mb=memory_mb, isolation=isolation) as box:
        results = box.run_many(snippets)
        level = box.level
    for path, result in zip(files, results):
        if as_json:
            print(json.dumps({"file": str(path), "level": level, **result.to_dict()}))
            continue
        if len(files) > 1:
            out_console.rule(str(path))
        print(result.output)
        if result.stderr.strip():
            print(result.stderr.rstrip(), file=sys.stderr)
        status = "ok" if result.ok else "error"
        print(f"[{status} in {result.seconds:.3f} s · isolation {level}]", file=sys.stderr)
    if not all(r.ok for r in results):
        raise typer.Exit(1)
