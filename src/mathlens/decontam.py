"""Decontamination as the Qwen2.5-Math report does it, shared by the improvement loop and the
corpus pipeline: a training problem is dropped when it
shares a 13-gram with an evaluation problem (both normalized: lower case, punctuation and
symbols removed) *and* the longest common subsequence of the two, in words, covers more than
0.6 of the shorter.

Written by hand because the second test is what makes it the report's: n-gram decontaminators
(datatrove's, lm-eval's) drop on the shared n-gram alone. An index from each evaluation 13-gram
to the problems holding it makes the check one dictionary lookup per training n-gram; the LCS
runs only on the pairs that share one.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

NGRAM = 13
LCS_RATIO = 0.6
_NOT_WORD = re.compile(r"[^\w\s]|_")


def words(text: str) -> list[str]:
    """Lower case, punctuation and symbols removed, split on white space."""
    return _NOT_WORD.sub(" ", text.lower()).split()


def ngrams(tokens: Sequence[str], n: int = NGRAM) -> set[tuple[str, ...]]:
    """Every run of ``n`` words; a text shorter than ``n`` is its own one n-gram."""
    if len(tokens) < n:
        return {tuple(tokens)} if tokens else set()
    return {tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1)}


def lcs_ratio(a: Sequence[str], b: Sequence[str]) -> float:
    """Longest common subsequence of two word lists over the length of the shorter."""
    if not a or not b:
        return 0.0
    if len(a) < len(b):
        a, b = b, a
    previous = [0] * (len(b) + 1)
    for x in a:
        current = [0]
        for j, y in enumerate(b):
            current.append(previous[j] + 1 if x == y else max(previous[j + 1], current[j]))
        previous = current
    return previous[-1] / len(b)


@dataclass(frozen=True)
class EvalText:
    source: str  # the benchmark name or file the problem came from
    text: str


@dataclass
class Report:
    kept: int = 0
    dropped: Counter = field(default_factory=Counter)  # per evaluation source

    def to_dict(self) -> dict:
        return {"kept": self.kept, "dropped": sum(self.dropped.values()), "by_source": dict(self.dropped)}


def shared_ngram(tokens: Sequence[str], other: Sequence[str], n: int = NGRAM) -> bool:
    """A common n-gram; a problem shorter than n words shares one when it appears whole (a page
    that quotes "Compute: 1-2+3-...-100" holds no 13-gram of it)."""
    if len(other) < n:
        return any(tuple(tokens[i : i + len(other)]) == tuple(other) for i in range(len(tokens) - len(other) + 1))
    return bool(ngrams(tokens, n) & ngrams(other, n))


class Index:
    """The evaluation problems, by their 13-grams (problems shorter than that: by their words)."""

    def __init__(self, problems: Iterable[EvalText], n: int = NGRAM, ratio: float = LCS_RATIO) -> None:
        self.n, self.ratio = n, ratio
        self.problems: list[tuple[str, list[str]]] = []
        self.by_ngram: dict[tuple[str, ...], list[int]] = defaultdict(list)
        self.lengths: set[int] = set()  # word counts of the problems shorter than n
        for problem in problems:
            tokens = words(problem.text)
            if not tokens:
                continue
            self.problems.append((problem.source, tokens))
            self.lengths |= {len(tokens)} if len(tokens) < n else set()
            for gram in ngrams(tokens, n):
                self.by_ngram[gram].append(len(self.problems) - 1)

    def match(self, text: str) -> str | None:
        """The source of an evaluation problem ``text`` is contaminated by, or None."""
        tokens = words(text)
        grams = ngrams(tokens, self.n).union(*(ngrams(tokens, k) for k in self.lengths if k <= len(tokens)))
        candidates = {i for gram in grams for i in self.by_ngram.get(gram, ())}
        for i in sorted(candidates):
            source, other = self.problems[i]
            if lcs_ratio(tokens, other) > self.ratio:
                return source
        return None


def brute_force_match(text: str, problems: Sequence[EvalText], n: int = NGRAM, ratio: float = LCS_RATIO) -> str | None:
    """The same decision by comparing with every evaluation problem: the index's reference."""
    tokens = words(text)
    for problem in problems:
        other = words(problem.text)
        if other and shared_ngram(tokens, other, n) and lcs_ratio(tokens, other) > ratio:
            return problem.source
    return None


def decontaminate(rows: Iterable[dict], index: Index, field_name: str = "question") -> tuple[list[dict], Report]:
    """The rows whose ``field_name`` no evaluation problem contaminates, and what was dropped."""
    kept, report = [], Report()
    for row in rows:
        source = index.match(str(row.get(field_name) or row.get("prompt") or ""))
        if source is None:
            kept.append(row)
            report.kept += 1
        else:
            report.dropped[source] += 1
    return kept, report
