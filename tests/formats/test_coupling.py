"""Position coupling: every digit's place is its significance in the number it restates, in
the prompt and in every line of every format, whatever the lengths; decoding computes the same
ids as training; training shifts each row's places by one random offset."""

import random

import pytest
import torch

from mathlens.formats import make_format
from mathlens.formats.coupling import Coupled, coords, make_coupler
from mathlens.models import build_model
from mathlens.models.shape import ModelConfig
from mathlens.tasks import make_task

TASK = make_task("addition")


def digit(n: int, place: int) -> int:
    return n // 10 ** (place - 1) % 10


def carries(a: int, b: int) -> dict[int, int]:
    """The carry into each place of a + b."""
    out, carry = {1: 0}, 0
    for p in range(1, 15):
        carry = (digit(a, p) + digit(b, p) + carry) // 10
        out[p + 1] = carry
    return out


def test_direct_ids_by_hand():
    fmt = Coupled(make_format("direct"))
    prompt, target = fmt.prompt(TASK, 857, 96), fmt.target(TASK, 857, 96)
    assert (prompt, target) == ("758+69=", "359") and fmt.read(target) == "953"
    assert coords("direct", prompt, target) == [
        (1, 0), (2, 0), (3, 0), (0, 0), (1, 0), (2, 0), (0, 0),  # 7 5 8 + 6 9 =
        (1, 1), (2, 1), (3, 1),  # 3 5 9: the answer on its own slot, places from the units
    ]


def test_rule_lines_keep_places_through_restatements():
    fmt = Coupled(make_format("rule"))
    prompt, target = fmt.prompt(TASK, 857, 96), fmt.target(TASK, 857, 96)
    lines = target.split("\n")
    assert lines[3:9] == ["5 58 7", "6 9 6", "7 31", "8 3", "9 1", "4 T"]  # values reversed, line numbers kept
    ids = coords("rule", prompt, target)[len(prompt):]
    by_line = [[]]
    for char, (place, slot) in zip(target, ids):
        if char == "\n":
            by_line.append([])
        elif char.isdigit():
            by_line[-1].append((char, place, slot))
    # step 0 pops 7 (place 1) and keeps 5, 8 at places 2, 3; step 1 keeps 8 at place 3, six slots later
    assert by_line[3] == [("5", 0, 4), ("5", 2, 4), ("8", 3, 4), ("7", 1, 4)]
    assert by_line[9] == [("5", 0, 10), ("8", 3, 10), ("5", 2, 10)]
    assert by_line[-1] == [("3", 1, 24), ("5", 2, 24), ("9", 3, 24)]  # the answer, after line 12


@pytest.mark.parametrize("name", ["direct", "scratchpad", "rule"])
def test_every_digit_sits_at_its_place_at_every_length(name):
    """Each target digit at place p is a digit of a, b or a + b at p, or the carry into p (an
    operand's place past its length is 0): an id one place off fails at once on random sums."""
    fmt, rng = Coupled(make_format(name)), random.Random(0)
    for _ in range(60):
        la, lb = rng.randint(1, 12), rng.randint(1, 12)
        a, b = rng.randrange(10 ** (la - 1), 10**la), rng.randrange(10 ** (lb - 1), 10**lb)
        prompt, target = fmt.prompt(TASK, a, b), fmt.target(TASK, a, b)
        assert fmt.read(target) == str(a + b)
        ids = coords(name, prompt, target)
        assert len(ids) == len(prompt + target)
        carry = carries(a, b)
        text = prompt + target
        lines = target.split("\n")
        names = [len(line.split(" ")[0]) if name == "rule" else 0 for line in lines[:-1]] + [0]  # rule line numbers
        in_name = [False] * len(prompt) + [i < n for line, n in zip(lines, names) for i in range(len(line) + 1)]
        for i, (char, (place, slot)) in enumerate(zip(text, ids)):
            if char.isdigit() and not in_name[i]:
                assert place > 0, (name, a, b, i, char, slot)
                allowed = {digit(a, place), digit(b, place), digit(a + b, place), carry[place]}
                assert int(char) in allowed, (name, a, b, i, char, place, slot)
        last = [p for c, (p, s) in zip(text, ids) if s == ids[-1][1] and c.isdigit()]
        assert last == list(range(1, len(str(a + b)) + 1))  # the answer line: places 1, 2, … in order


