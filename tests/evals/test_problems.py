"""Every shared benchmark loads into Problem records with a parsed, non-empty gold answer."""

from __future__ import annotations

import json

import pytest

from mathlens.errors import MathlensError
from mathlens.evals.problems import LOADERS, load_benchmark
from mathlens.grading.equivalence import as_number, choice_letter

NUMERIC = {"gsm8k", "aime24", "aime25", "amc23", "svamp", "mawps"}
LETTERED = {"mmlu_stem", "sat_math"}
LATEX = {"math_test500", "minerva_math", "olympiadbench", "gaokao2023en"}  # math-verify must parse these


@pytest.fixture(scope="module")
def benchmarks(shared_data):
    root = shared_data / "benchmarks"
    if not root.is_dir():
        pytest.skip(f"no benchmark data at {root}")
    return {name: load_benchmark(name, root) for name in LOADERS}


def test_every_gold_answer_is_present_and_parsed(benchmarks):
    from math_verify import parse

    for name, problems in benchmarks.items():
        assert problems, name
        assert len({p.id for p in problems}) == len(problems), f"{name}: ids repeat"
        for p in problems:
            assert p.question.strip() and p.answer.strip(), f"{name} {p.id}: empty question or gold"
            if name in NUMERIC:
                assert as_number(p.answer) is not None, f"{name} {p.id}: gold {p.answer!r} is not a number"
            if name in LETTERED:
                assert choice_letter(p.answer) == p.answer, f"{name} {p.id}: gold {p.answer!r} is not a letter"
            if name in LATEX:
                assert parse(f"${p.answer}$"), f"{name} {p.id}: math-verify cannot read {p.answer!r}"


# Twenty gold answers read off the files by hand.
SPOT = [
    ("gsm8k", 0, "18"),
    ("gsm8k", 2, "70000"),
    ("math_test500", 0, "4"),
    ("math_test500", 2, "\\frac{11}{2}"),
    ("minerva_math", 0, "1.6"),
    ("minerva_math", 1, "4.5e33"),
    ("aime24", 0, "204"),
    ("aime25", 0, "70"),
    ("amc23", 0, "27"),
    ("gaokao2023en", 0, "\\{x|-2\\leq x < 1\\}"),
    ("olympiadbench", 0, "2"),
    ("olympiadbench", 1, "\\frac{1}{2 n+2}"),
    ("college_math", 0, "10-4 n"),
    ("college_math", 1, "(45,2),(-10,-9)"),
    ("svamp", 0, "145"),
    ("asdiv", 0, "9"),
    ("mawps", 0, "43"),
    ("cmath", 0, "9"),
    ("mmlu_stem", 0, "C"),
    ("sat_math", 0, "A"),
]


@pytest.mark.parametrize("name,index,gold", SPOT)
def test_spot_checked_gold_answers(benchmarks, name, index, gold):
    assert benchmarks[name][index].answer == gold


def test_answers_hidden_in_the_question_are_recovered(benchmarks):
    hmmt = next(p for p in benchmarks["gaokao2023en"] if p.id == "HMMT2023General_9")
    assert hmmt.answer == "\\frac{3}{10}" and "answers:" not in hmmt.question


def test_meta_carries_subjects_and_levels(benchmarks):
    first = benchmarks["math_test500"][0]
    assert first.meta["level"] and first.meta["subject"] and first.source == "math_test500"
    assert "A. " in benchmarks["mmlu_stem"][0].question


def test_any_jsonl_with_question_and_answer_loads(tmp_path):
    path = tmp_path / "mine.jsonl"
    path.write_text(
        json.dumps({"question": "1+1?", "answer": 2.0}) + "\n" + json.dumps({"problem": "x?", "answer": "$3$"}) + "\n"
    )
    problems = load_benchmark(str(path))
    assert [(p.question, p.answer, p.source) for p in problems] == [("1+1?", "2", "mine"), ("x?", "3", "mine")]


def test_bad_input_names_the_file_line_and_field(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"question": "q", "answer": "1"}\n{"question": "q"}\n')
    with pytest.raises(MathlensError, match=r"bad.jsonl:2: missing or bad field 'answer'"):
        load_benchmark(str(path))
    path.write_text("{not json\n")
    with pytest.raises(MathlensError, match=r"bad.jsonl:1: not valid JSON"):
        load_benchmark(str(path))
    with pytest.raises(MathlensError, match="unknown benchmark 'gsm9k'"):
        load_benchmark("gsm9k")
    with pytest.raises(MathlensError, match="cannot read"):
        load_benchmark("gsm8k", tmp_path / "nowhere")


def test_hub_names_go_through_datasets_load_dataset(tmp_path):
    """A dataset folder the test writes, loaded as `hf:…/gsm8k@test`: the GSM8K loader reads it."""
    pytest.importorskip("datasets")
    folder = tmp_path / "gsm8k"
    folder.mkdir()
    rows = [{"question": "2+2?", "answer": "Two and two.\n#### 4"}, {"question": "1,000+1?", "answer": "#### 1,001"}]
    (folder / "test.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    problems = load_benchmark(f"hf:{folder}@test")
    assert [(p.question, p.answer, p.source) for p in problems] == [
        ("2+2?", "4", "gsm8k"),
        ("1,000+1?", "1001", "gsm8k"),
    ]
    with pytest.raises(MathlensError, match="cannot load"):
        load_benchmark(f"hf:{tmp_path / 'missing'}")
