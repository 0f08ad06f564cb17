import pytest

from mathlens.errors import MathlensError
from mathlens.lab.examples import make_examples
from mathlens.lab.splits import Square, fraction_split, leave_square_out, random_split
from mathlens.tasks import make_task

ADD = make_task("addition")


def test_lso_holds_out_exactly_the_square():
    split = leave_square_out(ADD, [Square((50, 50), 10)])
    assert len(split.test) == 21 * 21 and len(split.train) == 10_000 - 441
    assert set(split.test) == {(a, b) for a in range(40, 61) for b in range(40, 61)}
    assert not set(split.train) & set(split.test)


def test_several_squares_and_depth():
    squares = [Square((20, 20), 3), Square((70, 60), 5)]
    split = leave_square_out(ADD, squares)
    assert len(split.test) == 7 * 7 + 11 * 11
    assert split.depth((20, 20)) == 3 and split.depth((17, 20)) == 0 and split.depth((16, 20)) == -1
    assert split.depth((70, 60)) == 5


def test_random_split_is_disjoint_sized_and_deterministic():
    a = random_split(ADD, 441, seed=3)
    b = random_split(ADD, 441, seed=3)
    c = random_split(ADD, 441, seed=4)
    assert len(a.test) == 441 and len(a.train) == 10_000 - 441
    assert not set(a.train) & set(a.test)
    assert a.test == b.test and a.train == b.train
    assert a.test != c.test


def test_fraction_split_is_the_papers_70_30():
    split = fraction_split(ADD, 0.3, seed=0)
    assert (len(split.train), len(split.test)) == (7000, 3000)


def test_examples_label_every_cell():
    split = leave_square_out(ADD, [Square((50, 50), 1)])
    examples = make_examples(ADD, split)
    assert len(examples) == 10_000
    assert sum(e.split == "test" for e in examples) == 9
    first = examples[0]
    assert (first.id, first.prompt, first.target, first.split) == (0, "0+0=", "0", "train")
    assert examples[50 * 100 + 50].meta["depth"] == 1


@pytest.mark.parametrize(
    "squares, message",
    [
        ([Square((5, 50), 10)], "outside the grid"),
        ([Square((95, 50), 10)], "outside the grid"),
        ([Square((49, 49), 50)], "as large as the grid"),
        ([Square((30, 30), 5), Square((40, 40), 5)], "overlap"),
        ([Square((30, 30), -1)], "0 or more"),
        ([], "at least one square"),
    ],
)
def test_bad_squares_are_refused(squares, message):
    with pytest.raises(MathlensError, match=message):
        leave_square_out(ADD, squares)


def test_random_split_sizes_are_checked():
    with pytest.raises(MathlensError, match="cannot hold out"):
        random_split(ADD, 10_000)
