"""``mathlens view``: the page holds each kind of run's data, puts the problems two runs differ on
first, and, in a real headless Chromium (Debian's, driven by Playwright), draws without a script
error, filters and shows what a click asks for. The browser tests skip only where Chromium or
Playwright is missing (``scripts/ensure-chromium`` installs the browser)."""

from __future__ import annotations

import json
import re
import struct
import zlib
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mathlens import view
from mathlens.cli import app
from mathlens.errors import MathlensError
from mathlens.records import Sample, SampleRow, write_jsonl, write_sample_rows

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]  # fmt: skip
SCRIPT_IN_TEXT = "print('</script><b>bold</b>')"


# ---------------------------------------------------------------- small hand-made runs


def png(path: Path, width: int = 4, height: int = 3) -> Path:
    """A real (grey) PNG, so a browser draws it without complaint."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    raw = b"".join(b"\x00" + b"\x80" * width for _ in range(height))
    data = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
    return path


def sample(verdict: str, text: str = "", **extra) -> Sample:
    pred = {"right": "7", "wrong": "5", "none": None}[verdict]
    return Sample(text or f"I think it is {pred}.", pred, verdict == "right", "answer-is", extra=extra)


def rows_a() -> list[SampleRow]:
    """p1 right twice; p2 wrong and unanswered (out of tokens, with a tool call); p3 right and
    wrong; p4 (another benchmark) unanswered and right. Verdict wrong: p2, p3; right: p1, p3, p4."""
    tool = {"code": SCRIPT_IN_TEXT, "output": "tool says 99"}
    return [
        SampleRow("words", "p1", "Ann has 3 apples and finds 4.", "7", [sample("right"), sample("right")],
                  {"level": 1}, {"prompt": "Q: Ann has 3 apples and finds 4.\nA:"}),
        SampleRow("words", "p2", "Bob has 9 pears and eats 2.", "7",
                  [sample("wrong", "rambling on and on", finish_reason="length", tokens=512),
                   Sample("```python\n" + SCRIPT_IN_TEXT + "\n```", None, False, "", tool_calls=[tool])],
                  {"level": 2}),  # fmt: skip
        SampleRow("words", "p3", "Cy has 10 nuts and loses 3.", "7", [sample("right"), sample("wrong")], {"level": 1}),
        SampleRow("other", "p4", "Di has 1 cat and gets 6.", "7", [sample("none"), sample("right")], {"level": 2}),
    ]


def rows_b() -> list[SampleRow]:
    """The same problems: p2 goes 0 → 100% right, p3 50 → 100%, p1 and p4 as they were."""
    rows = rows_a()
    rows[1].samples = [sample("right", "B solved the pears"), sample("right")]
    rows[2].samples = [sample("right"), sample("right")]
    return rows


def eval_run(folder: Path, rows: list[SampleRow]) -> Path:
    write_sample_rows(folder / "samples.jsonl", rows)
    metrics = {"words": {"problems": 3, "k": 2, "pass@1": 0.5, "pass@1_ci95": [0.25, 0.75], "pass@2": 0.667},
               "other": {"problems": 1, "k": 2, "pass@1": 0.5, "pass@1_ci95": [0.0, 1.0], "pass@2": 1.0}}  # fmt: skip
    (folder / "metrics.json").write_text(json.dumps(metrics))
    png(folder / "by_k.png")
    return folder


def lab_run(folder: Path) -> Path:
    """A 3 × 3 addition grid, (1, 1) held out and answered wrong."""
    rows = []
    for a in range(3):
        for b in range(3):
            test = (a, b) == (1, 1)
            said = "9" if test else str(a + b)
            rows.append({"id": 3 * a + b, "operands": [a, b], "prompt": f"{a}+{b}=", "target": str(a + b),
                         "answer": str(a + b), "completion": said, "pred": said, "correct": not test,
                         "split": "test" if test else "train"})  # fmt: skip
    write_jsonl(folder / "predictions.jsonl", rows)
    (folder / "metrics.json").write_text(json.dumps({"train_acc": 1.0, "test_acc": 0.0, "n_train": 8, "n_test": 1}))
    write_jsonl(folder / "train_log.jsonl", [{"step": 10 * i, "loss": 2.0 / i, "lr": 0.001} for i in range(1, 30)])
    png(folder / "heatmap.png")
    return folder


def length_run(folder: Path) -> Path:
    """A length test's predictions: random operands (no square to fill), no split, no "target"."""
    rows = [{"id": i, "operands": [a, b], "digits": len(str(a)), "prompt": f"{a}+{b}=", "answer": str(a + b),
             "completion": str(a + b + i), "pred": str(a + b + i), "correct": i == 0}
            for i, (a, b) in enumerate([(5, 700), (12, 3), (400, 88)])]  # fmt: skip
    write_jsonl(folder / "direct" / "predictions.jsonl", rows)
    return folder


