"""Position schemes for length generalization: presets, index hints from random letters, and
the scheme × format comparison (panels, skipped pairs, resume)."""

import json

import pytest

from mathlens.config import resolve
from mathlens.errors import MathlensError
from mathlens.formats import IndexHints, make_format
from mathlens.formats.numbers import hint_digits, strip_hints
from mathlens.lab import lengthgen as lg
from mathlens.lab.configs import LengthGenConfig, ProbeConfig
from mathlens.tasks import make_task


def small(tmp_path, **extra) -> LengthGenConfig:
    knobs = dict(train_digits="1-2", test_digits="1-3", n_train=40, n_test=4, n_layer=1, n_head=2, n_embd=32,
                 steps=8, batch_size=8, eval_every=0, workers=1, out=str(tmp_path))
    return resolve(LengthGenConfig, **{**knobs, **extra})


def test_scheme_presets_shape_the_model():
    cfg = LengthGenConfig(train_digits=(1, 2, 3, 4), test_digits=tuple(range(1, 9)))
    abacus = cfg.scheme_model("abacus")
    # places shifted up to 5: a 4-digit training number reaches place 9, the longest test sum's
    assert abacus.abacus and abacus.abacus_offset == 5 and abacus.positions == "rope"
    assert cfg.scheme_model("random").random_positions and cfg.scheme_model("random").positions == "learned"
    assert cfg.scheme_model("nope").positions == "none" and not cfg.scheme_model("rope").abacus
    with pytest.raises(MathlensError, match="sinusoid"):
        LengthGenConfig(schemes=("sinusoid",))
    with pytest.raises(MathlensError, match="drop them with --model"):
        LengthGenConfig(schemes=("rope",), probe=ProbeConfig(backend_model="m"))


def test_hints_start_from_any_letter_and_read_back():
    assert hint_digits("59", 2) == "δ5γ9" and hint_digits("59") == "β5α9"
    task = make_task("addition")
    shifted = IndexHints(make_format("direct"), start=23)  # wraps past the last letter
    assert shifted.prompt(task, 12, 3) == "α1ω2+ω3=" and shifted.read(shifted.target(task, 12, 3)) == "15"


def test_hinted_training_uses_many_starts_and_tests_one(tmp_path):
    cfg = small(tmp_path)
    examples = lg.length_examples(make_task("addition"), lg.format_for("direct", cfg, "hints"), cfg)
    units = lambda e: e.prompt[e.prompt.index("+") - 2]  # the letter before the first operand's units digit
    assert len({units(e) for e in examples if e.split == "train"}) > 10
    assert {units(e) for e in examples if e.split == "test"} == {"α"}
    assert all(strip_hints(e.target) == e.answer for e in examples)


def test_schemes_run_every_pair_that_applies_and_resume(tmp_path, monkeypatch):
    cfg = small(tmp_path, formats="direct,tir", schemes="abacus,hints")
    result = lg.run_lengthgen(cfg, progress=False)
    # index hints would be run by the interpreter: no hints/tir pair
    assert list(result["curves"]) == ["abacus/direct", "abacus/tir", "hints/direct"]
    assert all(set(c) == {1, 2, 3} for c in result["curves"].values())
    assert (tmp_path / "lengthgen.png").stat().st_size > 10_000
    rows = [json.loads(line) for line in (tmp_path / "abacus" / "direct" / "predictions.jsonl").read_text().splitlines()]
    a, b = rows[-1]["operands"]
    assert rows[-1]["prompt"] == f"{str(a)[::-1]}+{str(b)[::-1]}="  # abacus answers direct problems reversed
    saved = json.loads((tmp_path / "abacus" / "direct" / "ckpt.pt").exists() and (tmp_path / "lengthgen.json").read_text())
    assert saved["curves"]["hints/direct"]["2"] == result["curves"]["hints/direct"][2]

    def no_training(*args, **kwargs):
        raise AssertionError("a finished pair was trained again")

    monkeypatch.setattr(lg, "run_format", no_training)
    again = lg.run_lengthgen(small(tmp_path, formats="direct,tir", schemes="abacus,hints", resume=True), progress=False)
    assert again["curves"] == result["curves"]


def test_trace_checks_find_the_first_wrong_line_and_judge_sums_on_the_models_own_state():
    from mathlens.lab.traces import consistent_sums, first_divergence

    task = make_task("addition")
    target = make_format("rule", style="compact").target(task, 4587, 396)
    assert first_divergence(target, target) is None
    wrong = target.replace("5 458 7", "5 45 7", 1)
    assert first_divergence(wrong, target) == (3, "5")  # the first pop: a copying error
    assert consistent_sums(target) == (4, 4)
    # a wrong pop whose sum still adds the digits the model wrote: consistent with its own state
    assert consistent_sums("3 0\n5 45 2\n6 3 1\n7 3\n9 0") == (1, 1)
    assert consistent_sums("3 0\n5 45 2\n6 3 1\n7 4\n9 0") == (0, 1)


