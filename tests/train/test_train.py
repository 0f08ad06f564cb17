import pytest
import torch

from mathlens.lab.examples import make_examples
from mathlens.lab.splits import Square, leave_square_out
from mathlens.models import GPT, CharTokenizer, GPTConfig, ModelConfig, load_checkpoint, load_model
from mathlens.tasks import make_task
from mathlens.train import TrainConfig, encode_examples, train


def small_setup(seed=0):
    task = make_task("addition", low=0, high=19)
    examples = [e for e in make_examples(task, leave_square_out(task, [Square((10, 10), 2)])) if e.split == "train"]
    tok = CharTokenizer.from_texts(e.prompt + e.target for e in examples)
    torch.manual_seed(seed)
    model = GPT(GPTConfig(tok.vocab_size, 16, ModelConfig(1, 2, 32)))
    return model, tok, examples


CFG = TrainConfig(steps=40, batch_size=32, lr=3e-3, warmup_steps=5, eval_every=0, checkpoint_every=10, seed=7)


def test_loss_is_scored_on_answer_tokens_only():
    _, tok, examples = small_setup()
    inputs, targets = encode_examples(tok, examples[:3])
    e = examples[1]  # "0+1=" → "1"
    scored = targets[1][targets[1] != -100].tolist()
    assert scored == tok.encode(e.target) + [tok.eos_id]
    assert inputs[1, : len(e.prompt)].tolist() == tok.encode(e.prompt)


def test_training_lowers_the_loss_and_is_deterministic(tmp_path):
    runs = []
    for name in ("a", "b"):
        model, tok, examples = small_setup()
        result = train(model, tok, examples, CFG, tmp_path / name, progress=False)
        runs.append((result, model))
    (r1, m1), (r2, m2) = runs
    assert r1.log[-1]["loss"] < r1.log[0]["loss"] - 0.3
    assert r1.final_loss == r2.final_loss
    for p, q in zip(m1.parameters(), m2.parameters()):
        assert torch.equal(p, q)


def test_resume_after_a_kill_gives_the_same_final_weights(tmp_path, monkeypatch):
    model, tok, examples = small_setup()
    train(model, tok, examples, CFG, tmp_path / "whole", progress=False)

    # The "killed" run dies inside step 26; its last checkpoint is from step 20.
    class Killed(Exception):
        pass

    calls = {"n": 0}
    real_step = torch.optim.AdamW.step

    def dying_step(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 26:
            raise Killed
        return real_step(self, *args, **kwargs)

    partial, tok2, _ = small_setup()
    monkeypatch.setattr(torch.optim.AdamW, "step", dying_step)
    with pytest.raises(Killed):
        train(partial, tok2, examples, CFG, tmp_path / "killed", progress=False)
    monkeypatch.undo()
    assert load_checkpoint(tmp_path / "killed")["step"] == 20

    resumed, tok3, _ = small_setup(seed=123)  # different init: resume must overwrite it
    train(resumed, tok3, examples, CFG, tmp_path / "killed", resume=True, progress=False)
    for p, q in zip(model.parameters(), resumed.parameters()):
        assert torch.equal(p, q)


def test_checkpoint_reloads_into_an_equal_model(tmp_path):
    model, tok, examples = small_setup()
    train(model, tok, examples, CFG, tmp_path, extra={"task": "addition"}, progress=False)
    loaded, tok_loaded, extra = load_model(tmp_path)
    assert tok_loaded == tok and extra == {"task": "addition"}
    x = torch.randint(0, tok.vocab_size, (2, 6))
    model.eval()
    assert torch.equal(model(x)[0], loaded(x)[0])