def improve_run(folder: Path) -> Path:
    """improve.json shaped as runs/improve-climb's: one entry per round, nested data and levels."""
    rounds = [
        {"round": 0, "problems": 4, "k": 2, "pass@1": 0.5, "pass@1_ci95": [0.25, 0.75], "pass@2": 0.75, "maj@2": 0.5,
         "by_level": {"1": 0.75, "2": 0.25}, "by_level_ci95": {"1": [0.5, 1.0], "2": [0.0, 0.5]},
         "stage_seconds": {"train": 10.0, "eval": 2.0}},
        {"round": 1, "problems": 4, "k": 2, "pass@1": 0.875, "pass@1_ci95": [0.625, 1.0], "pass@2": 1.0, "maj@2": 0.75,
         "rm@2": 0.75, "by_level": {"1": 1.0, "2": 0.75}, "by_level_ci95": {"1": [1.0, 1.0], "2": [0.5, 1.0]},
         "stage_seconds": {"sample": 3.0, "train": 5.0, "eval": 2.0},
         "data": {"problems": 8, "solved_share": 0.5, "rows": 6}, "gain_vs_round0": 0.375, "gain_ci95": [0.125, 0.5],
         "gain_by_level": {"1": [0.25, 0.0, 0.5], "2": [0.5, 0.25, 0.75]}},
    ]  # fmt: skip
    folder.mkdir(parents=True)
    (folder / "improve.json").write_text(json.dumps(rounds, indent=1))
    png(folder / "improve.png")
    eval_run(folder / "round-0" / "eval", rows_a())
    eval_run(folder / "round-1" / "eval", rows_b())
    write_jsonl(folder / "round-1" / "grpo" / "grpo_log.jsonl",
                [{"step": i, "loss": 0.01 * i, "reward": 0.1 * i, "kl": 0.001 * i} for i in range(1, 9)])  # fmt: skip
    return folder


def embedded(html: str) -> dict:
    found = re.search(r'<script type="application/json" id="mathlens-data">(.*?)</script>', html, re.S)
    assert found, "no embedded data"
    return json.loads(found.group(1))


# ---------------------------------------------------------------- the library


def test_kinds_are_told_apart_and_a_stranger_folder_is_one_line_of_error(tmp_path):
    assert view.detect_kind(eval_run(tmp_path / "e", rows_a())) == "eval"
    assert view.detect_kind(tmp_path / "e" / "samples.jsonl") == "eval"
    assert view.detect_kind(lab_run(tmp_path / "lab")) == "lab"
    assert view.detect_kind(improve_run(tmp_path / "imp")) == "improve"
    lab_run(tmp_path / "sweep" / "c1")
    lab_run(tmp_path / "sweep" / "c2")
    assert view.detect_kind(tmp_path / "sweep") == "lab"
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "notes.txt").write_text("nothing")
    with pytest.raises(MathlensError) as err:
        view.detect_kind(tmp_path / "empty")
    said = "not a run folder (no samples.jsonl, predictions.jsonl or improve.json)"
    assert str(err.value) == f"{tmp_path / 'empty'}: {said}"


