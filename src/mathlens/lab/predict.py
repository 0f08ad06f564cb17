"""Completions in an answer format from any backend: plain decoding, or with the interpreter for TIR."""

from __future__ import annotations

from collections.abc import Sequence

from ..backends import Backend, Sampling
from ..backends.tools import generate_with_tools
from ..formats import Format
from ..sandbox import Sandbox

LAB_TOOL_CALLS = 2  # a lab target makes one call; one more lets a model retry
SHOT_BREAK = "\n\n"  # between demonstrations: a few-shot completion ends where the next would begin


def complete(
    backend: Backend,
    prompts: Sequence[str],
    fmt: Format,
    max_new_tokens: int,
    sandbox: Sandbox | None = None,
    samples: int = 1,
    temperature: float = 0.0,
    seed: int = 0,
    few_shot: bool = False,
) -> list[dict]:
    """One ``{"completion", "pred", "calls"?}`` per prompt, in order (the first sample's), and
    with ``samples`` > 1 every sample's answer in ``preds``. TIR runs the model's code on
    ``sandbox`` (one is started when none is given). ``few_shot``: a completion is cut where
    the model starts a demonstration of its own."""
    sampling = Sampling(
        n=samples,
        temperature=temperature if samples > 1 else 0.0,
        max_tokens=max_new_tokens,
        stop=(SHOT_BREAK,) if few_shot else (),
        seed=seed,
    )
    if fmt.name == "tir":
        solved = generate_with_tools(backend, prompts, sampling, sandbox, max_calls=LAB_TOOL_CALLS)
        outs = [[(s.completion, s.calls) for s in group] for group in solved]
    else:
        outs = [[(c, None) for c in group] for group in backend.generate(list(prompts), sampling)]
    rows = []
    for group in outs:
        texts = [c.split(SHOT_BREAK)[0] if few_shot else c for c, _ in group]
        row = {"completion": texts[0], "pred": fmt.read(texts[0])}
        if group[0][1] is not None:
            row["calls"] = group[0][1]
        if samples > 1:
            row["preds"] = [fmt.read(t) for t in texts]
        rows.append(row)
    return rows
