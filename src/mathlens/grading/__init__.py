"""Grading completions against gold answers: extraction, then equivalence (math-verify inside)."""

from __future__ import annotations

from dataclasses import dataclass

from .equivalence import equivalent
from .extract import Extracted, extract_answer, last_boxed


@dataclass(frozen=True)
class Verdict:
    correct: bool
    pred: str | None
    how: str  # how the prediction was found: boxed | answer-is | hashes | last-number | none


def grade(completion: str, gold: str) -> Verdict:
    """Extract the completion's answer and compare it with ``gold``; never raises."""
    found = extract_answer(completion or "")
    return Verdict(equivalent(gold, found.pred), found.pred, found.how)


__all__ = ["Extracted", "Verdict", "equivalent", "extract_answer", "grade", "last_boxed"]
