"""``mathlens rft | decontaminate``: training data from a policy's own samples, kept clean."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer

from ..errors import MathlensError
from .common import capability, out_console, user_errors

app = capability("Self-improvement: rejection-sampled data and decontamination.")


@app.command(epilog="Example: mathlens rft --samples runs/eval/samples.jsonl --max-per-problem 4 --out data/rft.jsonl")
@user_errors
def rft(
    samples: Annotated[Path, typer.Option(help="samples.jsonl of `mathlens eval` (graded).")],
    out: Annotated[Path, typer.Option(help="SFT JSONL to write (prompt, completion, provenance).")],
    max_per_problem: Annotated[int, typer.Option(help="Distinct solutions kept per problem.")] = 4,
    min_agreement: Annotated[
        float, typer.Option(help="Problems without a reference: share of votes the majority answer needs.")
    ] = 0.5,
    keep_failed_code: Annotated[bool, typer.Option(help="TIR: keep solutions whose code failed.")] = False,
    round: Annotated[int, typer.Option(help="Round number, for provenance.")] = 0,
) -> None:
    """Keep the verified (or, without a reference, majority-voted) distinct solutions of each problem."""
    from ..improve import RFTConfig, rft_rows
    from ..records import read_jsonl

    if max_per_problem < 1 or not 0 < min_agreement <= 1:
        raise MathlensError("--max-per-problem must be at least 1 and --min-agreement in (0, 1]")
    if not samples.is_file():
        raise MathlensError(f"{samples}: cannot read (no such file)")
    settings = _run_settings(samples.parent / "config.json")
    config = RFTConfig(max_per_problem, min_agreement, not keep_failed_code, round,
                       settings.get("model", ""), settings.get("temperature"))  # fmt: skip
    problems = [0]

    def rows():
        for _, row in read_jsonl(samples, torn_tail=True):
            problems[0] += 1
            yield row

    out.parent.mkdir(parents=True, exist_ok=True)
    kept = 0
    with out.open("w") as f:
        for row in rft_rows(rows(), config):
            f.write(json.dumps(row) + "\n")
            kept += 1
    out_console.print(f"{out}: {kept} solutions from {problems[0]} problems")


def _run_settings(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


@app.command(epilog="Example: mathlens decontaminate data/rft.jsonl --against gsm8k,math_test500,heldout.jsonl")
@user_errors
def decontaminate(
    data: Annotated[Path, typer.Argument(help="Training JSONL (a `question` or `prompt` field per row).")],
    against: Annotated[str, typer.Option(help="Benchmark names and JSONL files, comma-separated.")],
    out: Annotated[Optional[Path], typer.Option(help="Where to write the kept rows.", show_default="DATA.clean.jsonl")] = None,
    data_dir: Annotated[Optional[Path], typer.Option(help="Local benchmark copies (else the hub).")] = None,
) -> None:
    """Drop training problems that share a 13-gram with an evaluation problem and whose LCS ratio > 0.6."""
    from ..evals.problems import load_benchmark
    from ..improve import EvalText, Index
    from ..improve import decontaminate as clean
    from ..records import read_jsonl

    if not data.is_file():
        raise MathlensError(f"{data}: cannot read (no such file)")
    sources = [s.strip() for s in against.split(",") if s.strip()]
    if not sources:
        raise MathlensError("--against names no benchmark or file")
    texts = [EvalText(Path(source).stem, p.question) for source in sources for p in load_benchmark(source, data_dir)]
    kept, report = clean((row for _, row in read_jsonl(data)), Index(texts))
    target = out or data.with_suffix(".clean.jsonl")
    target.write_text("".join(json.dumps(row) + "\n" for row in kept))
    by_source = ", ".join(f"{s} {n}" for s, n in report.dropped.most_common()) or "none"
    out_console.print(f"{target}: kept {report.kept}, dropped {sum(report.dropped.values())} ({by_source})")