def test_an_eval_page_holds_prompts_verdicts_finish_reasons_tools_and_plots(tmp_path):
    out = view.write_view([eval_run(tmp_path / "run", rows_a())])
    assert out == tmp_path / "run" / "view.html"
    html = out.read_text()
    assert "</script><b>" not in html  # a completion cannot close the data element
    assert "data:image/png;base64," in html and "by_k.png" in html
    assert "pass@1" in html and "50.0%" in html and "[25.0%, 75.0%]" in html  # metrics.json with its interval
    data = embedded(html)
    (run,) = data["runs"]
    problems = {p["id"]: p for p in run["sets"][0]["problems"]}
    assert list(problems) == ["p1", "p2", "p3", "p4"] and "compare" not in data
    assert problems["p1"]["prompt"] == "Q: Ann has 3 apples and finds 4.\nA:" and problems["p3"]["prompt"] is None
    assert problems["p1"]["level"] == "1" and problems["p4"]["benchmark"] == "other"
    first, second = problems["p2"]["samples"]
    assert (first["verdict"], first["finish"], first["tokens"]) == ("wrong", "length", 512)
    assert second["verdict"] == "none" and second["tools"] == [{"code": SCRIPT_IN_TEXT, "output": "tool says 99"}]
    assert [s["verdict"] for s in problems["p3"]["samples"]] == ["right", "wrong"]


def test_prompt_finish_reason_and_tokens_are_read_as_fields_or_from_extra():
    """Records written before these fields existed carry them in ``extra``; newer ones as attributes."""
    older = Sample("x", "7", True, extra={"finish_reason": "stop", "tokens": 3})
    assert (view.sample_record(older)["finish"], view.sample_record(older)["tokens"]) == ("stop", 3)
    newer = Sample("x", None, False)
    newer.finish_reason, newer.tokens = "length", 9
    record = view.sample_record(newer)
    assert (record["verdict"], record["finish"], record["tokens"]) == ("none", "length", 9)
    row = SampleRow("b", "1", "q?", "7", [older], extra={"prompt": [{"role": "user", "content": "q?"}]})
    assert json.loads(view.problem_record(row)["prompt"]) == [{"role": "user", "content": "q?"}]  # chat messages
    row.prompt = "Q: q?\nA:"
    assert view.problem_record(row)["prompt"] == "Q: q?\nA:"


def test_two_runs_side_by_side_put_the_largest_change_first(tmp_path):
    a, b = eval_run(tmp_path / "a" / "eval", rows_a()), eval_run(tmp_path / "b" / "eval", rows_b())
    rows = view.compare_rows(view.load_run(a).sets[0].problems, view.load_run(b).sets[0].problems)
    assert [(r.id, r.a, r.b) for r in rows] == [("p2", 0.0, 1.0), ("p3", 0.5, 1.0), ("p1", 1.0, 1.0), ("p4", 0.5, 0.5)]
    out = view.write_view([a, b], tmp_path / "both.html")
    html = out.read_text()
    data = embedded(html)
    assert [r[0] for r in data["compare"]["rows"]][:2] == ["words::p2", "words::p3"]
    assert [r["name"] for r in data["runs"]] == ["a/eval", "b/eval"]  # told apart by their parents
    assert "All runs" in html and "a/eval · words" in html and "b/eval · other" in html


def test_a_lab_page_holds_its_grid_and_a_sweep_one_grid_per_subfolder(tmp_path):
    data = embedded(view.write_view([lab_run(tmp_path / "lab")]).read_text())
    (grid,) = data["runs"][0]["grids"]
    i = grid["a"].index(1) + 1  # operands (1, 1): the held-out cell
    assert (grid["a"][i], grid["b"][i], grid["test"][i], grid["ok"][i]) == (1, 1, 1, False)
    assert grid["prompt"][i] == "1+1=" and grid["completion"][i] == "9" and len(grid["a"]) == 9
    lab_run(tmp_path / "sweep" / "c1")
    lab_run(tmp_path / "sweep" / "c2")
    html = view.write_view([tmp_path / "sweep"]).read_text()
    assert [g["name"] for g in embedded(html)["runs"][0]["grids"]] == ["c1", "c2"]
    assert "<polyline" in html and "c1/train_log.jsonl" in html  # each subfolder's loss curve


