"""The grader's limits: exact integers, choice letters only where written as choices, and a
verdict within its time budget in any thread (``deadline.within``, ``bounds.too_big``)."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from mathlens.grading import equivalent, grade
from mathlens.grading import equivalence

LIMIT = 2.0  # seconds: no verdict may take longer, whatever the answer and whichever the thread
# Answers that sympy would spend minutes or more on; each must be answered within LIMIT.
# The power tower is refused before evaluation (no time limit interrupts its one long C call);
# the binomial is computed while parsing, and pi's tower in the comparison: the deadline stops those.
MONSTERS = [
    (r"\boxed{9^{9^{9^{9}}}}", "5"),
    (r"\boxed{\prod_{k=1}^{10^{6}} k}", "5"),
    (r"\boxed{(10^{10})!}", "5"),
    (r"\boxed{\binom{10^{6}}{500000}}", "5"),
    (r"\boxed{\pi^{10^{400}}}", r"\pi^{20^{400}}"),
]


def fresh() -> None:
    """math-verify loaded (its first import and parse take seconds), but no verdict or parse cached."""
    assert equivalent("x^2+2x+1", "(x+1)^2")
    equivalence._math_verify.cache_clear()
    equivalence._parse.cache_clear()


def timed(fn, *args):
    start = time.perf_counter()
    result = fn(*args)
    return result, time.perf_counter() - start


def test_integers_compare_exactly_whatever_units_follow():
    assert grade("The answer is 1000000001 dollars", "1000000000").correct is False
    assert grade("The answer is 1000000000 dollars", "1000000000").correct is True
    assert not equivalent("1000000000", "1,000,000,001 apples")
    assert not equivalent("1000000000 dollars", "1000000001")
    assert not equivalent("123456789012", "123456789013 \\text{ cm}")
    # Decimals keep math-verify's six places and scientific notation its relative 1e-9.
    assert equivalent("0.5 liters", "0.5000001") and not equivalent("0.5 liters", "0.50001")
    assert equivalent("4.5 \\times 10^{33}", "4.5e33") and equivalent("1.0e400", "1e400 m")


@pytest.mark.parametrize(
    "gold,pred,same",
    [
        ("E", "e", False),  # a lone lower-case e is Euler's number (or a variable), not choice E
        ("e", "E", False),
        ("e", "(E)", False),
        ("B", "b", False),
        ("e", "e", True),
        ("e", "(e)", True),  # brackets around a letter are no choice when the gold is that letter
        ("B", "(b)", True),  # written as a choice: "(b)" is B
        ("B", "b)", True),
        ("E", "(e)", True),
        ("(C)", "c)", True),
        ("C", "(c) 12", True),
        ("B", "(C)", False),
    ],
)
def test_letters_compare_as_choices_only_where_written_as_choices(gold, pred, same):
    assert equivalent(gold, pred) is same
    assert equivalent(pred, gold) is same


def test_a_choice_in_a_completion():
    assert grade("The answer is (b).", "B").correct
    assert not grade("So the limit is $e$.", "E").correct
    assert grade("So the limit is $e$.", "e").correct


def test_a_power_tower_gets_its_verdict_in_under_two_seconds():
    fresh()
    verdict, seconds = timed(grade, r"\boxed{9^{9^{9^{9}}}}", "5")
    assert verdict.correct is False and verdict.pred == "9^{9^{9^{9}}}"
    assert seconds < LIMIT, seconds


@pytest.mark.parametrize("completion,gold", MONSTERS)
def test_no_verdict_takes_over_two_seconds(completion, gold):
    fresh()
    verdict, seconds = timed(grade, completion, gold)
    assert verdict.correct is False
    assert seconds < LIMIT, (completion, seconds)


def test_a_slow_verdict_in_a_thread_returns_within_budget():
    """math-verify's own limit (SIGALRM) works only in the main thread; ours works in any."""
    fresh()
    result: dict[str, object] = {}

    def work() -> None:
        result["verdict"], result["seconds"] = timed(grade, r"\boxed{\binom{10^{6}}{500000}}", "5")
        result["after"] = equivalent("x^2+2x+1", "(x+1)^2")  # the same thread grades on, unharmed

    worker = threading.Thread(target=work, daemon=True)  # daemon: an unbounded verdict must not hold the run
    worker.start()
    worker.join(LIMIT + 3)
    assert not worker.is_alive(), "the verdict ran past its budget in a thread"
    assert result["verdict"].correct is False and result["seconds"] < LIMIT, result
    assert result["after"] is True


