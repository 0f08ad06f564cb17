"""Metrics of graded sample records (``records.SampleRow``, one per problem):
pass@1 with its interval, pass@k, maj@k and, where samples carry rewards, rm@k and rm-vote@k;
and the same at several k from the same samples (``by_k``).

Shared by ``mathlens eval``/``report`` and the improvement loop, which both write such records.
"""

from __future__ import annotations

from collections.abc import Callable

from ..errors import MathlensError
from ..records import Sample, SampleRow
from .equivalence import equivalent
from .metrics import bootstrap_ci, maj_at_k, pass_at_k, rm_at_k, rm_vote_at_k


def summarize_rows(all_rows: list[SampleRow], by: str | None = None) -> dict:
    """Per benchmark (or benchmark/``meta[by]``, e.g. subject or level): problems, pass@1 (mean
    over samples) with its 95% interval, pass@k and maj@k with k = the samples per problem."""
    if by is not None and not any(by in row.meta for row in all_rows):
        known = sorted({k for row in all_rows for k in row.meta})
        raise MathlensError(f"no problem has a {by!r} field to split by; they have: {', '.join(known) or 'none'}")
    by_benchmark: dict[str, list[SampleRow]] = {}
    for row in all_rows:
        key = row.benchmark if by is None else f"{row.benchmark}/{row.meta.get(by)}"
        by_benchmark.setdefault(key, []).append(row)
    summary = {}
    for name, rows in by_benchmark.items():
        k = min(len(r.samples) for r in rows)
        pass1 = [sum(bool(s.correct) for s in r.samples) / len(r.samples) for r in rows]
        passk = [pass_at_k(len(r.samples), sum(bool(s.correct) for s in r.samples), k) for r in rows]
        majk = [equivalent(r.gold, maj_at_k([s.pred for s in r.samples], k)) for r in rows]
        summary[name] = {
            "problems": len(rows),
            "k": k,
            "pass@1": sum(pass1) / len(rows),
            "pass@1_ci95": list(bootstrap_ci(pass1)),
            f"pass@{k}": sum(passk) / len(rows),
            f"maj@{k}": sum(majk) / len(rows),
            **sample_counts(rows),
        }
        if all(s.reward is not None for r in rows for s in r.samples):  # scored by a reward model
            summary[name].update(_reward_picks(rows, k))
    return summary


TIMEOUT = "TimeoutError:"  # how the sandbox's output says it stopped a program (wall clock or CPU time)


def sample_counts(rows: list[SampleRow]) -> dict[str, int]:
    """How many samples gave no answer, ran out of tokens (where the backend said why it
    stopped) and how many tool calls the sandbox stopped for time: the failures a pass rate hides."""
    samples = [s for r in rows for s in r.samples]
    return {
        "samples": len(samples),
        "unanswered": sum(s.pred is None for s in samples),
        "truncated": sum(s.finish_reason == "length" for s in samples),
        "tool_timeouts": sum(TIMEOUT in str(c.get("output", "")) for s in samples for c in s.tool_calls or []),
    }


def _reward_picks(rows: list[SampleRow], k: int, best: list[bool] | None = None) -> dict[str, float]:
    """rm@k (the best-rewarded answer; ``best``: its per-row verdicts where already known) and
    rm-vote@k (votes weighted by reward) over the first k."""
    voted = [rm_vote_at_k([s.pred for s in r.samples], [s.reward for s in r.samples], k) for r in rows]
    return {
        f"rm@{k}": sum(_rm_right(rows, k) if best is None else best) / len(rows),
        f"rm-vote@{k}": sum(equivalent(r.gold, p) for r, p in zip(rows, voted)) / len(rows),
    }


def _rm_right(rows: list[SampleRow], k: int) -> list[bool]:
    """Per row: whether the best-rewarded of its first k answers is right."""
    return [equivalent(r.gold, rm_at_k([s.pred for s in r.samples], [s.reward for s in r.samples], k)) for r in rows]


def boxed_is_printed(sample: Sample) -> bool:
    """A TIR sample's stated answer is what its last program printed: a rule-based verifier that
    needs no reference (a model that misreads the output, or ignores it, fails it)."""
    if not sample.tool_calls or sample.pred is None:
        return False
    printed = str(sample.tool_calls[-1].get("output", "")).strip()
    return bool(printed) and equivalent(sample.pred, printed)


def by_k(rows: list[SampleRow], ks: tuple[int, ...] = (4, 8, 16, 32),
         check: Callable[[Sample], bool] | None = None) -> dict[int, dict[str, float]]:  # fmt: skip
    """maj@k, and with rewards rm@k and rm-vote@k, for each k no larger than every problem's
    sample count, from the first k samples of the same rows: how each way of picking an answer
    grows with k, without sampling again. With rewards, ``rm-maj@k`` is rm@k − maj@k with its
    paired 95% bootstrap interval over problems. ``check``, a rule a sample must pass (e.g. its
    boxed answer is what its program printed), adds ``rule-vote@k``: the vote over the samples
    that pass it (all k where none does), a verifier with no training."""
    if not rows:
        return {}
    most = min(len(r.samples) for r in rows)
    scored = all(s.reward is not None for r in rows for s in r.samples)
    curves = {}
    for k in (k for k in ks if k <= most):
        maj = [equivalent(r.gold, maj_at_k([s.pred for s in r.samples], k)) for r in rows]
        curves[k] = {f"maj@{k}": sum(maj) / len(rows)}
        if scored:
            best = _rm_right(rows, k)
            diffs = [float(b) - float(m) for b, m in zip(best, maj)]
            curves[k].update(_reward_picks(rows, k, best))
            curves[k][f"rm-maj@{k}"] = [sum(diffs) / len(diffs), *bootstrap_ci(diffs)]
        if check is not None:
            kept = [[s for s in r.samples[:k] if check(s)] or r.samples[:k] for r in rows]
            rule = [equivalent(r.gold, maj_at_k([s.pred for s in picked], len(picked))) for r, picked in zip(rows, kept)]
            curves[k][f"rule-vote@{k}"] = sum(rule) / len(rows)
    return curves
