"""Pull the final answer out of a model's completion, saying how it was found.

Written by hand because the order matters and must be visible: a ``\\boxed{}`` (the
prompts ask for one) or "the answer is", whichever the text says last, wins over a bare
choice letter, then GSM8K's ``#### 18``, then the last LaTeX expression (``$…$``, ``\\(…\\)``,
``\\[…\\]``), then the last number in the text. Boxes that end the text side by side
(``\\boxed{-2} and \\boxed{1}``) are one answer, ``-2,1``. math-verify reads the pieces
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
# A number not glued to a word ("AZYUK2A" holds none), or a bare \frac of two integers.
_NUMBER = re.compile(r"-?\\[dtc]?frac\{\d+\}\{\d+\}|(?<![A-Za-z])(?:-?\d[\d,]*(?:\.\d+)?(?:/\d+)?|-?\.\d+)")
# Display math may span lines; inline math may not (a "$" left open is not an expression).
_MATH_SPAN = re.compile(
    r"\$\$(?P<a>.+?)\$\$|\\\[(?P<b>.+?)\\\]|\\\((?P<c>[^\n]+?)\\\)|(?<!\\)\$(?P<d>[^\n$]*?(?:\\\$[^\n$]*?)*)(?<!\\)\$",
    re.DOTALL,
)
# What may sit between boxes that together give one answer: space, commas, "and", $, \quad.
_BETWEEN_BOXES = re.compile(r"^(?:\s|[,;.$]|\\q?quad|\\text\{\s*(?:and|or)\s*\}|\\[\[\]()]|and|or)*$")
# Two words in a row are prose between currency signs ("$18 and gets $"), not mathematics.
_PROSE = re.compile(r"[A-Za-z]{2,}\s+[A-Za-z]{2,}")
_COMMANDS = re.compile(r"\\text\{[^{}]*\}|\\[A-Za-z]+")
_BARE_LETTER = re.compile(r"^\s*\(?([A-J])\)?[.:)]?\s*$")  # a multiple-choice answer and nothing else


@dataclass(frozen=True)
class Extracted:
    pred: str | None
    how: str  # boxed | answer-is | letter | hashes | latex | last-number | none


def _boxes(text: str) -> list[tuple[int, int, str]]:
    """Every closed ``\\boxed{...}`` as (start, end, content), nested braces and all."""
    found = []
    for match in _BOX.finditer(text):
        depth, start = 1, match.end()
        for i in range(start, len(text)):
            depth += {"{": 1, "}": -1}.get(text[i], 0)
            if depth == 0:
                found.append((match.start(), i + 1, text[start:i].strip()))
                break
    return found


def last_boxed(text: str) -> str | None:
    """The content of the last ``\\boxed{...}``; None if unclosed or absent."""
    boxes = _boxes(text)
    return boxes[-1][2] if boxes else None


def _final_boxes(text: str) -> tuple[int, str] | None:
    """Where the last run of side-by-side boxes ends, and their contents joined by commas."""
    boxes = _boxes(text)
    if not boxes:
        return None
    run = [boxes[-1]]
    for box in reversed(boxes[:-1]):
        if not _BETWEEN_BOXES.match(text[box[1] : run[0][0]]):
            break
        run.insert(0, box)
    return run[-1][0], ",".join(content for _, _, content in run)


def _answer_is(text: str) -> tuple[int, str] | None:
    said = list(_ANSWER_IS.finditer(text))
    if not said:
        return None
    answer = said[-1].group(1).strip(" $")
    return (said[-1].start(1), answer) if answer else None


def answer_is(text: str) -> str | None:
    """What follows the last "the answer is" in ``text``, without a closing period or ``$``."""
    found = _answer_is(text)
    return found[1] if found else None


def _last_math(text: str) -> tuple[int, str] | None:
    """Where the last LaTeX expression (``$…$``, ``$$…$$``, ``\\(…\\)``, ``\\[…\\]``) ends, and it."""
    found = None
    for match in _MATH_SPAN.finditer(text):
        content = next(g for g in match.groups() if g is not None).strip()
        if content and not _PROSE.search(_COMMANDS.sub(" ", content)):
            found = (match.end(), content)
    return found


def final_answer(completion: str) -> str | None:
    """The answer an answer-format completion gives: its last line, or what that line says
    follows "the answer is"."""
    lines = [line for line in completion.strip().splitlines() if line.strip()]
    if not lines:
        return None
    last = lines[-1].strip()
    return answer_is(last) or last


def extract_answer(text: str) -> Extracted:
    boxed, said = _final_boxes(text), _answer_is(text)
    if said and (not boxed or said[0] > boxed[0]):  # "the final answer is 5" after a boxed step
        return Extracted(said[1], "answer-is")
    if boxed and boxed[1]:
        return Extracted(boxed[1], "boxed")
    letter = _BARE_LETTER.match(text)
    if letter:
        return Extracted(letter[1], "letter")
    hashes = _HASHES.findall(text)
    if hashes:
        return Extracted(hashes[-1], "hashes")
    math, numbers = _last_math(text), list(_NUMBER.finditer(text))
    if math and (not numbers or numbers[-1].start() < math[0]):  # whichever the text ends with
        return Extracted(math[1], "latex")
    if numbers:
        return Extracted(numbers[-1].group(), "last-number")
    return Extracted(None, "none")
