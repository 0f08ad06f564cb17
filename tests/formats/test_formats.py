import re

import pytest

from mathlens.errors import MathlensError
from mathlens.formats import FORMATS, IndexHints, make_format
from mathlens.formats.rule import RuleFollowing, render_compact
from mathlens.formats.rules import SHIPPED, load_rule
from mathlens.formats.trace import trace_call
from mathlens.grading import final_answer
from mathlens.lab.paper_data import load_paper_split
from mathlens.tasks import make_task

ALL_TASKS = ["addition", "subtraction", "multiplication", "mod_addition", "base_addition", "linear", "chicken_rabbit"]
OPERANDS = [(0, 0), (7, 48), (59, 13), (95, 17), (99, 99), (10, 90), (5, 60), (88, 1)]


def test_scratchpad_is_byte_for_byte_the_papers_in_every_cot_folder(paper_dir):
    fmt = make_format("scratchpad")
    folders = sorted(paper_dir.glob("*/*_cot"))
    assert len(folders) >= 4
    for folder in folders:
        paper = load_paper_split(folder)
        for e in paper.examples:
            assert fmt.target(paper.task, *e.operands) == e.target, (folder.name, e.prompt)


@pytest.mark.parametrize("name", list(FORMATS))
def test_every_target_reads_back_as_the_answer(name):
    fmt = make_format(name)
    supported = [t for t in ALL_TASKS if fmt.supports(make_task(t))]
    assert supported
    for task_name in supported:
        task = make_task(task_name)
        for a, b in OPERANDS:
            if task_name == "multiplication" and name == "rule":
                b %= 10  # the shipped rule multiplies by one digit
            assert fmt.read(fmt.target(task, a, b)) == task.answer(a, b), (name, task_name, a, b)
            hinted = IndexHints(fmt)
            assert hinted.read(hinted.target(task, a, b)) == task.answer(a, b), (name, task_name, a, b)


def test_formats_refuse_tasks_they_cannot_write():
    with pytest.raises(MathlensError, match="scratchpad.*chicken_rabbit"):
        make_format("scratchpad").target(make_task("chicken_rabbit"), 20, 7)
    with pytest.raises(MathlensError, match="single-digit b"):
        make_format("rule").target(make_task("multiplication"), 12, 34)
    with pytest.raises(MathlensError, match="did you mean 'rule'"):
        make_format("rules")


def test_compact_recitation_of_59_plus_13_by_hand():
    # line numbers of sum_digit_by_digit: 2 result=[], 3 carry=0, 4 while, 5/6 pop digits,
    # 7 total, 8 insert, 9 carry, 10 if carry, 12 return
    expected = "2 _\n3 0\n4 T\n5 5 9\n6 1 3\n7 12\n8 2\n9 1\n4 T\n5 _ 5\n6 _ 1\n7 7\n8 72\n9 0\n4 F\n10 F\n12\n72"
    assert make_format("rule").target(make_task("addition"), 59, 13) == expected


def _assignments(text: str, names: tuple[str, ...]) -> list[tuple[str, str]]:
    """Ordered (name, final value) pairs for state lines like 'carry=12//10=1'."""
    out, in_code = [], False
    for line in text.splitlines():
        if line.strip() == "```":
            in_code = not in_code
            continue
        m = None if in_code else re.fullmatch(r"(\w+)=(.*)", line.strip())
        if m and m[1] in names:
            out.append((m[1], m[2].rsplit("=", 1)[-1]))
    return out


@pytest.mark.parametrize("a,b", [(59, 13), (95, 17), (999, 1), (7, 48)])
def test_code_recitation_carries_the_papers_states_in_its_order(paper_dir, a, b):
    """The paper's own rf files (its generator) and our traced recitation: same states, same order."""
    paper = (paper_dir / "rfft" / f"{a}+{b}.rf.txt").read_text()
    ours = RuleFollowing(style="code").target(make_task("addition"), a, b)
    names = ("digit1", "digit2", "total", "carry", "result")
    ours_states, paper_states = _assignments(ours, names), iter(_assignments(paper, names))
    # The paper also shows states a line reads (``result=[]`` before an insert); ours shows
    # what each line sets: ours must be the paper's states in order, with none missing.
    assert len(ours_states) >= 5 * len(str(max(a, b))) and all(s in paper_states for s in ours_states), ours_states
    assert ours.endswith(f"Therefore, the answer is {a + b}.") and paper.rstrip().endswith(f"the answer is {a + b}.")


@pytest.mark.parametrize("task_name", [t for t in ALL_TASKS if make_task(t).rule])
def test_every_shipped_rule_agrees_with_the_tasks_answer(task_name):
    task = make_task(task_name)
    assert task.rule in SHIPPED
    fmt = RuleFollowing()
    bs = range(10) if task_name == "multiplication" else range(0, 2000, 97)
    for a in range(0, 30000, 701):
        for b in bs:
            fmt.target(task, a, b)  # raises if the traced rule's result differs from task.answer


def test_trace_records_conditions_and_changed_variables():
    rule = load_rule("subtraction")
    trace = trace_call(rule.func, [1, 3], [5, 9])
    assert trace.result == ["-", 4, 6]
    assert trace.steps[0].changes == [("negative", True)]
    lines = render_compact(trace.steps)
    assert lines[:2] == ["2 T", "3 T"]  # negative = True; `if negative:` was true


def test_a_users_rule_file_is_traced_and_a_wrong_one_is_caught(tmp_path):
    good = tmp_path / "add_by_halves.py"
    good.write_text(
        "def add(num1, num2):\n"
        "    n = int(''.join(map(str, num1))) + int(''.join(map(str, num2)))\n"
        "    return [int(c) for c in str(n)]\n"
    )
    fmt = RuleFollowing(rule=str(good))
    assert fmt.target(make_task("addition"), 59, 13).splitlines()[-1] == "72"
    wrong = tmp_path / "wrong.py"
    wrong.write_text("def add(num1, num2):\n    return [1]\n")
    with pytest.raises(MathlensError, match="gives 1 for 59\\+13= but the answer is 72"):
        RuleFollowing(rule=str(wrong)).target(make_task("addition"), 59, 13)
    two = tmp_path / "two.py"
    two.write_text("def f(a, b):\n    return a\n\ndef g(a, b):\n    return b\n")
    with pytest.raises(MathlensError, match="exactly one function, found 2"):
        RuleFollowing(rule=str(two)).target(make_task("addition"), 1, 2)


@pytest.mark.parametrize("how", ["code", "natural", "pseudo"])
def test_rule_prompts_state_the_rule(how):
    prompt = RuleFollowing(style="code", rule_text=how).prompt(make_task("addition"), 59, 13)
    assert prompt.endswith("59+13=") and "step by step" in prompt
    assert ("def sum_digit_by_digit" in prompt) == (how == "code")


def test_reversed_numbers_and_index_hints_rewrite_every_number():
    from mathlens.formats.numbers import hint_digits, strip_hints

    task = make_task("addition")
    rev = make_format("reversed")
    assert (rev.prompt(task, 59, 13), rev.target(task, 59, 13), rev.read("27")) == ("95+31=", "27", "72")
    assert hint_digits("59+13=72") == "β5α9+β1α3=β7α2" and strip_hints(hint_digits("9876")) == "9876"
    hinted = IndexHints(make_format("rule", style="code"))
    assert hinted.statement(task) == make_format("rule", style="code").statement(task)  # the rule's code unhinted
    assert hinted.question(task, 59, 13).endswith("β5α9+β1α3=")
    assert not IndexHints(make_format("tir")).supports(task)
