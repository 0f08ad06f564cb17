"""GRPO: the objective by hand, tool output out of the gradient, a policy that learns, resume, TRL."""

import math

import pytest
import torch

from mathlens.improve.grpo import (
    GRPOConfig,
    Rollout,
    eligible_problems,
    encode_rollouts,
    grpo_loss,
    token_logprobs,
    train_grpo,
)
from mathlens.improve.policy import user_prompt
from mathlens.models import ModelConfig, build_model, load_model
from mathlens.records import Example, Sample, SampleRow
from mathlens.train import TrainConfig, train


def test_the_loss_by_hand():
    zeros = torch.zeros(2, 3)
    mask = torch.tensor([[True, True, False], [True, False, False]])
    # ratio 1 and no KL: minus the advantage, a response's tokens averaged, then the responses
    loss, stats = grpo_loss(zeros, zeros, zeros, torch.tensor([2.0, 1.0]), mask, 0.2, 0.1)
    assert loss.item() == pytest.approx(-1.5) and stats["kl"] == 0.0
    # ratio 1.5 on one token with advantage 1 is clipped to 1.2; the KL k3 term of a log-ratio d is e^d − d − 1
    logp = torch.tensor([[math.log(1.5)]])
    loss, stats = grpo_loss(logp, torch.zeros(1, 1), torch.zeros(1, 1), torch.tensor([1.0]), torch.ones(1, 1, dtype=torch.bool), 0.2, 0.5)
    d = -math.log(1.5)
    assert loss.item() == pytest.approx(-(1.2 - 0.5 * (math.exp(d) - d - 1)))
    assert stats["clipped"] == 1.0
    # dapo: one mean over every sampled token of the batch
    loss, _ = grpo_loss(zeros, zeros, zeros, torch.tensor([2.0, 1.0]), mask, 0.2, 0.1, "dapo")
    assert loss.item() == pytest.approx(-(2 + 2 + 1) / 3)


def test_masked_tokens_get_no_gradient():
    mask = torch.rand(3, 5) > 0.4
    mask[0, 0] = True
    logp = torch.where(mask, -torch.rand(3, 5), torch.full((3, 5), 1000.0)).requires_grad_()
    old = torch.where(mask, logp.detach() + 0.05, -1000.0)  # masked: a log-ratio whose exp overflows, must not leak
    loss, _ = grpo_loss(logp, old, torch.zeros(3, 5), torch.tensor([1.0, -0.5, 2.0]), mask, 0.2, 0.04)
    loss.backward()
    assert torch.isfinite(logp.grad).all()
    assert (logp.grad[~mask] == 0).all() and (logp.grad[mask] != 0).any()


@pytest.fixture(scope="module")
def tiny_policy(tmp_path_factory):
    """A tiny GPT taught to answer 'pick' with \\boxed{1} or \\boxed{2}, half and half."""
    folder = tmp_path_factory.mktemp("policy")
    prompt = user_prompt("pick")
    targets = ["\\boxed{1}", "\\boxed{2}"]
    model, tok = build_model([prompt + t + "```python\nprint()```output\n" for t in targets], ModelConfig(1, 2, 32, "rope"), 0, block_multiple=64)
    examples = [Example(i, "p", (0, 0), prompt, targets[i % 2], "", "train") for i in range(64)]
    train(model, tok, examples, TrainConfig(steps=150, batch_size=32, lr=3e-3, warmup_steps=10, eval_every=0),
          folder, progress=False)  # fmt: skip
    return folder


def test_tool_output_is_out_of_the_mask_and_of_the_gradient(tiny_policy):
    model, tok, _ = load_model(tiny_policy / "ckpt.pt")
    completion = "```python\nprint(1)\n```output\n12\n```\n\\boxed{1}"
    start = completion.index("12")
    injected = [(start, start + len("12\n```\n"))]
    x, y, m = encode_rollouts(tok, [Rollout("pick", completion, injected)], model.config.block_size, max_tokens=96)
    prompt_len = len(user_prompt("pick"))
    sampled = [not (s <= i < e) for i in range(len(completion)) for s, e in injected] + [True]  # and the end token
    assert m[0, prompt_len - 1 : prompt_len - 1 + len(sampled)].tolist() == sampled
    assert not m[0, : prompt_len - 1].any()
    logits_seen = {}

    def keep(_module, _inputs, output):
        output.retain_grad()
        logits_seen["logits"] = output

    model.lm_head.register_forward_hook(keep)
    logp = token_logprobs(model, x, y, 1.0)
    loss, _ = grpo_loss(logp, logp.detach(), logp.detach(), torch.tensor([1.0]), m, 0.2, 0.04)
    loss.backward()
    grad = logits_seen["logits"].grad[0]  # (T, vocab)
    assert (grad[~m[0]] == 0).all() and (grad[m[0]].abs().sum(-1) > 0).all()


