"""Length splits, a small length-generalization run, LSO in other formats, and export."""

import json

import pytest
from typer.testing import CliRunner

from mathlens.cli import app
from mathlens.config import parse_digits, resolve
from mathlens.lab.lengthgen import LengthGenConfig, run_lengthgen
from mathlens.lab.lso import LSOConfig, run_lso
from mathlens.lab.splits import length_split, mixed_length_pairs

runner = CliRunner()


def test_length_split_digits_disjoint_and_deterministic():
    train, test = length_split([1, 2, 3, 5], [1, 4, 6], n_train=50, n_test=20, seed=3)
    assert {d for *_, d in train} == {1, 2, 3, 5} and {d for *_, d in test} == {1, 4, 6}
    for a, b, d in train + test:
        assert len(str(a)) == d and len(str(b)) == d
    assert not {(a, b) for a, b, _ in train} & {(a, b) for a, b, _ in test}
    assert sum(d == 1 for *_, d in test) == 20 and sum(d == 2 for *_, d in train) == 50
    assert (train, test) == length_split([1, 2, 3, 5], [1, 4, 6], n_train=50, n_test=20, seed=3)
    _, single = length_split([], [7], 0, 10, single_digit_b=True)
    assert all(len(str(a)) == 7 and b < 10 for a, b, _ in single)


def test_mixed_length_pairs_have_a_shorter_second_operand():
    pairs = mixed_length_pairs([1, 2, 6], n=30, seed=4)
    assert {d for *_, d in pairs} == {2, 6}  # one digit has nothing shorter
    assert all(len(str(a)) == d and len(str(b)) < d for a, b, d in pairs)
    assert len({len(str(b)) for a, b, d in pairs if d == 6}) == 5  # every shorter length drawn
    assert sum(d == 6 for *_, d in pairs) == 30 and pairs == mixed_length_pairs([1, 2, 6], n=30, seed=4)


def test_mixed_test_problems_get_their_own_curve(tmp_path, monkeypatch):
    import mathlens.lab.lengthgen as lg

    def answer_equal_lengths_only(backend, prompts, fmt, max_new, **kw):  # a model that aligns digits by place
        rows = []
        for p in prompts:
            a, b = p.rstrip("=").split("+")
            rows.append({"pred": str(int(a) + int(b)) if len(a) == len(b) else "0", "raw": ""})
        return rows

    monkeypatch.setattr(lg, "complete", answer_equal_lengths_only)
    monkeypatch.setattr(lg, "train", lambda *a, **k: None)
    cfg = resolve(LengthGenConfig, train_digits="1-2", test_digits="1-3", formats="direct", n_train=20, n_test=5,
                  n_mixed=4, n_layer=1, n_embd=32, n_head=2, out=str(tmp_path))  # fmt: skip
    result = run_lengthgen(cfg, progress=False)
    assert result["curves"]["direct"] == {1: 1.0, 2: 1.0, 3: 1.0}
    assert result["curves"]["direct mixed"] == {2: 0.0, 3: 0.0}
    mixed = [json.loads(line) for line in (tmp_path / "direct" / "predictions.jsonl").read_text().splitlines()][-8:]
    assert all(r["mixed"] and len(str(r["operands"][1])) < r["digits"] for r in mixed)


def test_digit_lists_parse_with_gaps():
    assert parse_digits("1-3,5") == (1, 2, 3, 5)
    assert parse_digits("4") == (4,)


def test_lengthgen_trains_one_model_per_format_and_draws(tmp_path):
    cfg = resolve(
        LengthGenConfig,
        train_digits="1-2",
        test_digits="1-3",
        formats="direct,tir",
        n_train=60,
        n_test=6,
        n_layer=1,
        n_head=2,
        n_embd=32,
        steps=20,
        batch_size=16,
        eval_every=0,
        out=str(tmp_path),
    )
    result = run_lengthgen(cfg, progress=False)
    assert set(result["curves"]) == {"direct", "tir"}
    assert all(set(c) == {1, 2, 3} for c in result["curves"].values())
    assert (tmp_path / "lengthgen.png").stat().st_size > 10_000
    rows = [json.loads(line) for line in (tmp_path / "tir" / "predictions.jsonl").read_text().splitlines()]
    assert len(rows) == 18 and all("calls" in r for r in rows)
    saved = json.loads((tmp_path / "lengthgen.json").read_text())
    assert saved["curves"]["direct"]["1"] == result["curves"]["direct"][1]


def test_lso_in_scratchpad_format_scores_the_answer(tmp_path):
    cfg = resolve(
        LSOConfig,
        format="scratchpad",
        range="0-19",
        center="10,10",
        radius="2",
        n_layer=1,
        n_head=2,
        n_embd=32,
        steps=30,
        batch_size=32,
        eval_every=0,
        control=False,
        out=str(tmp_path),
    )
    m = run_lso(cfg, progress=False)
    rows = [json.loads(line) for line in (tmp_path / "predictions.jsonl").read_text().splitlines()]
    assert rows[0]["target"].startswith("0+0,,C:0") and rows[0]["answer"] == "0"
    assert all(r["correct"] == (r["pred"] == r["answer"]) for r in rows)
    assert 0.0 <= m["test_acc"] <= 1.0 and (tmp_path / "heatmap.png").exists()


def test_export_writes_chat_rows(tmp_path):
    out = tmp_path / "rfft.jsonl"
    result = runner.invoke(
        app,
        [
            "export",
            "--task",
            "addition",
            "--format",
            "rule",
            "--digits",
            "1-2",
            "--n",
            "5",
            "--chat",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(rows) == 10
    user, assistant = rows[0]["messages"]
    assert "def sum_digit_by_digit" in user["content"] and assistant["content"].endswith(
        f"the answer is {rows[0]['answer']}."
    )


def test_export_refuses_a_format_the_task_lacks(tmp_path):
    result = runner.invoke(
        app, ["export", "--task", "multiplication", "--format", "scratchpad", "--out", str(tmp_path / "x.jsonl")]
    )
    assert result.exit_code == 2 and "no rendering for task 'multiplication'" in result.stderr


@pytest.mark.parametrize("bad, fragment", [("1-x", "must look like 1-5"), ("0-3", "start at 1")])
def test_bad_digit_lists_are_one_line_errors(tmp_path, bad, fragment):
    result = runner.invoke(app, ["lengthgen", "--train-digits", bad, "--quiet", "--out", str(tmp_path)])
    assert result.exit_code == 2 and fragment in result.stderr


def test_lengthgen_and_lso_offer_the_mixed_test_and_processes():
    assert "--n-mixed" in runner.invoke(app, ["lengthgen", "--help"], terminal_width=200).output
    assert "--processes" in runner.invoke(app, ["lso", "--help"], terminal_width=200).output