def test_an_improve_page_holds_its_rounds_the_last_round_first_and_its_curves(tmp_path):
    html = view.write_view([improve_run(tmp_path / "imp")]).read_text()
    assert "<h3>Rounds</h3>" in html and "<th>round 1</th>" in html and "<th>level 2</th>" in html
    assert "87.5% <span class=\"ci\">[62.5%, 100.0%]</span>" in html  # pass@1 of round 1 with its interval
    assert "37.5% <span class=\"ci\">[12.5%, 50.0%]</span>" in html  # gain_ci95 belongs to gain_vs_round0
    assert "data.solved_share" in html and "improve.png" in html and "round-1/grpo/grpo_log.jsonl" in html
    assert html.count("<polyline") == 3  # the GRPO log's loss, reward and KL
    sets = embedded(html)["runs"][0]["sets"]
    assert [s["label"] for s in sets] == ["round-1", "round-0"]


def test_caps_keep_the_page_small_and_say_so(tmp_path, monkeypatch):
    monkeypatch.setattr(view, "MAX_PROBLEMS", 3)
    html = view.write_view([improve_run(tmp_path / "imp")]).read_text()
    assert [len(s["problems"]) for s in embedded(html)["runs"][0]["sets"]] == [3]
    assert "round-1: the first 3 of 4 problems embedded" in html and "round-0: not embedded" in html


def test_the_cli_writes_beside_the_run_or_where_asked_and_errors_in_one_line(tmp_path):
    runner = CliRunner()
    run = eval_run(tmp_path / "run", rows_a())
    done = runner.invoke(app, ["view", str(run)])
    assert done.exit_code == 0, done.output
    assert done.stdout.strip() == str(run / "view.html") and (run / "view.html").exists()
    out = tmp_path / "x" / "v.html"
    done = runner.invoke(app, ["view", str(run), str(lab_run(tmp_path / "lab")), "--out", str(out)])
    assert done.exit_code == 0 and done.stdout.strip() == str(out) and out.exists()
    (tmp_path / "nothing").mkdir()
    done = runner.invoke(app, ["view", str(tmp_path / "nothing")])
    assert done.exit_code == 2 and done.stderr.strip().endswith("not a run folder (no samples.jsonl, "
                                                                "predictions.jsonl or improve.json)")  # fmt: skip
    assert "Example: mathlens view" in runner.invoke(app, ["view", "--help"]).output


# ---------------------------------------------------------------- in a real browser


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.skip(f"no {CHROMIUM}: run scripts/ensure-chromium")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (the test extra has it)")
    with sync_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page_of(browser):
    """Open a page from disk; at the end, no console error and no uncaught exception."""
    errors: list[str] = []
    pages = []

    def open_page(path: Path):
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(path.resolve().as_uri())
        pages.append(page)
        return page

    yield open_page
    for page in pages:
        page.close()
    assert not errors, errors


def test_the_sample_browser_shows_samples_and_filters_by_verdict_level_and_text(tmp_path, page_of):
    page = page_of(view.write_view([eval_run(tmp_path / "run", rows_a())]))
    problems = page.locator(".browser .problem")
    assert problems.count() == 4 and page.locator(".browser .count").inner_text() == "showing 4 of 4 problems"
    assert page.get_by_text("Bob has 9 pears and eats 2.").is_visible()
    page.locator(".problem[data-key='words::p2'] .head").click()
    assert page.get_by_text("rambling on and on").is_visible() and page.get_by_text("tool says 99").is_visible()
    assert page.locator(".problem[data-key='words::p2'] .warn").inner_text() == "finish: length"
    page.select_option(".browser select.f-verdict", "wrong")
    assert problems.count() == 2 and page.locator(".browser .count").inner_text() == "showing 2 of 4 problems"
    page.select_option(".browser select.f-verdict", "none")
    assert [problems.nth(i).get_attribute("data-key") for i in range(2)] == ["words::p2", "other::p4"]
    page.select_option(".browser select.f-verdict", "right")
    assert problems.count() == 3
    page.select_option(".browser select.f-level", "2")
    assert problems.count() == 1  # right and at level 2: p4
    page.select_option(".browser select.f-verdict", "all")
    page.select_option(".browser select.f-level", "all")
    page.fill(".browser input.f-search", "PEARS")
    assert problems.count() == 1 and problems.first.get_attribute("data-key") == "words::p2"
    shot = page.screenshot(path=str(tmp_path / "browser.png"), full_page=True)
    assert shot[:8] == b"\x89PNG\r\n\x1a\n" and (tmp_path / "browser.png").stat().st_size > 5000


