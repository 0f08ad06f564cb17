"""Generic list programs and the pretraining arms: programs without addition, their three
syntaxes, length-grouped batches, and a tiny rule/own/none run with its go/no-go."""

import ast
import inspect
import json
import random

import pytest
import torch

from mathlens.config import resolve
from mathlens.errors import MathlensError
from mathlens.lab import generic, pretrain
from mathlens.lab import lengthgen as lg
from mathlens.lab.configs import LengthGenConfig
from mathlens.models import CHECKPOINT, build_model, load_model
from mathlens.models.shape import ModelConfig
from mathlens.tasks import make_task
from mathlens.train import train
from mathlens.train.core import TrainConfig


@pytest.mark.parametrize("op", list(generic.PROGRAMS))
def test_programs_hold_no_addition_and_no_carry(op):
    source = inspect.getsource(generic.PROGRAMS[op])
    tree = ast.parse(source)
    assert not [n for n in ast.walk(tree) if isinstance(n, (ast.BinOp, ast.AugAssign))], source
    assert "carry" not in source


def test_each_syntax_renders_the_programs_run():
    rng = random.Random(0)
    expect = {
        "@": lambda a, b: a,
        "~": lambda a, b: a[::-1],
        "&": lambda a, b: "".join(x + y for x, y in zip(a.zfill(max(len(a), len(b))), b.zfill(max(len(a), len(b))))),
        "^": lambda a, b: "".join(max(x, y) for x, y in zip(a.zfill(max(len(a), len(b))), b.zfill(max(len(a), len(b))))),
    }
    for _ in range(40):
        a, b = rng.randrange(1, 10**9), rng.randrange(1, 10**6)
        for op, want in expect.items():
            texts = {s: generic.render(op, a, b, s) for s in generic.SYNTAXES}
            assert {t[2] for t in texts.values()} == {want(str(a), str(b))}
            assert {t[0] for t in texts.values()} == {f"{a}{op}{b}="}
            for s, (_, target, answer) in texts.items():
                assert target.split("\n")[-1] == answer, s
            pad = texts["scratchpad"][1].split("\n")
            assert pad[0] == f"{a}{op}{b}," and pad[-2].endswith("," + answer)  # start state, end state
    # the rule syntax restates the list left after each pop, as the addition trace does
    assert generic.render("@", 3857, 6, "rule")[1].split("\n")[:4] == ["2 _", "3 T", "4 385 7", "5 7"]
    with pytest.raises(MathlensError, match="syntax"):
        generic.render("@", 1, 2, "tir")


def test_generic_examples_cover_programs_and_unequal_lengths():
    rows = generic.generic_examples([1, 2, 3, 10], 8, seed=0, syntax="direct")
    assert len(rows) == 32 and {r.meta["program"] for r in rows} == set(generic.PROGRAMS)
    assert {len(str(r.operands[0])) for r in rows} == {1, 2, 3, 10}
    assert any(len(str(a)) != len(str(b)) for a, b in (r.operands for r in rows))
    assert rows == generic.generic_examples([1, 2, 3, 10], 8, seed=0, syntax="direct")
    assert rows != generic.generic_examples([1, 2, 3, 10], 8, seed=1, syntax="direct")


def test_length_grouped_batches_hold_one_length(tmp_path):
    rows = generic.generic_examples(list(range(1, 9)), 12, seed=0, syntax="rule")
    spread = {}
    for grouped in (False, True):
        model, tok = build_model([r.prompt + r.target for r in rows], ModelConfig(n_layer=1, n_head=2, n_embd=16), 0)
        seen, forward = [], model.forward

        def spy(x, *a, **k):
            lengths = (x != tok.pad_id).sum(1)
            seen.append(int(lengths.max() - lengths.min()))
            return forward(x, *a, **k)

        model.forward = spy
        cfg = TrainConfig(steps=12, batch_size=8, eval_every=0, group_by_length=grouped)
        train(model, tok, rows, cfg, tmp_path / str(grouped), progress=False)
        spread[grouped] = sum(seen) / len(seen)  # the padding a batch carries
    assert spread[True] < 0.2 * spread[False], spread


def test_length_order_sorts_lengths_and_shuffles_within_one():
    from mathlens.train.tiny import length_order

    lengths = torch.tensor([5] * 50 + [3] * 50)  # rows written in order, as length_split's sums are
    order = length_order(lengths, seed=0)
    assert lengths[order].tolist() == sorted(lengths.tolist()) and sorted(order.tolist()) == list(range(100))
    window = order[:10].tolist()
    assert max(window) - min(window) > 20  # not ten neighbours in the written order
    assert torch.equal(order, length_order(lengths, seed=0)) and not torch.equal(order, length_order(lengths, seed=1))