def test_grpo_raises_the_reward(tiny_policy, tmp_path):
    problems = [{"id": str(i), "question": "pick", "answer": "1"} for i in range(8)]
    cfg = GRPOConfig(steps=12, problems_per_step=4, group_size=8, max_tokens=16, lr=3e-3, beta=0.0)
    result = train_grpo(tiny_policy, problems, cfg, tmp_path, mode="cot", progress=False)
    log = result["log"]
    assert len(log) == 12 and 0.2 < log[0]["verified"] < 0.8
    assert sum(e["verified"] for e in log[-3:]) / 3 > 0.9  # the rewarded answer took over
    model, _, extra = load_model(tmp_path / "ckpt.pt")  # a tiny checkpoint like any other
    assert extra["grpo"]["steps"] == 12


def test_a_stopped_run_resumes_to_the_same_weights(tiny_policy, tmp_path):
    problems = [{"id": str(i), "question": "pick", "answer": "2"} for i in range(8)]
    cfg = dict(problems_per_step=2, group_size=4, max_tokens=16, lr=1e-3, checkpoint_every=2)
    train_grpo(tiny_policy, problems, GRPOConfig(steps=4, **cfg), tmp_path / "whole", mode="cot", progress=False)
    train_grpo(tiny_policy, problems, GRPOConfig(steps=2, **cfg), tmp_path / "split", mode="cot", progress=False)
    result = train_grpo(tiny_policy, problems, GRPOConfig(steps=4, **cfg), tmp_path / "split", mode="cot", progress=False)
    assert [e["step"] for e in result["log"]] == [1, 2, 3, 4]
    a, _, _ = load_model(tmp_path / "whole" / "ckpt.pt")
    b, _, _ = load_model(tmp_path / "split" / "ckpt.pt")
    assert all(torch.equal(p, q) for p, q in zip(a.state_dict().values(), b.state_dict().values()))


