"""The CLI's promises: one-line errors with exit code 2, and --help with an example."""

import json

import pytest
from typer.testing import CliRunner

from mathlens.cli import app

runner = CliRunner()
TINY = ["--steps", "2", "--n-layer", "1", "--n-embd", "16", "--n-head", "2", "--no-control", "--quiet"]


def run(*args):
    return runner.invoke(app, [str(a) for a in args])


def assert_user_error(result, *fragments):
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("mathlens: error:"), result.stderr
    assert "Traceback" not in result.output
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


@pytest.mark.parametrize(
    "args, fragments",
    [
        (["--center", "5,50", "--radius", "10"], ["outside the grid"]),
        (["--range", "0-9", "--center", "5,5", "--radius", "5"], ["as large as the grid"]),
        (["--center", "30,30;40,40", "--radius", "5"], ["overlap"]),
        (["--task", "addtion"], ["unknown task", "did you mean 'addition'"]),
        (["--range", "50-40"], ["range 50-40 is empty"]),
        (["--range", "fifty"], ["must look like 0-99"]),
        (["--center", "50"], ["must look like 50,50"]),
        (["--center", "20,20;70,70", "--radius", "1,2,3"], ["2 centres need 1 or 2 radii"]),
        (["--task", "addition", "--modulus", "7"], ["no parameter 'modulus'"]),
        (["--positions", "sinusoidal"], ["positions must be"]),
    ],
)
def test_bad_lso_input_is_one_line_and_exit_2(tmp_path, args, fragments):
    assert_user_error(run("lso", *args, *TINY, "--out", tmp_path / "run"), *fragments)


def test_a_split_with_no_training_cells_is_refused(tmp_path):
    # The chicken-rabbit grid is a triangle: this square covers every farm of 0-1 heads.
    result = run(
        "lso",
        "--task",
        "chicken_rabbit",
        "--range",
        "0-2",
        "--center",
        "1,1",
        "--radius",
        "1",
        *TINY,
        "--out",
        tmp_path,
    )
    assert result.exit_code == 2


def test_config_errors_name_the_file_and_key(tmp_path):
    cfg = tmp_path / "exp.yaml"
    cfg.write_text("task: addition\nradius: 10\nstpes: 100\n")
    assert_user_error(run("lso", "--config", cfg, "--out", tmp_path), str(cfg), "'stpes'", "did you mean 'steps'")
    cfg.write_text("steps: many\n")
    assert_user_error(run("lso", "--config", cfg, "--out", tmp_path), str(cfg), "'steps'", "must be int")
    cfg.write_text("task: [unclosed\n")
    assert_user_error(run("lso", "--config", cfg, "--out", tmp_path), str(cfg), "not valid YAML")
    assert_user_error(run("lso", "--config", tmp_path / "missing.yaml"), "missing.yaml", "cannot read")


def test_paper_folder_errors_are_clean(tmp_path):
    assert_user_error(run("lso", "--data", tmp_path / "nope", *TINY, "--out", tmp_path), "no such folder")


@pytest.mark.parametrize(
    "verb",
    ["lso", "sweep", "lengthgen", "export", "finetune", "sandbox run", "grade", "eval", "report", "serve", "words"],
)
def test_every_verb_has_help_with_an_example(verb):
    result = run(*verb.split(), "--help")
    assert result.exit_code == 0
    assert "Example: mathlens " + verb in result.output


def test_sandbox_run_prints_what_a_cell_shows(tmp_path):
    ok, bad = tmp_path / "ok.py", tmp_path / "bad.py"
    ok.write_text("x = 6\n# %% second cell\nprint('x is', x)\nx * 7\n")
    bad.write_text("1/0\n")
    result = run("sandbox", "run", ok, "--cells")
    assert result.exit_code == 0 and "x is 6\n42" in result.output
    result = run("sandbox", "run", bad, "--json")
    assert result.exit_code == 1 and '"error": "ZeroDivisionError: division by zero"' in result.output
    assert_user_error(run("sandbox", "run", tmp_path / "missing.py"), "missing.py", "cannot read")


def test_config_values_are_used_and_flags_win(tmp_path):
    cfg = tmp_path / "exp.yaml"
    cfg.write_text(
        "task: subtraction\nrange: 0-11\ncenter: 6,6\nradius: 1\nsteps: 3\nn-layer: 1\nn_embd: 16\nn_head: 2\ncontrol: false\n"
    )
    result = run("lso", "--config", cfg, "--radius", "2", "--quiet", "--out", tmp_path / "run")
    assert result.exit_code == 0, result.output
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["config"]["task"] == "subtraction" and metrics["config"]["radius"] == [2]
    assert metrics["n_test"] == 25 and metrics["config"]["train"]["steps"] == 3
    made = json.loads((tmp_path / "run" / "provenance.json").read_text())
    assert made["kind"] == "lso" and made["ended"] == "finished" and made["model"] is None  # trained from scratch