def test_copy_lines_ignore_the_arithmetic_and_catch_a_wrong_copy():
    from mathlens.lab.traces import copy_lines

    task = make_task("addition")
    for name in ("rule", "scratchpad"):
        fmt = make_format(name, style="compact") if name == "rule" else make_format(name)
        right, other_sum = fmt.target(task, 4587, 396), fmt.target(task, 4587, 397)
        assert copy_lines(name, right) and copy_lines(name, right) != copy_lines(name, other_sum)  # 6 ≠ 7 is copied
        carry_wrong = fmt.target(task, 4587, 396).replace("C:1", "C:0").replace("\n7 13", "\n7 3")
        assert carry_wrong != right and copy_lines(name, carry_wrong) == copy_lines(name, right)
    assert copy_lines("direct", "4983") is None


def _scheme_model(scheme: str):
    from mathlens.models import build_model

    cfg = resolve(LengthGenConfig, train_digits="1-2", test_digits="1-4", n_layer=1, n_head=2, n_embd=32)
    coupler = "direct" if scheme == "coupled" else ""
    return build_model(["12+345=357", "9+9=18"], cfg.scheme_model(scheme), seed=0, coupler=coupler)


@pytest.mark.parametrize("scheme", ["random", "abacus"])
def test_training_noise_reaches_the_logits(scheme):
    """GPT.forward once dropped ``noise`` on its way to ``hidden``: random offsets and Abacus shifts
    were drawn in training and never seen, so those schemes trained as plain rotary/learned ones."""
    import torch

    model, tokenizer = _scheme_model(scheme)
    x = torch.tensor([tokenizer.encode("12+345=357")] * 4)
    noise = model.position_noise(*x.shape, torch.Generator().manual_seed(1))
    assert noise and all(v.any() for v in noise.values()), noise  # every row moved somewhere
    plain, _ = model(x)
    shifted, _ = model(x, noise=noise)
    assert not torch.allclose(plain, shifted)
    assert torch.allclose(shifted, model(x, noise={k: v.clone() for k, v in noise.items()})[0])  # the noise, not chance


@pytest.mark.parametrize(
    "scheme,keys",
    [("rope", set()), ("random", {"positions"}), ("abacus", {"abacus_shift"}), ("coupled", {"coupled_shift", "coords"})],
)
def test_a_schemes_training_uses_what_it_says(scheme, keys, tmp_path, monkeypatch):
    """Each training step hands the network the noise its scheme names, and nothing else."""
    from mathlens.models import GPT
    from mathlens.records import Example
    from mathlens.train.core import TrainConfig
    from mathlens.train.tiny import train

    model, tokenizer = _scheme_model(scheme)
    seen: list[set[str]] = []
    hidden = GPT.hidden

    def spy(self, idx, cache=None, last_only=False, pad=None, noise=None, coords=None):
        if self.training:
            seen.append(set(noise or {}) | ({"coords"} if coords is not None else set()))
        return hidden(self, idx, cache, last_only, pad, noise, coords)

    monkeypatch.setattr(GPT, "hidden", spy)
    pairs = [(12, 345), (9, 9)]
    rows = [Example(i, "addition", (a, b), f"{a}+{b}=", str(a + b), str(a + b), "train") for i, (a, b) in enumerate(pairs)]
    config = TrainConfig(steps=3, batch_size=2, warmup_steps=1, eval_every=0)
    train(model, tokenizer, rows, config, tmp_path, progress=False)
    assert seen == [keys] * 3, seen


def test_the_coupled_scheme_trains_reversed_formats_on_place_and_slot_ids(tmp_path):
    cfg = small(tmp_path, formats="direct,rule,tir", schemes="coupled")
    assert cfg.scheme_model("coupled").positions == "coupled"
    result = lg.run_lengthgen(cfg, progress=False)
    assert set(result["curves"]) == {"coupled/direct", "coupled/rule"}  # tir has no ids: skipped
    rows = [json.loads(line) for line in (tmp_path / "coupled" / "rule" / "predictions.jsonl").read_text().splitlines()]
    a, b = rows[-1]["operands"]
    assert rows[-1]["prompt"] == f"{str(a)[::-1]}+{str(b)[::-1]}="
