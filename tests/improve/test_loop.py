"""The improvement loop on a tiny world: every round's files, resume after a kill, the CLI and report."""

import json

import pytest
import torch
from typer.testing import CliRunner

from mathlens.cli import app
from mathlens.config import resolve
from mathlens.errors import MathlensError
from mathlens.improve import LoopConfig, run_loop
from mathlens.improve import loop as loop_module

SMALL = dict(rounds=2, n_seed=40, n_pool=24, n_heldout=16, seed_steps=30, steps=20, k=2, eval_n=2, n_layer=1, n_embd=32, max_tokens=40,
             rm_steps=5, grpo="none")


def small(out, **overrides) -> LoopConfig:
    return resolve(LoopConfig, None, out=str(out), **{**SMALL, **overrides})


def without_times(rounds):
    return [{k: v for k, v in r.items() if k != "stage_seconds"} for r in rounds]


@pytest.fixture(scope="module")
def whole(tmp_path_factory):
    out = tmp_path_factory.mktemp("loop") / "whole"
    return out, run_loop(small(out), progress=False)


def test_every_round_keeps_its_samples_data_model_and_metrics(whole):
    out, rounds = whole
    assert [r["round"] for r in rounds] == [0, 1, 2]
    assert (out / "round-0" / "model" / "ckpt.pt").exists() and not (out / "round-0" / "samples.jsonl").exists()
    for r in (1, 2):
        folder = out / f"round-{r}"
        for name in ("samples.jsonl", "data.jsonl", "train.jsonl", "data_report.json", "model/ckpt.pt", "eval/metrics.json"):
            assert (folder / name).exists(), name
        samples = [json.loads(line) for line in (folder / "samples.jsonl").read_text().splitlines()]
        assert len(samples) == 24 and all(len(s["samples"]) == 2 for s in samples)
        report = json.loads((folder / "data_report.json").read_text())
        assert report["train_rows"] == 40 + sum(
            json.loads((out / f"round-{e}" / "data_report.json").read_text())["rows"] for e in range(1, r + 1)
        )  # the seed's labelled rows and every round's data so far
        correct = {(s["id"], x["completion"]) for s in samples for x in s["samples"] if x["correct"]}
        for line in (folder / "data.jsonl").read_text().splitlines():  # only verified solutions
            row = json.loads(line)
            assert (row["problem"]["id"], row["completion"]) in correct and row["provenance"]["round"] == r
    assert rounds[0]["k"] == 2 and set(rounds[0]["by_level"]) == {"1", "2", "3", "4"}
    assert "gain_ci95" in rounds[2] and (out / "improve.png").stat().st_size > 10_000


def test_a_killed_loop_resumes_where_it_was_and_ends_with_the_same_metrics(whole, tmp_path, monkeypatch):
    out = tmp_path / "killed"
    with pytest.raises(loop_module.StopAfter):
        run_loop(small(out), progress=False, stop_after="round-1/sample")

    class Killed(Exception):
        pass

    real_step, calls = torch.optim.AdamW.step, {"n": 0}

    def dying_step(self, *args, **kwargs):  # dies inside round 1's training
        calls["n"] += 1
        if calls["n"] == 12:
            raise Killed
        return real_step(self, *args, **kwargs)

    monkeypatch.setattr(torch.optim.AdamW, "step", dying_step)
    with pytest.raises(Killed):
        run_loop(small(out), progress=False)
    monkeypatch.undo()
    assert set(json.loads((out / "round-1" / "stages.json").read_text())) == {"sample", "rm", "select"}

    sampled = []
    real_sample = loop_module._sample
    monkeypatch.setattr(loop_module, "_sample", lambda *a: sampled.append(a[4]) or real_sample(*a))
    resumed = run_loop(small(out), progress=False)
    assert sampled == [2]  # round 1's samples were not drawn again
    assert without_times(resumed) == without_times(whole[1])


def test_a_round_with_grpo_keeps_the_policy_before_and_after_it(tmp_path):
    out = tmp_path / "grpo"
    rounds = run_loop(small(out, rounds=1, grpo="last", grpo_steps=2, grpo_problems_per_step=4, group_size=2,
                            min_correct=0, max_correct=2, n_rl=6), progress=False)  # fmt: skip
    folder = out / "round-1"
    stages = ["sample", "rm", "select", "train", "eval-sft", "rl-sample", "grpo", "eval"]
    assert list(json.loads((folder / "stages.json").read_text())) == stages
    assert len((out / "rl.jsonl").read_text().splitlines()) == 6  # GRPO's own queries, apart from the pool
    chosen = json.loads((folder / "grpo" / "grpo_problems.json").read_text())
    assert chosen["from"] == "rl_samples.jsonl" and 0 < chosen["sampled"] <= 6 and chosen["kept"] == chosen["sampled"]
    assert (folder / "rm" / "rm_report.json").exists() and (folder / "eval-sft" / "metrics.json").exists()
    log = [json.loads(line) for line in (folder / "grpo" / "grpo_log.jsonl").read_text().splitlines()]
    assert json.loads((folder / "grpo" / "provenance.json").read_text())["model"]["id"] == str(folder / "model")
    assert [e["step"] for e in log] == [1, 2] and all(e["rollouts"] == 8 for e in log)
    last = rounds[1]
    assert "pass@1" in last["before_grpo"] and len(last["grpo_gain_ci95"]) == 2 and last["grpo_log_last"]["step"] == 2
    from mathlens.models import load_model

    _, _, extra = load_model(folder / "grpo" / "ckpt.pt")  # the round's policy is the one GRPO made
    assert extra["start"] == str(folder / "model")
    shown = CliRunner().invoke(app, ["report", str(out)])
    assert shown.exit_code == 0 and "round-1-sft" in shown.output