KNOBS = dict(train_digits="1-2", test_digits="1-3", formats="direct,rule", n_train=30, n_test=3, n_mixed=2,
             pretrain_digits="1-4", pretrain_n=12, pretrain_steps=6, gate=0.0, n_layer=1, n_head=2, n_embd=32,
             steps=4, batch_size=8, eval_every=0, workers=1)  # fmt: skip


def small(tmp_path, **extra) -> LengthGenConfig:
    return resolve(LengthGenConfig, **{**KNOBS, "out": str(tmp_path), **extra})


def test_arms_start_from_their_checkpoint_and_resume(tmp_path, monkeypatch):
    cfg = small(tmp_path, pretrain="rule,own,none")
    result = lg.run_lengthgen(cfg, progress=False)
    assert set(result["gates"]) == {"direct", "rule"}  # own/rule shares the rule checkpoint
    assert {c.split(" ")[0] for c in result["curves"]} == {f"{a}/{f}" for a in ("rule", "own", "none") for f in ("direct", "rule")}
    assert result["curves"]["own/rule"] == result["curves"]["rule/rule"] and not (tmp_path / "own" / "rule").exists()
    gate = json.loads((tmp_path / "pretrain-rule" / "gate.json").read_text())
    assert gate["lengths"] == [3, 4] and set(gate["by_program"]) == set(generic.PROGRAMS)
    task = make_task("addition")
    pretrained, _, _ = load_model(tmp_path / "pretrain-direct" / CHECKPOINT)
    model, _, replay = pretrain.arm_start(cfg, task, "own", "direct", 80)
    assert all(torch.equal(v, pretrained.state_dict()[k]) for k, v in model.state_dict().items())
    assert len(replay) == 20 and {r.task for r in replay} == {"generic"}  # 20% of the fine-tune's rows
    assert "@" not in replay[0].target and replay[0].target == replay[0].answer  # direct syntax: answers only
    fresh, _, none = pretrain.arm_start(cfg, task, "none", "direct", 80)
    assert none == [] and not torch.equal(fresh.wte.weight, pretrained.wte.weight)
    # the fine-tune itself trained on the replayed rows too
    log = [json.loads(x) for x in (tmp_path / "rule" / "rule" / "train_log.jsonl").read_text().splitlines()]
    assert log and (tmp_path / "rule" / "rule" / "predictions.jsonl").exists()
    # resume reads back the gates and the finished fine-tunes without training
    monkeypatch.setattr(pretrain, "train", lambda *a, **k: pytest.fail("retrained"))
    monkeypatch.setattr(lg, "train", lambda *a, **k: pytest.fail("retrained"))
    again = lg.run_lengthgen(small(tmp_path, pretrain="rule,own,none", resume=True), progress=False)
    assert again["curves"] == result["curves"]


def test_a_failed_gate_stops_before_any_fine_tune(tmp_path):
    cfg = small(tmp_path, pretrain="rule", gate=1.0)
    with pytest.raises(MathlensError, match="go/no-go.*below 100%"):
        lg.run_lengthgen(cfg, progress=False)
    assert (tmp_path / "pretrain-rule" / "gate.json").exists() and not (tmp_path / "rule").exists()
    # --resume with more steps goes on from the checkpoint (a no-go is answered by training longer)
    lg.run_lengthgen(small(tmp_path, pretrain="rule", pretrain_steps=9, resume=True), progress=False)
    gate = json.loads((tmp_path / "pretrain-rule" / "gate.json").read_text())
    log = [json.loads(x) for x in (tmp_path / "pretrain-rule" / "train_log.jsonl").read_text().splitlines()]
    assert gate["steps"] == 9 and log[-1]["step"] == 9 and (tmp_path / "rule" / "direct" / "curve.json").exists()


def test_pretrain_settings_are_checked():
    with pytest.raises(MathlensError, match="pretrain arms"):
        resolve(LengthGenConfig, pretrain="code")
    with pytest.raises(MathlensError, match="not tir"):
        resolve(LengthGenConfig, pretrain="own", formats="direct,tir")
    with pytest.raises(MathlensError, match="drop --schemes"):
        resolve(LengthGenConfig, pretrain="rule", schemes="abacus")
    with pytest.raises(MathlensError, match="replay"):
        resolve(LengthGenConfig, pretrain="rule", replay=1.0)
