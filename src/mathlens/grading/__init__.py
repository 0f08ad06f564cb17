"""Grading completions against gold answers: extraction, then equivalence (math-verify inside)."""

from __future__ import annotations

from dataclasses import dataclass

from .equivalence import equivalent
from .extract import Extracted, extract_answer, final_answer, last_boxed
from .metrics import bootstrap_ci, maj_at_k, pass_at_k, rm_at_k, rm_vote_at_k


@dataclass(frozen=True)
class Verdict:
    correct: bool
    pred: str | None
    how: str  # how the prediction was found: boxed | answer-is | hashes | last-number | none


def grade(completion: str, gold: str) -> Verdict:
    """Extract the completion's answer and compare it with ``gold``; never raises."""
    found = extract_answer(completion or "")
    return Verdict(equivalent(gold, found.pred), found.pred, found.how)


__all__ = [
    "Extracted",
    "Verdict",
    "bootstrap_ci",
    "equivalent",
    "extract_answer",
    "final_answer",
    "grade",
    "last_boxed",
    "maj_at_k",
    "pass_at_k",
    "rm_at_k",
    "rm_vote_at_k",
]
