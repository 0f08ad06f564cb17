"""Metrics from saved samples: per benchmark (or subject, level), pass@1 with its interval,
pass@k, maj@k and, where samples carry rewards, rm@k."""

from __future__ import annotations

from pathlib import Path

from ..errors import MathlensError
from ..grading import bootstrap_ci, equivalent, maj_at_k, pass_at_k, rm_at_k
from ..records import read_jsonl


def read_samples(samples_path: str | Path) -> list[dict]:
    """Graded sample lines; a torn last line (a killed run's) is left out, anything else that is
    not a graded sample line is an error naming its line."""
    rows = []
    for where, row in read_jsonl(samples_path, torn_tail=True):
        samples = row.get("samples")
        if not isinstance(samples, list) or "gold" not in row:
            raise MathlensError(f"{where}: a sample line needs 'gold' and a list 'samples'")
        if any(not isinstance(s, dict) or "correct" not in s for s in samples):
            raise MathlensError(
                f"{where}: samples are not graded (no 'correct'); run `mathlens grade {samples_path}` first"
            )
        row.setdefault("benchmark", Path(samples_path).stem)
        rows.append(row)
    return rows


def summarize(samples_path: str | Path, by: str | None = None) -> dict:
    """Per benchmark (or benchmark/``meta[by]``, e.g. subject or level): problems, pass@1 (mean
    over samples), pass@k and maj@k with k = the samples per problem."""
    return summarize_rows(read_samples(samples_path), by)


def summarize_rows(all_rows: list[dict], by: str | None = None) -> dict:
    if by is not None and not any(by in (row.get("meta") or {}) for row in all_rows):
        known = sorted({k for row in all_rows for k in (row.get("meta") or {})})
        raise MathlensError(f"no problem has a {by!r} field to split by; they have: {', '.join(known) or 'none'}")
    by_benchmark: dict[str, list[dict]] = {}
    for row in all_rows:
        key = row["benchmark"] if by is None else f"{row['benchmark']}/{(row.get('meta') or {}).get(by)}"
        by_benchmark.setdefault(key, []).append(row)
    summary = {}
    for name, rows in by_benchmark.items():
        k = min(len(r["samples"]) for r in rows)
        pass1 = [sum(s["correct"] for s in r["samples"]) / len(r["samples"]) for r in rows]
        passk = [pass_at_k(len(r["samples"]), sum(s["correct"] for s in r["samples"]), k) for r in rows]
        majk = [equivalent(r["gold"], maj_at_k([s["pred"] for s in r["samples"]], k)) for r in rows]
        summary[name] = {
            "problems": len(rows),
            "k": k,
            "pass@1": sum(pass1) / len(rows),
            "pass@1_ci95": list(bootstrap_ci(pass1)),
            f"pass@{k}": sum(passk) / len(rows),
            f"maj@{k}": sum(majk) / len(rows),
        }
        if all("reward" in s for r in rows for s in r["samples"]):  # scored by a reward model
            best = [rm_at_k([s["pred"] for s in r["samples"]], [s["reward"] for s in r["samples"]], k) for r in rows]
            summary[name][f"rm@{k}"] = sum(equivalent(r["gold"], p) for r, p in zip(rows, best)) / len(rows)
    return summary
