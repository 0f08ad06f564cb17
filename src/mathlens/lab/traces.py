"""Where a wrong trace first leaves the right one: for each wrong answer, the first line of the
completion that differs from the target, named by the target line's first word (a compact rule
trace's line number in the rule: ``5`` pops the first operand). It tells copying errors from
rule errors without a parser per format; ``copies_right`` counts, per digit count, the traces
whose operand-copying lines are all right, whatever their sums.

    python -m mathlens.lab.traces runs/lengthgen/rope/rule/predictions.jsonl --beyond 3
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path

from ..formats.coupling import reverse_values
from ..formats.numbers import strip_hints
from ..tasks import make_task
from .lengthgen import format_for
from .configs import SCHEMES, LengthGenConfig


def first_divergence(completion: str, target: str) -> tuple[int, str] | None:
    """(index, the target line's first word when it is a short name such as a rule line's number)
    of the first differing line; None when equal."""
    got, want = completion.strip().splitlines(), target.strip().splitlines()
    for i, line in enumerate(want):
        if i >= len(got) or got[i].strip() != line.strip():
            word = (line.split() or [""])[0]
            return i, word if len(word) <= 4 else ""
    return None if len(got) == len(want) else (len(want), "<end>")


def consistent_sums(completion: str) -> tuple[int, int]:
    """Compact addition traces: (sum lines equal to the digits the model itself popped plus its
    carry, sum lines) — whether the rule is applied to the model's own state, right or wrong."""
    carry, d1, d2, good, total = 0, None, None, 0, 0
    for words in (line.split() for line in completion.strip().splitlines()):
        if not words:
            continue
        head, last = words[0], words[-1]
        if head in ("3", "9") and len(words) > 1 and last.isdigit():
            carry = int(last)  # line 3 sets the carry to 0, line 9 updates it
        elif head == "5":
            d1 = int(last) if len(words) > 1 and last.isdigit() else 0
        elif head == "6":
            d2 = int(last) if len(words) > 1 and last.isdigit() else 0
        elif head == "7" and d1 is not None and d2 is not None and len(words) > 1 and last.isdigit():
            total += 1
            good += int(last) == d1 + d2 + carry
    return good, total


def readable(completion: str, coupled: bool) -> str:
    """A completion as the usual rule trace writes it: hints dropped, and under position
    coupling (values least significant digit first) every value of a numbered line turned the
    usual way round (the answer line, which has no number, stays as written)."""
    text = strip_hints(completion)
    return "\n".join(map(reverse_values, text.split("\n"))) if coupled else text


def copy_lines(fmt_name: str, text: str) -> list[str] | None:
    """The lines of a trace that only copy the operands: a compact rule trace's pops (lines 5
    and 6: the number left and the digit taken), a scratchpad's operands still to add. They
    follow from the prompt alone, never from a sum, so right copies beside a wrong answer put
    the error in the arithmetic, not in the recitation. None for other formats."""
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    if fmt_name == "rule":
        return [line for line in lines if line.split()[0] in ("5", "6")]
    if fmt_name == "scratchpad":
        return [line.split(",")[0] for line in lines if "," in line and line.split(",")[0] != "+"]  # "+": a carry left
    return None


def run_config(path: Path) -> LengthGenConfig:
    """The rule style a lengthgen run used, read from its lengthgen.json (compact when absent)."""
    for folder in (path.parent.parent, path.parent.parent.parent):
        saved = folder / "lengthgen.json"
        if saved.is_file():
            return LengthGenConfig(rule_style=json.loads(saved.read_text())["config"].get("rule_style"))
    return LengthGenConfig()


def divergences(path: str | Path, beyond: int) -> dict:
    """Counts over the wrong answers with more than ``beyond`` digits per operand: the first
    wrong line's index and name, from a lengthgen run's predictions (its config names the format);
    and per digit count, how many traces copied the operands right (``copy_lines``)."""
    path = Path(path)
    scheme = path.parent.parent.name if path.parent.parent.name in SCHEMES else None  # OUT/SCHEME/FORMAT/
    cfg = run_config(path)
    fmt = format_for(path.parent.name, cfg, scheme)
    task = make_task("addition")
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    wrong = [r for r in rows if r["digits"] > beyond and not r["correct"]]
    firsts = Counter()
    for r in wrong:
        a, b = r["operands"]
        where = first_divergence(r.get("completion", ""), fmt.target(task, a, b))
        firsts[(f"line {where[0]}" + (f" ({where[1]})" if where[1] else "")) if where else "same trace"] += 1
    result = {"wrong": len(wrong), "of": sum(r["digits"] > beyond for r in rows),
              "first_wrong_line": dict(firsts.most_common())}
    compact = path.parent.name == "rule" and (cfg.rule_style or "compact") == "compact"
    if compact:
        coupled = bool(scheme and SCHEMES[scheme].couple)
        sums = [consistent_sums(readable(r.get("completion", ""), coupled)) for r in rows if r["digits"] > beyond]
        result["sum_lines_consistent"] = [sum(g for g, _ in sums), sum(t for _, t in sums)]
    if compact or path.parent.name == "scratchpad":
        copied: dict[tuple[bool, int], list[bool]] = {}
        for r in rows:
            want = copy_lines(path.parent.name, fmt.target(task, *r["operands"]))
            got = copy_lines(path.parent.name, r.get("completion", ""))
            copied.setdefault((r.get("mixed", False), r["digits"]), []).append(got == want)
        result["copies_right"] = {f"{d}{' mixed' * m}": f"{sum(v)}/{len(v)}" for (m, d), v in sorted(copied.items())}
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("predictions", nargs="+")
    parser.add_argument("--beyond", type=int, default=3, help="only problems with more digits than this")
    args = parser.parse_args()
    for p in args.predictions:
        print(p, json.dumps(divergences(p, args.beyond)))


if __name__ == "__main__":
    main()
