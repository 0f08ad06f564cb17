"""LSO on the real pretrained model: ``lso --finetune`` fine-tunes SmolLM2-135M-Instruct on the
cells outside the square (a few steps, the top block only) and answers every cell greedily,
with the same artefacts as a tiny run and the budget it spent."""

import json

import pytest
import torch

from mathlens.config import resolve
from mathlens.lab.configs import LSOConfig
from mathlens.lab.lso import run_lso
from mathlens.records import read_jsonl

GRID = dict(range="0-9", center="5,5", radius=1, control=False, steps=3, batch_size=8, lr=1e-4, warmup_steps=0)


@pytest.fixture(scope="module")
def run(smollm2, tmp_path_factory):
    out = tmp_path_factory.mktemp("lso-ft")
    cfg = resolve(LSOConfig, None, GRID, base_model=smollm2, train_layers=1, gen_batch_size=50, out=str(out))
    return out, run_lso(cfg, progress=False)


def test_every_cell_is_answered_and_scored_like_a_tiny_run(run):
    out, metrics = run
    rows = [row for _, row in read_jsonl(out / "predictions.jsonl")]
    assert len(rows) == 100 and sum(r["split"] == "test" for r in rows) == 9
    assert all(r["correct"] == (r["pred"] == r["answer"]) and r["answer"] == str(sum(r["operands"])) for r in rows)
    right = sum(r["correct"] for r in rows if r["split"] == "train") / 91
    assert metrics["train_acc"] == pytest.approx(right) and metrics["n_train"] == 91 and metrics["n_test"] == 9
    assert (out / "heatmap.png").stat().st_size > 0 and (out / "metrics.json").is_file()


def test_the_budget_is_recorded_and_only_the_top_block_moved(run, smollm2):
    from mathlens.models.hf import load_causal_lm

    out, _ = run
    budget = json.loads((out / "finetune.json").read_text())
    assert budget["steps"] == 3 and budget["rows"] == 91 and len(budget["losses"]) == 3
    assert budget["device"] == "cpu" and budget["train_tokens"] > 3 * 8 * 5  # "a+b=" and a sum: 5+ tokens a row
    rows = [row for _, row in read_jsonl(out / "finetune.jsonl")]
    assert {r["prompt"] for r in rows} >= {"0+0=", "9+9="} and "5+5=" not in {r["prompt"] for r in rows}
    base, _ = load_causal_lm(smollm2, "cpu")
    tuned, _ = load_causal_lm(str(out / "model"), "cpu")
    top, bottom = len(tuned.model.layers) - 1, 0
    changed = lambda i: not torch.equal(base.model.layers[i].mlp.up_proj.weight, tuned.model.layers[i].mlp.up_proj.weight)
    assert changed(top) and not changed(bottom)
    assert torch.equal(base.model.embed_tokens.weight, tuned.model.embed_tokens.weight)


def test_finetune_and_model_together_are_refused():
    from mathlens.errors import MathlensError

    with pytest.raises(MathlensError, match="choose one"):
        resolve(LSOConfig, None, base_model="a", backend_model="b")


def test_lengthgen_fine_tunes_per_format_and_tests_longer_sums(smollm2, tmp_path):
    from mathlens.lab.configs import LengthGenConfig
    from mathlens.lab.lengthgen import run_lengthgen

    cfg = resolve(LengthGenConfig, None, train_digits="1-2", test_digits="1-3", formats="direct,scratchpad",
                  n_train=12, n_test=2, n_mixed=1, steps=2, batch_size=4, warmup_steps=0, base_model=smollm2, train_layers=1,
                  out=str(tmp_path))  # fmt: skip
    result = run_lengthgen(cfg, progress=False)
    assert set(result["curves"]) == {"direct", "scratchpad", "direct mixed", "scratchpad mixed"}
    assert set(result["curves"]["direct"]) == {1, 2, 3} and set(result["curves"]["direct mixed"]) == {2, 3}
    for name in ("direct", "scratchpad"):
        budget = json.loads((tmp_path / name / "finetune.json").read_text())
        assert budget["steps"] == 2 and budget["rows"] == 24
        rows = [row for _, row in read_jsonl(tmp_path / name / "finetune.jsonl")]
        assert all(len(r["prompt"].split("+")[0].strip()) <= 2 for r in rows if r["prompt"][0].isdigit())
        assert len([row for _, row in read_jsonl(tmp_path / name / "predictions.jsonl")]) == 6 + 2
    scratch = [row for _, row in read_jsonl(tmp_path / "scratchpad" / "finetune.jsonl")]
    direct = [row for _, row in read_jsonl(tmp_path / "direct" / "finetune.jsonl")]
    assert len(scratch[0]["completion"]) > len(direct[0]["completion"])  # a trace, not the sum alone


def test_processes_train_one_model_under_accelerate_launch(tiny_model, tmp_path, monkeypatch):
    """--processes 2 hands each fine-tune to `accelerate launch` (gloo on the CPU, as NCCL on
    GPUs); the run itself stays one process, so its folder has one writer."""
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    cfg = resolve(LSOConfig, None, {k: v for k, v in GRID.items() if k != "steps"} | {"batch_size": 10}, base_model=str(tiny_model), epochs=1,
                  processes=2, gen_batch_size=50, out=str(tmp_path))  # fmt: skip
    metrics = run_lso(cfg, progress=False)
    log = json.loads((tmp_path / "model" / "finetune_log.json").read_text())
    budget = json.loads((tmp_path / "finetune.json").read_text())
    assert log["processes"] == 2 and log["config"]["batch_size"] == 5  # the global batch of 10, split
    assert budget["steps"] == len(log["losses"]) == 10 and budget["epochs"] == pytest.approx(1.1, abs=0.01)
    assert metrics["n_train"] == 91 and len([r for _, r in read_jsonl(tmp_path / "predictions.jsonl")]) == 100


def test_a_batch_that_does_not_split_among_processes_is_refused(tmp_path):
    from mathlens.errors import MathlensError

    cfg = resolve(LSOConfig, None, GRID | {"batch_size": 9}, base_model="unused", processes=2, out=str(tmp_path))
    with pytest.raises(MathlensError, match="batch_size 9 does not split among 2 processes"):
        run_lso(cfg, progress=False)
