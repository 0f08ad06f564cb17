import time

import pytest

from mathlens.formats import make_format
from mathlens.formats.tir import run_python, solve_with_tools
from mathlens.tasks import make_task


@pytest.mark.parametrize(
    "task_name", ["addition", "subtraction", "multiplication", "mod_addition", "base_addition", "linear"]
)
def test_tir_programs_print_the_answer_when_really_run(task_name):
    task, fmt = make_task(task_name), make_format("tir")
    for a, b in [(0, 0), (59, 13), (7, 98), (112, 100)]:
        assert run_python(fmt.program(task, a, b)) == task.answer(a, b)


def test_run_python_reports_errors_and_time_limits():
    assert run_python("print(1/0)") == "ZeroDivisionError: division by zero"
    t0 = time.perf_counter()
    assert run_python("while True: pass", timeout=0.5).startswith("TimeoutError")
    assert time.perf_counter() - t0 < 5
    assert run_python("import os; print(os.environ.get('HOME', 'none'))") == "none"  # no inherited environment


def stub_model(texts):
    """Emits fixed code, then makes up a wrong output; after a real output, copies it as the answer."""
    out = []
    for t in texts:
        if t.endswith("```\n") and "```output\n" in t:
            out.append(t.split("```output\n")[-1].split("\n")[0])
        else:
            out.append("```python\nprint(6*7)\n```\n```output\n41\n```\n41")
    return out


def test_tool_loop_runs_the_code_and_reads_the_answer():
    samples = solve_with_tools(stub_model, ["q1", "q2"])
    for s in samples:
        assert s.calls == [{"code": "print(6*7)\n", "output": "42"}]
        assert s.completion == "```python\nprint(6*7)\n```\n```output\n42\n```\n42"


def test_tool_loop_stops_after_max_calls():
    always_code = lambda texts: ["```python\nprint(1)\n```\n```output\n" for _ in texts]
    (s,) = solve_with_tools(always_code, ["q"], max_calls=2)
    assert len(s.calls) == 2 and s.completion.count("```python") == 3
