"""Agreement with math-verify's own regression table (huggingface/Math-Verify, tests/test_all.py).

That file is not ours to copy, so point this script at a checkout of it. Its parametrized
(gold, pred, expected) cases are collected with pytest; those run at math-verify's default
precision and strictness are kept (cases that set another precision or
``allow_set_relation_comp=True`` test options we do not expose). Each prediction text goes
through ``grade(pred, gold)``; a gold that is a whole solution is read by its box or its
"final answer is", as an evaluation reads a reference solution.

    git clone https://github.com/huggingface/Math-Verify /tmp/Math-Verify
    python benchmarks/mathverify_table.py --table /tmp/Math-Verify/tests/test_all.py [--show]

Prints ``key=value`` pairs on its last line.
"""

from __future__ import annotations

import argparse
import logging

import pytest

from mathlens.grading import extract_answer, grade

DEFAULT_OPTIONS = {"precision": 6, "allow_set_relation_comp": False}
OTHER_PRECISION_TESTS = {"test_float_precision", "test_sqrt_precision", "test_symbols"}  # precision=5


class _Collector:
    def __init__(self) -> None:
        self.items: list = []

    def pytest_collection_modifyitems(self, items) -> None:
        self.items = list(items)


def cases(table: str) -> list[tuple[str, str, str, bool]]:
    """(test name, gold, pred, expected) for the table's default-option cases."""
    collector = _Collector()
    pytest.main(["-q", "--collect-only", "-p", "no:cacheprovider", table], plugins=[collector])
    found = []
    for item in collector.items:
        params = getattr(getattr(item, "callspec", None), "params", {})
        if not {"gold", "pred", "expected"} <= set(params) or item.originalname in OTHER_PRECISION_TESTS:
            continue
        if any(params.get(k, v) != v for k, v in DEFAULT_OPTIONS.items()):
            continue
        found.append((item.originalname, params["gold"], params["pred"], bool(params["expected"])))
    return found


def gold_answer(gold: str) -> str:
    found = extract_answer(gold)
    return found.pred if found.how in ("boxed", "answer-is") else gold


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--table", required=True, help="path to Math-Verify's tests/test_all.py")
    parser.add_argument("--show", action="store_true", help="print every case where we differ")
    args = parser.parse_args()
    logging.disable(logging.CRITICAL)  # math-verify logs whole inputs on a timeout
    rows = cases(args.table)
    differ = []
    for name, gold, pred, expected in rows:
        verdict = grade(pred, gold_answer(gold))
        if verdict.correct != expected:
            differ.append((name, gold, pred, verdict, expected))
    if args.show:
        for name, gold, pred, verdict, expected in differ:
            print(f"{name}: gold={gold[:60]!r} pred=…{pred[-80:]!r} ours={verdict.correct} "
                  f"(pred {verdict.pred!r} by {verdict.how}) theirs={expected}")
    agree = len(rows) - len(differ)
    print(f"cases={len(rows)} agree={agree} share={agree / max(len(rows), 1):.3f}")


if __name__ == "__main__":
    main()