def test_each_step_dumps_its_first_rollouts(tiny_policy, tmp_path):
    import json

    problems = [{"id": str(i), "question": "pick", "answer": "1"} for i in range(4)]
    cfg = dict(problems_per_step=2, group_size=4, max_tokens=16, checkpoint_every=1, dump_rollouts=3)
    train_grpo(tiny_policy, problems, GRPOConfig(steps=2, **cfg), tmp_path, mode="cot", progress=False)
    rows = [json.loads(line) for line in (tmp_path / "rollouts.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == [1, 1, 1, 2, 2, 2]
    assert all(set(r) == {"step", "prompt", "completion", "reward", "verified", "tool_calls"} for r in rows)
    assert all(r["prompt"] == user_prompt("pick") and r["reward"] == float(r["verified"]) for r in rows)
    with (tmp_path / "rollouts.jsonl").open("a") as f:  # what a run killed in step 3, before its checkpoint, leaves
        f.write(json.dumps(rows[0] | {"step": 3}) + '\n{"step": 3, "prom')
    # going on with other choices of what to watch: the new step's rows once, its scalars in TensorBoard
    more = GRPOConfig(steps=3, **{**cfg, "dump_rollouts": 2, "report_to": "tensorboard"})
    log = train_grpo(tiny_policy, problems, more, tmp_path, mode="cot", progress=False)["log"]
    rows = [json.loads(line) for line in (tmp_path / "rollouts.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == [1, 1, 1, 2, 2, 2, 3, 3]
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(tmp_path / "tb"))
    events.Reload()
    assert [(e.step, e.value) for e in events.Scalars("verified")] == [(3, pytest.approx(log[-1]["verified"]))]


def test_a_grpo_log_plots_loss_reward_verified_and_kl(tiny_policy, tmp_path):
    from mathlens.curves import plot_logs

    problems = [{"id": str(i), "question": "pick", "answer": "1"} for i in range(4)]
    cfg = GRPOConfig(steps=2, problems_per_step=2, group_size=4, max_tokens=16)
    train_grpo(tiny_policy, problems, cfg, tmp_path, mode="cot", progress=False)
    drawn = plot_logs([tmp_path / "grpo_log.jsonl"])
    assert drawn.panels == ("loss", "reward", "verified", "kl") and drawn.path == tmp_path / "curves.png"


def test_problems_between_two_and_five_right_of_eight():
    rows = [SampleRow("b", str(i), f"q{i}", "1", [Sample("s", "1", j < i) for j in range(8)]) for i in range(9)]
    assert [p["id"] for p in eligible_problems(rows, 2, 5)] == ["2", "3", "4", "5"]


def test_trl_grpo_two_steps_with_our_reward_and_the_references(tmp_path, monkeypatch):
    pytest.importorskip("trl")
    from mathlens.grading import grade as real_grade
    from mathlens.improve import grpo_hf
    from mathlens.models.hf import save_random_char_gpt2

    seen = []

    def recording_grade(pred, gold):
        seen.append(gold)
        return real_grade(pred, gold)

    monkeypatch.setattr(grpo_hf, "grade", recording_grade)

    class Scorer:  # a reward model that prefers longer completions
        def score(self, questions, completions):
            assert all(q.startswith("What is") for q in questions)
            return [float(len(c)) for c in completions]

    save_random_char_gpt2(tmp_path / "policy")
    # answers a random model cannot hit (a lone digit it emits would verify "0")
    problems = [{"id": str(i), "question": f"What is {i} plus {i}?", "answer": str(987654 + i)} for i in range(4)]
    cfg = grpo_hf.HFGRPOConfig(steps=2, problems_per_step=2, group_size=4, max_tokens=12, loss_type="grpo")
    result = grpo_hf.train_grpo_hf(str(tmp_path / "policy"), problems, cfg, tmp_path / "grpo", Scorer(), progress=False)
    assert len(seen) == 2 * 2 * 4 and set(seen) <= {p["answer"] for p in problems} and len(set(seen)) >= 2
    steps = [e for e in result["log"] if "reward" in e]
    assert len(steps) == 2 and all(-1.0 < e["reward"] < 0.0 for e in steps)  # unverified, so σ(0.5·r_m) − 1
    assert (tmp_path / "grpo" / "model.safetensors").exists()
    import json

    dumped = [json.loads(line) for line in (tmp_path / "grpo" / "rollouts.jsonl").read_text().splitlines()]
    assert [r["step"] for r in dumped] == [1] * 4 + [2] * 4  # the first 4 of each step's rollouts
    assert all(-1.0 < r["reward"] < 0.0 and r["verified"] is False and r["tool_calls"] == 0 for r in dumped)
    assert all("What is" in r["prompt"] and isinstance(r["completion"], str) for r in dumped)


def test_the_shaped_reward_function_verifies_against_the_answer_column():
    from mathlens.improve.grpo_hf import shaped_reward_function

    class Zero:
        def score(self, questions, completions):
            return [0.0] * len(completions)

    reward = shaped_reward_function(Zero())
    out = reward(prompts=["p", "p"], completions=["so \\boxed{4}", "so \\boxed{5}"], answer=["4", "4"], question=["q", "q"])
    assert out == [pytest.approx(0.5), pytest.approx(-0.5)]


def test_grpo_from_the_command_line(tiny_policy, tmp_path):
    from typer.testing import CliRunner

    from mathlens.cli import app
    from mathlens.records import write_jsonl

    samples = tmp_path / "samples.jsonl"
    write_jsonl(samples, [{"id": str(i), "question": "pick", "gold": "1",
                           "samples": [{"completion": "c", "pred": "1", "correct": j < 3} for j in range(8)]} for i in range(4)])  # fmt: skip
    runner = CliRunner()
    args = ["grpo", "--policy", str(tiny_policy), "--samples", str(samples), "--out", str(tmp_path / "g"), "--mode", "cot",
            "--steps", "2", "--problems-per-step", "2", "--group-size", "4", "--max-tokens", "16", "--quiet"]  # fmt: skip
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "4 problems" in " ".join(result.output.split()) and (tmp_path / "g" / "ckpt.pt").exists()
    missing = runner.invoke(app, [*args[:3], "--samples", str(tmp_path / "none.jsonl")])
    assert missing.exit_code == 2 and "no such file" in missing.output


def test_trl_grpo_with_the_python_tool_and_a_tool_calling_template(tmp_path):
    """TIR through TRL's own tool loop: the template renders the `python` tool's schema and the run trains.
    (A random model never calls the tool; the tool itself is checked against the sandbox below.)"""
    pytest.importorskip("trl")
    from transformers import AutoTokenizer
    from trl.chat_template_utils import qwen2_5_chat_template

    from mathlens.improve import grpo_hf
    from mathlens.models.hf import save_random_char_gpt2

    save_random_char_gpt2(tmp_path / "policy", n_positions=2048)  # the tool schema alone is ~1,000 characters
    tok = AutoTokenizer.from_pretrained(tmp_path / "policy")
    tok.chat_template = qwen2_5_chat_template
    tok.save_pretrained(tmp_path / "policy")
    # answers a random model cannot hit (a lone digit it emits would verify "0")
    problems = [{"id": str(i), "question": f"What is {i} plus {i}?", "answer": str(987654 + i)} for i in range(4)]
    cfg = grpo_hf.HFGRPOConfig(steps=2, problems_per_step=2, group_size=2, max_tokens=8, tools=True)
    log = grpo_hf.train_grpo_hf(str(tmp_path / "policy"), problems, cfg, tmp_path / "grpo", progress=False)["log"]
    steps = [e for e in log if "reward" in e]
    assert len(steps) == 2 and all("tools/call_frequency" in e for e in steps)


def test_the_python_tool_runs_in_the_sandbox():
    from mathlens.improve.grpo_hf import python_tool
    from mathlens.sandbox import Sandbox

    with Sandbox(workers=1) as box:
        tool = python_tool(box)
        assert tool("print(6 * 7)").strip() == "42"
        assert "ZeroDivisionError" in tool("print(1 / 0)")
    assert tool.__name__ == "python" and "Args:" in tool.__doc__
