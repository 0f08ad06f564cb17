"""A model's own labels, and which to keep: the filters and the schedule of easy-to-hard rounds
(``lab.climb``), each a small function so that each can be checked on hand-made cases.

- ``verified_label``: the reference answer, kept when any sample gave it (rejection sampling);
- ``vote_label``: the most common answer, kept when enough samples (or models) agree and it has
  the length the prompt fixes (no reference needed);
- ``next_frontier``: a round moves one digit further only when it kept enough;
- ``half_and_half``: each round trains on half the newest labels and half everything before.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from ..errors import MathlensError
from ..formats.numbers import answer_width


@dataclass(frozen=True)
class Labelled:
    """One problem a round labelled: what the policy wrote, and whether the arm kept it."""

    a: int
    b: int
    digits: int
    label: str  # what trains if kept: the policy's answer (the reference for verified)
    truth: str  # the reference answer, padded; only the verified arm and the reports read it
    agreement: float  # the share of samples that gave the label (1.0 for a greedy or reference label)
    kept: bool

    @property
    def correct(self) -> bool:
        return self.label == self.truth


def right_length(label: str, a: int, b: int) -> bool:
    """Whether ``label`` is a padded answer of the length the prompt fixes."""
    return label.isdigit() and len(label) == answer_width(a, b)


def majority(samples: Sequence[str]) -> tuple[str, float]:
    """The most common sample (the first seen among equals) and its share."""
    if not samples:
        raise MathlensError("a vote needs at least one sample")
    counts = Counter(samples)
    best = max(counts.values())
    label = next(s for s in samples if counts[s] == best)
    return label, best / len(samples)


def vote_label(samples: Sequence[str], a: int, b: int, agreement: float) -> tuple[str, float, bool]:
    """(label, its share, kept): the majority answer, kept when enough samples agree and it has
    the length the prompt fixes."""
    label, share = majority(samples)
    return label, share, share >= agreement and right_length(label, a, b)


def verified_label(samples: Sequence[str], truth: str) -> tuple[str, float, bool]:
    """(label, share, kept): the reference answer, kept when any sample gave it; else the
    majority answer, not kept."""
    if truth in samples:
        return truth, samples.count(truth) / len(samples), True
    label, share = majority(samples)
    return label, share, False


def next_frontier(frontier: int, kept: int, labelled: int, advance_at: float) -> int:
    """One digit further when the round kept at least ``advance_at`` of what it labelled."""
    return frontier + 1 if labelled and kept / labelled >= advance_at else frontier


def half_and_half(newest: Sequence, before: Sequence, size: int, rng: random.Random) -> list:
    """``size`` rows: half drawn from the newest round's, half from everything before (all from
    before when the round kept nothing)."""
    if not before:
        raise MathlensError("nothing to train on before this round")
    if not newest:
        return rng.choices(list(before), k=size)
    return rng.choices(list(newest), k=size // 2) + rng.choices(list(before), k=size - size // 2)
