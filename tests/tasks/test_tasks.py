import pytest

from mathlens.errors import MathlensError
from mathlens.tasks import make_task, to_base


@pytest.mark.parametrize(
    "name, params, operands, prompt, answer",
    [
        ("addition", {}, (59, 13), "59+13=", "72"),
        ("addition", {}, (0, 0), "0+0=", "0"),
        ("subtraction", {}, (13, 59), "13-59=", "-46"),
        ("multiplication", {}, (12, 11), "12*11=", "132"),
        ("mod_addition", {}, (100, 50), "100+50=", "37"),
        ("mod_addition", {"modulus": 7, "high": 20}, (6, 6), "6+6=", "5"),
        ("base_addition", {}, (40, 40), "44+44=", "88"),  # 40 = 44 in base 9; 80 = 88
        ("base_addition", {}, (8, 1), "8+1=", "10"),
        ("base_addition", {"base": 2}, (5, 3), "101+11=", "1000"),
        ("linear", {}, (40, 40), "(40,40)=", "123"),  # the paper's y = a + 2b + 3
        ("linear", {"wa": 3, "wb": 0, "bias": -1}, (5, 9), "(5,9)=", "14"),
        ("chicken_rabbit", {}, (120, 40), None, "There are 20 rabbits and 20 chickens."),
        ("chicken_rabbit", {}, (2, 1), None, "There are 0 rabbits and 1 chickens."),
    ],
)
def test_prompt_and_answer(name, params, operands, prompt, answer):
    task = make_task(name, **params)
    if prompt is not None:
        assert task.prompt(*operands) == prompt
    assert task.answer(*operands) == answer


@pytest.mark.parametrize("base", [2, 3, 7, 9, 16, 36])
def test_to_base_round_trips_through_int(base):
    for n in range(0, 2000, 7):
        assert int(to_base(n, base), base) == n
    assert to_base(-10, base) == "-" + to_base(10, base)


def test_chicken_rabbit_grid_is_every_farm_and_answers_add_up():
    task = make_task("chicken_rabbit", low=0, high=99)
    grid = task.operand_grid()
    assert len(grid) == 100 * 101 // 2
    for legs, heads in grid:
        rabbits, chickens = task.animals(legs, heads)
        assert rabbits >= 0 and chickens >= 0
        assert rabbits + chickens == heads and 4 * rabbits + 2 * chickens == legs
        x, y = task.coord((legs, heads))
        assert heads <= x <= 2 * heads and y == heads


def test_grid_is_the_inclusive_range():
    task = make_task("addition", low=3, high=7)
    assert len(task.operand_grid()) == 25
    assert task.operand_grid()[0] == (3, 3) and task.operand_grid()[-1] == (7, 7)
    assert make_task("mod_addition").high == 112  # the paper's 0..112 for p = 113


def test_unknown_task_suggests_the_near_name():
    with pytest.raises(MathlensError, match="did you mean 'addition'"):
        make_task("addtion")
    with pytest.raises(MathlensError, match="no parameter 'modulus'"):
        make_task("addition", modulus=5)
    with pytest.raises(MathlensError, match="empty"):
        make_task("addition", low=9, high=3)


def test_a_new_task_renders_in_every_format_without_touching_the_formats():
    """A task states the facts formats need; adding one is one class (one file in tasks/)."""
    from dataclasses import dataclass

    from mathlens.formats import FORMATS, make_format
    from mathlens.grading import final_answer
    from mathlens.tasks import TASKS
    from mathlens.tasks.base import Task

    @dataclass(frozen=True)
    class WordyAddition(Task):
        name = "toy_wordy_addition"
        is_sum = True
        rule = "addition"

        def prompt(self, a: int, b: int) -> str:
            return f"What is {a} plus {b}? "

        def answer(self, a: int, b: int) -> str:
            return str(a + b)

        def expression(self, a: int, b: int) -> str:
            return f"{a}+{b}"

    task = WordyAddition()
    assert TASKS["toy_wordy_addition"] is WordyAddition
    for name in FORMATS:
        fmt = make_format(name)
        for a, b in [(0, 0), (59, 13), (95, 17)]:
            shown = str(b)[::-1] if name in ("reversed", "padded") else str(b)  # these write numbers backwards
            assert fmt.prompt(task, a, b).endswith(f"plus {shown}? ")
            assert fmt.read(fmt.target(task, a, b)) == str(a + b), name


def test_no_format_asks_for_a_task_by_name():
    from pathlib import Path

    import mathlens.formats

    for path in Path(mathlens.formats.__file__).parent.rglob("*.py"):
        text = path.read_text()
        assert "task.name ==" not in text and "getattr(task" not in text, path
