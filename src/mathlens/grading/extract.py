"""Pull the final answer out of a model's completion, saying how it was found.

Written by hand because the order matters and must be visible: a ``\\boxed{}`` (the
prompts ask for one) wins over "the answer is", which wins over GSM8K's ``#### 18``, which
wins over the last number in the text. math-verify's own extraction is tried on the pieces
later, in ``equivalence``.

``final_answer`` is the reader for the lab's answer formats, whose targets end with the answer
on a line of its own (a sentence for some tasks, so not "the last number"); it shares the
"answer is" pattern with ``extract_answer``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_BOX = re.compile(r"\\(?:boxed|fbox)\s*\{")
_ANSWER_IS = re.compile(r"answer\s+is\s*:?\s*(.+?)(?:\.\s|\.?$|\n)", re.IGNORECASE)
_HASHES = re.compile(r"####\s*(.+?)\s*$", re.MULTILINE)
_NUMBER = re.compile(r"-?\d[\d,]*(?:\.\d+)?(?:/\d+)?|-?\.\d+")
_BARE_LETTER = re.compile(r"^\s*\(?([A-J])\)?[.:)]?\s*$")  # a multiple-choice answer and nothing else


@dataclass(frozen=True)
class Extracted:
    pred: str | None
    how: str  # boxed | answer-is | letter | hashes | last-number | none


def last_boxed(text: str) -> str | None:
    """The content of the last ``\\boxed{...}``, nested braces and all; None if unclosed or absent."""
    found = None
    for match in _BOX.finditer(text):
        depth, start = 1, match.end()
        for i in range(start, len(text)):
            depth += {"{": 1, "}": -1}.get(text[i], 0)
            if depth == 0:
                found = text[start:i]
                break
    return found.strip() if found is not None else None


def answer_is(text: str) -> str | None:
    """What follows the last "the answer is" in ``text``, without a closing period or ``$``."""
    said = _ANSWER_IS.findall(text)
    if not said:
        return None
    return said[-1].strip(" $") or None


def final_answer(completion: str) -> str | None:
    """The answer an answer-format completion gives: its last line, or what that line says
    follows "the answer is"."""
    lines = [line for line in completion.strip().splitlines() if line.strip()]
    if not lines:
        return None
    last = lines[-1].strip()
    return answer_is(last) or last


def extract_answer(text: str) -> Extracted:
    boxed = last_boxed(text)
    if boxed:
        return Extracted(boxed, "boxed")
    said = answer_is(text)
    if said:
        return Extracted(said, "answer-is")
    letter = _BARE_LETTER.match(text)
    if letter:
        return Extracted(letter[1], "letter")
    hashes = _HASHES.findall(text)
    if hashes:
        return Extracted(hashes[-1], "hashes")
    numbers = _NUMBER.findall(text)
    if numbers:
        return Extracted(numbers[-1], "last-number")
    return Extracted(None, "none")
