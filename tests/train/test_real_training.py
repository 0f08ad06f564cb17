"""Training the real pretrained model (SmolLM2-135M-Instruct): a LoRA fine-tune lowers its loss,
a reward-model step and GRPO steps run, and the loop's GRPO settings all reach TRL."""

import json
import math
from dataclasses import replace

import pytest

from mathlens.improve.config import GRPOSpec, LoopConfig

SUMS = [(a, b) for a in (12, 27, 35, 41) for b in (8, 16, 23, 30)]


@pytest.fixture(scope="module")
def sums(tmp_path_factory):
    path = tmp_path_factory.mktemp("sums") / "sums.jsonl"
    path.write_text("".join(json.dumps({"prompt": f"{a}+{b}=", "completion": str(a + b)}) + "\n" for a, b in SUMS))
    return path


def test_a_lora_fine_tune_of_the_real_model_lowers_its_loss(smollm2, sums, tmp_path):
    from mathlens.models.hf import load_causal_lm
    from mathlens.train.hf import FinetuneConfig, finetune

    cfg = FinetuneConfig(model=smollm2, data=str(sums), out=str(tmp_path / "ft"), lora=True, steps=12, batch_size=8,
                         lr=2e-3, warmup_steps=0, gradient_checkpointing=False, save_steps=1000,
                         chat_template="off")  # fmt: skip
    losses = finetune(cfg, progress=False).losses
    assert len(losses) == 12 and all(math.isfinite(x) for x in losses)
    assert sum(losses[-3:]) / 3 < 0.7 * sum(losses[:3]) / 3, losses
    model, _ = load_causal_lm(str(tmp_path / "ft"), "cpu")  # merged: loads without peft
    assert model.config.model_type == "llama"


def test_a_reward_model_step_runs_on_the_real_model(smollm2, tmp_path):
    from mathlens.improve.rm import RMConfig, load_reward_model, train_reward_model

    from mathlens.records import Sample, SampleRow

    rows = [SampleRow("sums", str(a), f"What is {a}+{b}?", str(a + b),
                      [Sample(f"The answer is {a + b}.", str(a + b), True),
                       Sample(f"The answer is {a + b + 1}.", str(a + b + 1), False)])
            for a, b in SUMS[:4]]  # fmt: skip
    log = train_reward_model(smollm2, rows, RMConfig(steps=2, problems_per_step=2, lr=1e-5), tmp_path / "rm")
    assert len(log["losses"]) == 2 and all(math.isfinite(x) for x in log["losses"])
    scores = load_reward_model(tmp_path / "rm").score(["What is 1+1?"], ["The answer is 2."])
    assert len(scores) == 1 and math.isfinite(scores[0])


def test_grpo_steps_run_on_the_real_model(smollm2, tmp_path):
    pytest.importorskip("trl")
    from mathlens.improve.grpo_hf import HFGRPOConfig, train_grpo_hf

    problems = [{"question": f"{a}+{b}=", "answer": str(a + b)} for a, b in SUMS[:2]]
    cfg = HFGRPOConfig(steps=2, problems_per_step=1, group_size=4, max_tokens=8, lr=1e-5, chat_template="off")
    result = train_grpo_hf(smollm2, problems, cfg, tmp_path / "grpo", progress=False)
    assert result["problems"] == 2 and any("reward" in e for e in result["log"])
    assert (tmp_path / "grpo" / "grpo_log.json").is_file()


def test_the_loops_hugging_face_grpo_passes_every_setting_to_trl(tmp_path):
    """Each GRPO setting the loop reads must reach trl.GRPOConfig (clip and updates were once dropped)."""
    trl = pytest.importorskip("trl")
    from mathlens.improve.grpo_hf import grpo_arguments
    from mathlens.improve.loop import hf_grpo_config

    spec = GRPOSpec(grpo_steps=7, grpo_problems_per_step=3, group_size=5, grpo_temperature=0.9, grpo_lr=3e-6,
                    clip=0.31, beta=0.07, grpo_updates=3, loss_type="dr_grpo")  # fmt: skip
    cfg = LoopConfig(backend="hf", model="m", mode="cot", chat_template="off", rl=spec, seed=4)
    run = hf_grpo_config(cfg, 2)
    args = trl.GRPOConfig(**grpo_arguments(run, tmp_path))
    assert (args.max_steps, args.per_device_train_batch_size, args.num_generations) == (7, 15, 5)
    assert (args.temperature, args.learning_rate, args.epsilon, args.beta) == (0.9, 3e-6, 0.31, 0.07)
    assert (args.num_iterations, args.loss_type, args.seed) == (3, "dr_grpo", 6)
    assert run.chat_template == "off" and run.max_tokens == cfg.sampling.max_tokens
    assert not run.use_vllm and hf_grpo_config(replace(cfg, backend="vllm"), 0).use_vllm


@pytest.mark.slow
def test_one_improve_round_on_the_real_model(smollm2, tmp_path):
    """A round of the loop with backend hf on SmolLM2 and a small slice of the word world (minutes)."""
    from mathlens.config import resolve
    from mathlens.improve import run_loop

    cfg = resolve(LoopConfig, None, out=str(tmp_path / "loop"), rounds=1, backend="hf", model=smollm2, mode="cot",
                  n_pool=12, n_heldout=8, n_rl=0, k=2, max_tokens=64, hf_epochs=1.0, hf_batch_size=4, hf_lr=1e-5,
                  eval_n=1, rm=False, grpo="none")  # fmt: skip
    results = run_loop(cfg, progress=False)
    assert [r["round"] for r in results] == [0, 1]
    assert (tmp_path / "loop" / "round-1" / "model" / "config.json").is_file()
