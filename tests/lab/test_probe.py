"""The lab through a called model: a tiny checkpoint directly and through `mathlens serve`
(a real HTTP round trip on 127.0.0.1), and a tiny random GPT-2 through the hf backend."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mathlens.backends.serve import make_server
from mathlens.backends.tiny import TinyBackend
from mathlens.cli import app
from mathlens.config import resolve
from mathlens.formats import make_format
from mathlens.lab.lso import LSOConfig, run_lso
from mathlens.lab.probe import demos_for, shot_prompt
from mathlens.tasks import make_task

runner = CliRunner()
GRID = {"task": "addition", "range": "0-19", "center": "10,10", "radius": 3, "seed": 0}


def read(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> Path:
    """A tiny LSO run on a 20×20 grid: its checkpoint is the model the probes call."""
    out = tmp_path_factory.mktemp("lso")
    cfg = resolve(LSOConfig, None, GRID, control=False, steps=150, n_embd=32, n_head=2, n_layer=1, out=str(out))
    run_lso(cfg, progress=False)
    return out


@pytest.fixture(scope="module")
def served(trained):
    server = make_server(TinyBackend(str(trained / "ckpt.pt"), mix_lengths=True), "tiny-lso", port=0)
    url = server.start()
    yield url
    server.shutdown()
    server.server_close()


def test_a_checkpoint_called_through_tiny_and_serve_answers_as_when_trained(trained, served, tmp_path):
    """Greedy, zero-shot: the called model gives the trained run's own answer in every cell,
    directly and over HTTP, and the run writes the same artefacts with the same metrics."""
    own = {r["id"]: r["pred"] for r in read(trained / "predictions.jsonl")}
    metrics = json.loads((trained / "metrics.json").read_text())
    for backend, model, extra in (("tiny", str(trained / "ckpt.pt"), []), ("openai", "tiny-lso", ["--base-url", served])):
        out = tmp_path / backend
        flags = [f"--{k}={v}" for k, v in GRID.items()]
        result = runner.invoke(app, ["lso", *flags, "--backend", backend, "--model", model, *extra, "--out", str(out), "--quiet"])
        assert result.exit_code == 0, result.output
        rows = read(out / "predictions.jsonl")
        assert {r["id"]: r["pred"] for r in rows} == own
        probed = json.loads((out / "metrics.json").read_text())
        assert (probed["train_acc"], probed["test_acc"]) == (metrics["train_acc"], metrics["test_acc"])
        assert probed["acc_by_depth"] == metrics["acc_by_depth"] and probed["random_acc"] is None
        assert (out / "heatmap.png").stat().st_size > 10_000


def test_sampled_cells_report_pass_at_k_and_pass_at_1(served, tmp_path):
    cfg = resolve(
        LSOConfig,
        None,
        GRID,
        backend="openai",
        backend_model="tiny-lso",
        base_url=served,
        n=4,
        temperature=1.5,
        train_cells=30,
        out=str(tmp_path),
    )
    m = run_lso(cfg, progress=False)
    rows = read(tmp_path / "predictions.jsonl")
    assert m["n_train"] == 30 and m["n_test"] == 49 and len(rows) == 79
    assert all(len(r["preds"]) == 4 and r["correct"] == (r["hits"] > 0) for r in rows)
    assert any(len(set(r["preds"])) > 1 for r in rows)  # sampled, not four greedy copies
    assert m["test_pass1"] == pytest.approx(sum(r["hits"] for r in rows if r["split"] == "test") / (4 * 49))
    assert m["test_acc"] >= m["test_pass1"] and m["train_acc"] >= m["train_pass1"]


def test_demonstrations_come_from_training_cells_and_never_the_question():
    pool = [(a, b) for a in range(5) for b in range(5) if (a, b) != (2, 2)]
    demos = demos_for(pool, 3, seed=0, operands=(1, 1))
    assert len(demos) == 3 and (1, 1) not in demos and set(demos) <= set(pool)
    assert demos == demos_for(pool, 3, seed=0, operands=(1, 1)) != demos_for(pool, 3, seed=0, operands=(1, 2))
    task, fmt = make_task("addition"), make_format("rule", style="code", rule_text="pseudo")
    prompt = shot_prompt(fmt, task, [(12, 7), (5, 9)], 31, 4)
    assert prompt.startswith("Follow the rule step by step") and prompt.count("carry = total div 10") == 1  # the rule once
    assert "12+7=num1=[1, 2]" in prompt and "Therefore, the answer is 19.\n\n5+9=" in prompt
    assert prompt.endswith("Therefore, the answer is 14.\n\n31+4=")


@pytest.fixture(scope="module")
def long_gpt2(tmp_path_factory) -> Path:
    """A tiny random GPT-2 with room for a rule and its demonstrations in the prompt."""
    pytest.importorskip("transformers")
    from mathlens.models.hf import save_random_char_gpt2

    return save_random_char_gpt2(tmp_path_factory.mktemp("gpt2"), n_embd=32, n_layer=1, n_positions=2048)


def test_an_hf_model_answers_the_grid_and_lengths_few_shot(long_gpt2, tmp_path):
    """A tiny random GPT-2 through the hf backend: the rule in words, a demonstration,
    every cell graded and drawn; lengthgen likewise."""
    lso = tmp_path / "lso"
    args = ["--backend", "hf", "--model", str(long_gpt2), "--rule-text", "natural"]
    flags = [f"--{k}={v}" for k, v in GRID.items()] + ["--format", "rule"]
    more = ["--shots", "1", "--train-cells", "10", "--max-tokens", "8", "--out", str(lso), "--quiet"]
    result = runner.invoke(app, ["lso", *flags, *args, *more])
    assert result.exit_code == 0, result.output
    rows = read(lso / "predictions.jsonl")
    assert len(rows) == 59 and all(r["prompt"].count("Therefore, the answer is") == 1 for r in rows)
    assert json.loads((lso / "metrics.json").read_text())["n_test"] == 49
    assert (lso / "heatmap.png").exists()
    lg = tmp_path / "lengthgen"
    more = ["--shots", "1", "--train-digits", "1-2", "--test-digits", "3", "--n-test", "3", "--max-tokens", "8"]
    result = runner.invoke(app, ["lengthgen", *args, *more, "--formats", "rule,direct", "--out", str(lg), "--quiet"])
    assert result.exit_code == 0, result.output
    curves = json.loads((lg / "lengthgen.json").read_text())["curves"]
    assert set(curves) == {"rule", "direct"} and set(curves["direct"]) == {"3"}
    assert (lg / "lengthgen.png").exists()


def test_a_prompt_past_the_models_context_is_a_clear_error(tiny_model, tmp_path):
    flags = [f"--{k}={v}" for k, v in GRID.items()]
    args = ["--backend", "hf", "--model", str(tiny_model), "--format", "rule", "--shots", "4", "--train-cells", "1"]
    result = runner.invoke(app, ["lso", *flags, *args, "--out", str(tmp_path), "--quiet"])
    assert result.exit_code != 0 and "the model's context is 256 tokens" in result.output