def test_slow_verdicts_in_a_thread_pool_return_within_budget():
    fresh()
    pool = ThreadPoolExecutor(2)
    try:
        started = time.perf_counter()
        futures = [pool.submit(timed, equivalent, r"\pi^{20^{400}}", f"\\pi^{{{k}0^{{400}}}}") for k in (1, 3)]
        answers = [f.result(timeout=2 * LIMIT + 5) for f in futures]
        wall = time.perf_counter() - started
        for verdict, seconds in answers:
            assert verdict is False and seconds < LIMIT, answers
        assert wall < 2 * LIMIT, wall  # two threads at once, each within its own budget
        assert pool.submit(equivalent, "\\frac{1}{2}", "0.5").result(timeout=LIMIT)
        assert pool.submit(equivalent, "x^2+2x+1", "(x+1)^2").result(timeout=LIMIT)
    finally:
        pool.shutdown(wait=False, cancel_futures=True)


def _spin(seconds: float) -> float:
    """Pure Python work (many bytecodes, where an asynchronous exception can land) for ``seconds``."""
    end = time.perf_counter() + seconds
    n = 0.0
    while time.perf_counter() < end:
        n += 1
    return n


def _calls_at_the_deadline(rounds: int) -> tuple[int, int]:
    """``rounds`` calls that end just at their deadline, then normal code for a while: an
    interruption still pending when ``within`` returns would land in that normal code."""
    from mathlens.grading.deadline import OutOfTime, within

    finished = interrupted = 0
    for i in range(rounds):
        # The watchdog needs the GIL to fire: it gets it within the switch interval (5 ms), so
        # calls of 2 to 12 ms against a 5 ms budget end just before, at, or after the deadline.
        try:
            within(0.005, _spin, 0.002 + (i % 11) * 0.001)
            finished += 1
        except OutOfTime:
            interrupted += 1
    _spin(0.05)
    time.sleep(0.2)  # the watchdog re-sends every 0.05 s while a call has not ended
    _spin(0.2)
    return finished, interrupted


def _watchdogs_left(wait: float = 2.0) -> list[threading.Thread]:
    """Deadline watchdogs still alive after ``wait`` seconds: each is a call that never ended."""
    end = time.monotonic() + wait
    while True:
        alive = [t for t in threading.enumerate() if t.name == "mathlens-deadline" and t.is_alive()]
        if not alive or time.monotonic() > end:
            return alive
        time.sleep(0.05)


def test_within_leaves_no_pending_exception_behind():
    finished, interrupted = _calls_at_the_deadline(300)
    assert finished + interrupted == 300 and finished > 0 and interrupted > 0, (finished, interrupted)
    assert not _watchdogs_left(), "a watchdog outlived its call"


def test_within_leaves_no_pending_exception_behind_in_a_thread():
    results: list[tuple[int, int]] = []
    workers = [threading.Thread(target=lambda: results.append(_calls_at_the_deadline(150)), daemon=True) for _ in range(2)]
    for worker in workers:  # daemon threads: a worker stuck on a lock fails the test instead of holding the run
        worker.start()
    for worker in workers:
        worker.join(60)
    assert not any(w.is_alive() for w in workers), "a thread hung after calls that ended at their deadline"
    assert [f + i for f, i in results] == [150, 150], results


def test_within_returns_raises_and_stops_in_any_thread():
    from mathlens.grading.deadline import OutOfTime, within

    def stops() -> float:
        start = time.perf_counter()
        with pytest.raises(OutOfTime):
            within(0.2, _spin, 30.0)
        return time.perf_counter() - start

    assert within(1.0, sum, [1, 2, 3]) == 6 and within(None, max, 1, 2) == 2
    with pytest.raises(ZeroDivisionError):
        within(1.0, lambda: 1 / 0)
    assert stops() < 1.0
    with ThreadPoolExecutor(1) as pool:
        assert pool.submit(stops).result(timeout=10) < 1.0
        assert pool.submit(within, 1.0, sum, [1, 2]).result(timeout=5) == 3


def test_a_fired_deadline_leaves_rule_traces_working():
    """An interruption cancelled with ``SetAsyncExc(id, NULL)`` left CPython's pending flag up, and
    every later ``sys.settrace`` trace in the process (the rule formats') spun for ever."""
    from mathlens.formats.rules.addition import sum_digit_by_digit
    from mathlens.formats.trace import trace_call
    from mathlens.grading.deadline import OutOfTime, within

    with pytest.raises(OutOfTime):
        within(0.01, _spin, 5.0)
    for i in range(40):  # calls that end around their deadline, some with an interruption still on its way
        try:
            within(0.005, _spin, 0.002 + (i % 11) * 0.001)
        except OutOfTime:
            pass
    traced: list[object] = []
    worker = threading.Thread(
        target=lambda: traced.append(trace_call(sum_digit_by_digit, [1, 2], [3, 9]).result), daemon=True
    )
    worker.start()
    worker.join(10)
    assert not worker.is_alive(), "a rule trace hung after a deadline fired"
    assert traced == [[5, 1]], traced  # 12 + 39