def test_the_shipped_config_is_the_default_loop():
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "configs" / "improve.yaml"
    assert resolve(LoopConfig, path) == LoopConfig()


def test_a_folder_refuses_other_settings_and_api_backends_are_refused(whole):
    with pytest.raises(MathlensError, match=r"other settings \(world.n_pool 24 → 25\)"):
        run_loop(small(whole[0], n_pool=25), progress=False)
    with pytest.raises(MathlensError, match="needs a model it can train"):
        small("x", backend="openai", model="m")


def test_improve_and_report_from_the_command_line(whole, tmp_path):
    config = tmp_path / "improve.yaml"
    config.write_text("".join(f"{k}: {v}\n" for k, v in SMALL.items() if k != "rounds"))
    runner = CliRunner()
    result = runner.invoke(app, ["improve", "--config", str(config), "--out", str(tmp_path / "cli"), "--rounds", "1", "--quiet"],
                           env={"COLUMNS": "200"})  # the table's columns, unwrapped
    assert result.exit_code == 0, result.output
    assert "gain vs round 0" in result.output
    assert json.loads((tmp_path / "cli" / "improve.json").read_text())[1]["round"] == 1
    made = json.loads((tmp_path / "cli" / "provenance.json").read_text())
    assert made["kind"] == "improve" and made["ended"] == "finished" and made["model"] is None  # a tiny seed of its own
    shown = runner.invoke(app, ["report", str(whole[0])])
    assert shown.exit_code == 0 and all(f"round-{r}" in shown.output for r in (0, 1, 2))


def test_one_round_with_a_hugging_face_model_through_trl(tiny_model, tmp_path):
    pytest.importorskip("trl")
    pytest.importorskip("datasets")
    cfg = small(tmp_path / "hf", backend="hf", model=str(tiny_model), mode="cot", rounds=1, n_seed=16, n_pool=8, n_heldout=6,
                max_tokens=12, hf_epochs=1.0, hf_batch_size=8, hf_lr=1e-3)  # fmt: skip
    rounds = run_loop(cfg, progress=False)
    assert [r["round"] for r in rounds] == [0, 1]
    folder = tmp_path / "hf" / "round-1"
    assert not (tmp_path / "hf" / "round-0" / "model").exists()  # round 0 is the checkpoint as given
    log = json.loads((folder / "model" / "finetune_log.json").read_text())
    rows = json.loads((folder / "data_report.json").read_text())["train_rows"]
    assert log["config"]["model"] == str(tiny_model) and len(log["losses"]) == -(-rows // 8)  # one epoch
    assert (folder / "model" / "config.json").exists() and (folder / "eval" / "metrics.json").exists()


def test_the_rm_stage_writes_its_own_file_and_leaves_the_samples_as_sampled(whole, tmp_path):
    from mathlens.records import Sample, SampleRow, read_sample_rows, write_sample_rows

    rows = [SampleRow("pool", str(i), f"What is {i} and {i}?", str(2 * i),
                      [Sample(f"{2 * i}", str(2 * i), True), Sample(f"{2 * i + 1}", str(2 * i + 1), False)])
            for i in range(6)]  # fmt: skip
    write_sample_rows(tmp_path / "samples.jsonl", rows)
    before = (tmp_path / "samples.jsonl").read_bytes()
    loop_module._train_rm(small(whole[0]), whole[0] / "round-0" / "model", tmp_path, 1, False)
    assert (tmp_path / "samples.jsonl").read_bytes() == before
    assert all(s.reward is not None for row in read_sample_rows(tmp_path / "rm" / "samples.jsonl") for s in row.samples)


def test_a_hugging_face_policy_samples_in_batches_of_the_configured_width(tiny_model):
    from mathlens.improve.policy import load_policy

    cfg = small("x", backend="hf", model=str(tiny_model), hf_sample_batch=3)
    assert load_policy(cfg, str(tiny_model)).batch_size == 3