def test_side_by_side_lists_the_changed_problem_first_and_opens_both_runs(tmp_path, page_of):
    a, b = eval_run(tmp_path / "a" / "eval", rows_a()), eval_run(tmp_path / "b" / "eval", rows_b())
    page = page_of(view.write_view([a, b], tmp_path / "both.html"))
    rows = page.locator(".compare tr.cmprow")
    assert rows.count() == 4 and rows.first.get_attribute("data-key") == "words::p2"
    assert rows.first.locator("td").nth(5).inner_text() == "+100"
    rows.first.click()
    assert page.locator(".compare .sbs h4").all_inner_texts() == ["A: a/eval", "B: b/eval"]
    assert page.locator(".compare .sbs").get_by_text("B solved the pears").is_visible()
    page.check(".compare input.f-differ")
    assert rows.count() == 2


def test_a_lab_grid_cell_shows_its_prompt_target_and_completion(tmp_path, page_of):
    page = page_of(view.write_view([lab_run(tmp_path / "lab")]))
    cells = page.locator(".grids .board .cell")
    assert cells.count() == 9 and page.locator(".grids .board .cell.t.w").count() == 1
    held_out = page.locator(".grids .board .cell.t.w")
    assert held_out.is_visible()
    held_out.click()
    info = page.locator(".grids .cellinfo").inner_text()
    assert "a = 1, b = 1" in info and "1+1=" in info and "test (held out)" in info and "wrong" in info
    page.locator(".grids .board .cell.r").first.hover()  # pinned: hovering elsewhere keeps the clicked cell
    assert "a = 1, b = 1" in page.locator(".grids .cellinfo").inner_text()
    assert page.get_by_role("img", name="heatmap.png").is_visible()


def test_a_length_run_without_a_square_or_split_gets_one_cell_per_prediction(tmp_path, page_of):
    data = embedded(view.write_view([length_run(tmp_path / "lg")]).read_text())
    (grid,) = data["runs"][0]["grids"]
    assert grid["test"] == [None, None, None] and grid["target"] == ["705", "15", "488"]
    page = page_of(tmp_path / "lg" / "view.html")
    assert page.locator(".grids .board .cell").count() == 3
    assert "do not fill a square" in page.locator(".grids .axis").inner_text()
    page.locator(".grids .board .cell").nth(2).click()
    info = page.locator(".grids .cellinfo").inner_text()
    assert "a = 400, b = 88" in info and "no split recorded" in info and "488" in info
    assert "right: 33.3% of 3" in page.locator(".grids .legend").inner_text()


def test_an_improve_page_shows_its_round_table_and_switches_rounds(tmp_path, page_of):
    page = page_of(view.write_view([improve_run(tmp_path / "imp")]))
    table = page.locator("table.metrics").first
    assert table.is_visible() and "round 1" in table.inner_text() and "87.5%" in table.inner_text()
    assert page.locator("svg.curve").count() == 3
    page.locator(".problem[data-key='words::p2'] .head").click()
    assert page.get_by_text("B solved the pears").is_visible()  # the last round is the default
    page.select_option(".browser select.f-set", "1")  # round-0
    page.locator(".problem[data-key='words::p2'] .head").click()
    assert page.get_by_text("rambling on and on").is_visible()
