"""Our generator must reproduce the paper's published splits cell for cell."""

import json

import pytest

from mathlens.errors import MathlensError
from mathlens.lab.examples import make_examples
from mathlens.lab.paper_data import load_paper_split, parse_folder_name
from mathlens.lab.splits import leave_square_out


def hole_folders(paper_dir):
    return sorted(p for p in paper_dir.glob("*/*hole_*") if not p.name.endswith("_cot"))


def test_there_are_1hole_and_3hole_folders_for_all_five_tasks(paper_dir):
    folders = hole_folders(paper_dir)
    assert {p.parent.name for p in folders} == {
        "addition",
        "base_addition",
        "linear_regression",
        "mod_addition",
        "rabbits_and_chickens",
    }
    assert len(folders) >= 20


def test_generator_matches_every_published_hole_split(paper_dir):
    for folder in hole_folders(paper_dir):
        paper = load_paper_split(folder)
        ours = leave_square_out(paper.task, list(paper.split.squares))
        assert set(ours.train) == set(paper.split.train), folder
        assert set(ours.test) == set(paper.split.test), folder
        generated = {e.operands: e for e in make_examples(paper.task, ours)}
        assert len(generated) == len(paper.examples), folder
        for e in paper.examples:
            g = generated[e.operands]
            assert (g.id, g.prompt, g.answer, g.split) == (e.id, e.prompt, e.answer, e.split), (folder, e)


def test_folder_names_parse(paper_dir):
    kind, squares, low, high = parse_folder_name(paper_dir / "addition" / "1hole_50-50_10_441_0-100")
    assert (kind, low, high) == ("lso", 0, 99)
    assert squares[0].center == (50, 50) and squares[0].radius == 10
    kind, squares, _, _ = parse_folder_name(paper_dir / "addition" / "3hole_1411_0-100")
    assert [(s.center, s.radius) for s in squares] == [((53, 33), 10), ((73, 78), 10), ((13, 31), 11)]


def test_random_split_folder_loads_as_is(paper_dir):
    paper = load_paper_split(paper_dir / "addition" / "random_split_0.7_7000_3000_0-100")
    assert paper.split.kind == "random" and not paper.split.squares
    assert (len(paper.split.train), len(paper.split.test)) == (7000, 3000)
    assert all(e.answer == str(sum(e.operands)) for e in paper.examples)


def test_scratchpad_folder_keeps_target_and_answer_apart(paper_dir):
    paper = load_paper_split(paper_dir / "addition" / "1hole_50-50_10_441_0-100_cot")
    e = next(e for e in paper.examples if e.operands == (59, 13))
    assert e.target == "59+13,,C:0\n5+1,2,C:1\n+,72,C:0\n72" and e.answer == "72"


def test_bad_folders_name_the_problem(tmp_path):
    with pytest.raises(MathlensError, match="no such folder"):
        load_paper_split(tmp_path / "nope")
    bad = tmp_path / "addition" / "weird_name"
    bad.mkdir(parents=True)
    with pytest.raises(MathlensError, match="not a paper split folder"):
        load_paper_split(bad)
    broken = tmp_path / "addition" / "1hole_50-50_10_441_0-100"
    broken.mkdir()
    (broken / "train.json").write_text(json.dumps([{"id": 0, "question": "0+0=", "a": 0}]))
    with pytest.raises(MathlensError, match=r"train.json record 0: missing field 'b'"):
        load_paper_split(broken)
