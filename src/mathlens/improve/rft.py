"""Rejection-sampling fine-tuning data (RFT): from sampled solutions, the ones to train on.

A problem with a reference keeps the samples ``grade`` verified; one without keeps those that
agree with the majority answer (equivalent answers vote together) when that answer has at
least ``min_agreement`` of the votes, as the Qwen2.5-Math report labels synthesized problems.
Solutions are deduplicated on normalized text, at most ``max_per_problem`` distinct ones per
problem are kept, and in TIR mode a solution whose code failed is dropped. Every row says
where it came from.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from ..grading import equivalent, maj_at_k
from ..records import Sample, SampleRow
from .difficulty import pass_rate

_SPACE = re.compile(r"\s+")
# The sandbox shows a failed cell as its traceback's last line: "NameError: name 'x' …".
_FAILED = re.compile(r"(?m)^[A-Za-z_][\w.]*(Error|Exception|Exit|Interrupt)\b(:|$)")


@dataclass(frozen=True)
class RFTConfig:
    max_per_problem: int = 4
    min_agreement: float = 0.5  # share of the votes the majority answer needs (no reference)
    require_code_ran: bool = True  # TIR: drop a solution whose code failed
    round: int = 0
    sampler: str = ""  # the model that sampled, for provenance
    temperature: float | None = None
    by_reward: bool = False  # samples that carry a reward-model score: keep the highest first


def normalized(text: str) -> str:
    """The text two solutions must differ in to count as two: case and spacing do not."""
    return _SPACE.sub(" ", text.strip().lower())


def code_ran(sample: Sample) -> bool:
    """Every tool call of a TIR sample produced output rather than an error."""
    return not any(_FAILED.search(str(call.get("output", ""))) for call in sample.tool_calls or ())


def vote(samples: list[Sample]) -> tuple[str | None, float]:
    """The majority answer over the samples' predictions and its share of all the samples."""
    preds = [s.pred for s in samples]
    winner = maj_at_k(preds, len(preds)) if preds else None
    if winner is None:
        return None, 0.0
    agree = sum(1 for p in preds if p is not None and (p == winner or equivalent(winner, p)))
    return winner, agree / len(preds)


def select(row: SampleRow, config: RFTConfig) -> list[dict]:
    """The SFT rows one problem's samples give."""
    samples = list(row.samples)
    if row.gold not in (None, ""):
        chosen = [s for s in samples if s.correct]
        label = {"label": "verified"}
    else:
        answer, share = vote(samples)
        if answer is None or share < config.min_agreement:
            return []
        chosen = [s for s in samples if s.pred is not None and equivalent(answer, s.pred)]
        label = {"label": "vote", "vote_share": round(share, 4), "voted_answer": answer}
    if config.require_code_ran:
        chosen = [s for s in chosen if code_ran(s)]
    if config.by_reward and all(s.reward is not None for s in chosen):
        chosen = sorted(chosen, key=lambda s: -s.reward)  # stable: ties keep their order
    seen, out = set(), []
    for sample in chosen:
        key = normalized(sample.completion)
        if not key or key in seen:
            continue
        seen.add(key)
        out.append(
            {
                "prompt": row.extra.get("prompt") or row.question,
                "completion": sample.completion,
                "problem": {"benchmark": row.benchmark, "id": row.id},
                "provenance": {
                    "round": config.round,
                    "sampler": config.sampler,
                    "temperature": config.temperature,
                    "pass_rate": None if (rate := pass_rate(row)) is None else round(rate, 4),
                    **label,
                    **({"reward": sample.reward} if sample.reward is not None else {}),
                },
            }
        )
        if len(out) >= config.max_per_problem:
            break
    return out


def rft_rows(rows: Iterable[SampleRow], config: RFTConfig) -> Iterator[dict]:
    """SFT rows (``prompt``/``completion``, as ``mathlens finetune`` reads) from eval samples."""
    for row in rows:
        yield from select(row, config)