def test_grade_rewrites_verdicts_and_reports_pass_at_1(tmp_path):
    path = tmp_path / "samples.jsonl"
    rows = [
        {"id": "1", "question": "q", "gold": "0.5", "samples": [{"completion": "\\boxed{\\frac12}", "correct": False}]},
        {"id": "2", "question": "q", "gold": "7", "samples": [{"completion": "it is 8"}, {"completion": "so 7"}]},
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    result = run("grade", path)
    assert result.exit_code == 0, result.output
    assert "2 problems, 3 samples: pass@1 66.7%, 1 verdicts changed" in result.output
    graded = [json.loads(line) for line in path.read_text().splitlines()]
    assert [s["correct"] for r in graded for s in r["samples"]] == [True, False, True]
    assert graded[0]["samples"][0]["how"] == "boxed"
    path.write_text('{"id": "1", "samples": []}\n')
    assert_user_error(run("grade", path), "samples.jsonl:1", "needs 'gold'")


def test_report_prints_the_table_from_samples(tmp_path):
    row = {
        "benchmark": "b",
        "id": "1",
        "gold": "2",
        "meta": {"subject": "algebra"},
        "question": "1+1?",
        "samples": [{"completion": "2", "pred": "2", "correct": True}],
    }
    (tmp_path / "samples.jsonl").write_text(json.dumps(row) + "\n")
    result = run("report", tmp_path, "--by", "subject")
    assert result.exit_code == 0 and "b/algebra" in result.output and "100.0%" in result.output
    assert_user_error(run("report", tmp_path / "nothing"), "no samples here")


def test_report_by_k_picks_from_the_first_k_samples(tmp_path):
    # the right answer "7" is rare but rewarded highest: the vote loses, the reward model wins
    preds = ["1", "1", "7", "1", "1", "7", "1", "1"]
    samples = [{"completion": p, "pred": p, "correct": p == "7", "reward": 2.0 if p == "7" else 0.0} for p in preds]
    row = {"benchmark": "b", "id": "1", "gold": "7", "question": "?", "samples": samples}
    (tmp_path / "samples.jsonl").write_text(json.dumps(row) + "\n")
    result = run("report", tmp_path, "--by-k", "2,4,8,16")
    assert result.exit_code == 0, result.output
    lines = [line for line in result.output.splitlines() if line.strip().startswith("│ b")]
    cells = [[c.strip() for c in line.split("│")[1:-1]] for line in lines]
    assert [c[1] for c in cells[1:]] == ["2", "4", "8"]  # no k past the 8 samples there are
    assert cells[-1][2:5] == ["0.0%", "100.0%", "100.0%"]  # maj@8, rm@8, rm-vote@8
    assert_user_error(run("report", tmp_path, "--by-k", "4,x"), "comma-separated whole numbers")


def _run_folder(folder, rates, n=4, question="q{}"):
    """A run folder of hand-made graded rows: problem i right in round(rates[i] * n) of n samples."""
    folder.mkdir(parents=True)
    rows = [{"benchmark": "b", "id": str(i), "question": question.format(i), "gold": "1",
             "samples": [{"completion": "x", "pred": "1" if j < round(r * n) else "0", "correct": j < round(r * n)}
                         for j in range(n)]} for i, r in enumerate(rates)]  # fmt: skip
    (folder / "samples.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return folder


def test_report_across_runs_gives_the_paired_difference_and_refuses_other_problems(tmp_path):
    a = _run_folder(tmp_path / "base", [0.0, 0.25, 0.5, 0.5, 1.0, 0.0] * 5)
    b = _run_folder(tmp_path / "tuned", [0.5, 0.5, 0.75, 0.5, 1.0, 0.25] * 5)
    result = run("report", a, b, "--format", "json")
    assert result.exit_code == 0, result.output
    compared = json.loads(result.output)
    (paired,) = compared["paired"]
    assert paired["a"] == "base" and paired["b"] == "tuned" and paired["problems"] == 30
    assert paired["diff"] == pytest.approx((0.5 + 0.25 + 0.25 + 0 + 0 + 0.25) / 6)
    assert 0 < paired["ci95"][0] < paired["diff"] < paired["ci95"][1]  # every problem moved up or stayed
    base = compared["runs"]["base"]
    assert set(base) == {"b", "average"} and base["average"]["pass@1"] == pytest.approx(base["b"]["pass@1"])
    assert base["b"]["pass@4"] == pytest.approx(4 / 6) and "pass@16" not in base["b"]  # 4 samples: no pass@16
    md = run("report", a, b, "--format", "md").output
    assert "| tuned − base | pass@1, paired, 30 problems | +20.8 [" in md
    csv_rows = run("report", a, b, "--format", "csv").output.splitlines()
    assert csv_rows[0] == "run,metric,b,average" and len(csv_rows) == 1 + 2 + 2 + 1
    # other questions under the same ids: a different problem set, refused unless asked
    other = _run_folder(tmp_path / "other", [0.5] * 30, question="other {}")
    assert_user_error(run("report", a, other), "hold different problems", "--on-shared")
    fewer = _run_folder(tmp_path / "fewer", [1.0] * 10)
    shared = json.loads(run("report", a, fewer, "--on-shared", "--format", "json").output)["paired"][0]
    assert shared["problems"] == 10 and shared["left_out"] == [20, 0]
    assert_user_error(run("report", a, b, "--format", "xml"), "one of table, md, csv, json")
    table = run("report", a, b)
    assert table.exit_code == 0 and "tuned − base" in table.output and "not recorded" in table.output
    # a benchmark one run lacks: refused, or left out of the comparison and the average
    extra = {"benchmark": "c", "id": "0", "question": "q", "gold": "1",
             "samples": [{"completion": "1", "pred": "1", "correct": True}] * 4}  # fmt: skip
    with open(b / "samples.jsonl", "a") as f:
        f.write(json.dumps(extra) + "\n")
    assert_user_error(run("report", a, b), "cover different benchmarks", "base: b; tuned: b, c")
    wider = json.loads(run("report", a, b, "--on-shared", "--format", "json").output)
    assert wider["average_over"] == ["b"] and wider["runs"]["tuned"]["average"]["pass@1"] == pytest.approx(
        wider["runs"]["tuned"]["b"]["pass@1"]) and wider["runs"]["tuned"]["c"]["pass@1"] == 1.0