def test_decoding_computes_the_ids_training_uses():
    """The engine's ids for each new token, fed the target token by token, are the ids training
    computes from the whole text; and a KV-cached greedy decode with them picks what one pass
    over the whole sequence picks at every position."""
    from mathlens.models.engine import _coupled_ids, generate_ids

    fmt = Coupled(make_format("rule"))
    pairs = [(857, 96), (5, 7), (1234, 98765)]
    prompts = [fmt.prompt(TASK, a, b) for a, b in pairs]
    texts = [p + fmt.target(TASK, a, b) for p, (a, b) in zip(prompts, pairs)]
    model, tokenizer = build_model(texts, ModelConfig(1, 2, 32, "coupled"), seed=0, block_multiple=64, coupler="rule")
    for prompt, text in zip(prompts, texts):
        ids = _coupled_ids("rule", tokenizer, [prompt], [0], "cpu")
        fed = [ids["next_coords"](torch.tensor([t])).tolist()[0][0] for t in tokenizer.encode(text[len(prompt):])]
        assert ids["coords"].tolist()[0] + fed == [list(c) for c in coords("rule", prompt, text[len(prompt):])]
    with torch.no_grad():  # sharp attention, so that the ids decide what is picked
        for block in model.blocks:
            block.attn.qkv.weight.mul_(30)
    model.eval()
    for prompt in prompts:
        start = torch.tensor([tokenizer.encode(prompt)])
        new = generate_ids(model, start, 30, tokenizer.eos_id, **_coupled_ids("rule", tokenizer, [prompt], [0], "cpu"))
        whole = torch.cat([start, new], 1)
        again = _coupled_ids("rule", tokenizer, [prompt], [0], "cpu")
        ids = torch.cat([again["coords"], *(again["next_coords"](t[None]) for t in new[0])], 1)
        logits, _ = model(whole, coords=ids)
        assert logits[0, start.size(1) - 1 : -1].argmax(-1).tolist() == new[0].tolist()


def test_training_shifts_every_place_of_a_row_by_one_random_offset():
    """Each row's places move together, so that its relations hold; rows move differently, so
    that the places of longer tests are trained too. Slots turn rotary angles: a shift of all
    of them changes nothing."""
    shape = ModelConfig(2, 2, 32, "coupled", coupled_offset=6)
    model, tokenizer = build_model(["758+69=359"] * 4, shape, seed=0, coupler="direct")
    ids = torch.tensor([tokenizer.encode("758+69=359")] * 4)
    base = torch.tensor([coords("direct", "758+69=", "359")] * 4)
    shift = model.position_noise(*ids.shape, torch.Generator().manual_seed(0))["coupled_shift"]
    assert shift.shape == (4,) and len(set(shift.tolist())) > 1 and 0 <= int(shift.min()) <= int(shift.max()) <= 6
    shifted, _ = model(ids, coords=base, noise={"coupled_shift": shift})
    by_hand, _ = model(ids, coords=base + torch.stack([shift, torch.zeros_like(shift)], 1)[:, None, :])
    plain, _ = model(ids, coords=base)
    assert torch.allclose(shifted, by_hand) and not torch.allclose(shifted, plain)
    assert torch.allclose(model(ids, coords=base + torch.tensor([0, 7]))[0], plain, atol=1e-5)


def test_coupling_is_refused_where_it_has_no_ids():
    from mathlens.errors import MathlensError

    assert not Coupled(make_format("tir")).supports(TASK)
    assert not Coupled(make_format("rule", style="code")).supports(TASK)
    assert not Coupled(make_format("direct")).supports(make_task("mod_addition"))
    with pytest.raises(MathlensError, match="prompts 'a\\+b='"):
        make_coupler("direct", "what is 2+2?")
    with pytest.raises(MathlensError, match="schemes coupled"):
        build_model(["1+1=2"], ModelConfig(1, 2, 32, "coupled"), seed=0)


def test_traces_read_coupled_sums_the_usual_way_round():
    from mathlens.lab.traces import consistent_sums, readable

    target = Coupled(make_format("rule")).target(TASK, 4857, 396)
    assert consistent_sums(readable(target, coupled=True)) == (4, 4)
    assert consistent_sums(readable(target, coupled=False))[0] < 4  # "7 31" is no sum of 5 and 8
