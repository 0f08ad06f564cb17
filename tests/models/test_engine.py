"""The decoding engine: seeded sampling that a batch cannot change, equal to an uncached reference."""

import pytest
import torch

from mathlens.backends import Sampling
from mathlens.backends.tiny import TinyBackend
from mathlens.models import GPT, CharTokenizer, GPTConfig, ModelConfig, decode, pick_tokens, sample_seed
from mathlens.models.engine import uniforms

PROMPTS = [f"{a}+{b}=" for a in (3, 17, 42, 99, 250) for b in (0, 8, 61)]


def tiny(positions="learned", seed=0):
    torch.manual_seed(seed)
    tok = CharTokenizer.from_texts(["0123456789+=#"])
    return GPT(GPTConfig(tok.vocab_size, 48, ModelConfig(2, 2, 32, positions))).eval(), tok


@torch.no_grad()
def uncached_sample(model, tok, prompt, max_new, temperature, top_p, seed):
    """Reference: one sequence, the whole context recomputed for every token, the same uniforms."""
    ids, u = tok.encode(prompt), uniforms(seed, max_new)
    new = []
    for t in range(max_new):
        logits, _ = model(torch.tensor([ids + new]))
        token = int(pick_tokens(logits[:, -1], u[t : t + 1], temperature, top_p)[0])
        if token == tok.eos_id:
            break
        new.append(token)
    return tok.decode(new)


@pytest.mark.parametrize("positions", ["learned", "rope"])
@pytest.mark.parametrize("top_p", [1.0, 0.9])
def test_cached_sampling_equals_the_uncached_reference(positions, top_p):
    model, tok = tiny(positions)
    prompts = [p for p in PROMPTS for _ in range(4)]
    seeds = [sample_seed(7, p, j) for p in PROMPTS for j in range(4)]
    cached = decode(model, tok, prompts, 20, temperature=0.7, top_p=top_p, seeds=seeds)
    reference = [uncached_sample(model, tok, p, 20, 0.7, top_p, s) for p, s in zip(prompts, seeds)]
    same = sum(a == b for a, b in zip(cached, reference))
    assert same >= 0.99 * len(prompts), f"{same}/{len(prompts)} identical"
    assert len(set(cached)) > len(PROMPTS)  # the samples of one prompt differ: it really samples


def test_a_sample_does_not_depend_on_what_it_was_batched_with():
    model, tok = tiny()
    seeds = [sample_seed(0, p, 0) for p in PROMPTS]
    together = decode(model, tok, PROMPTS, 16, temperature=1.0, seeds=seeds)
    alone = [decode(model, tok, [p], 16, temperature=1.0, seeds=[s])[0] for p, s in zip(PROMPTS, seeds)]
    assert together == alone
    shuffled = decode(model, tok, PROMPTS[::-1], 16, temperature=1.0, seeds=seeds[::-1])
    assert shuffled[::-1] == together


def test_greedy_ignores_seeds_and_sampling_needs_them():
    model, tok = tiny()
    assert decode(model, tok, PROMPTS, 8) == decode(model, tok, PROMPTS, 8, seeds=list(range(len(PROMPTS))))
    with pytest.raises(ValueError, match="one seed per prompt"):
        decode(model, tok, PROMPTS, 8, temperature=0.7)


def test_a_stop_string_ends_the_row_and_is_kept():
    model, tok = tiny()
    free = decode(model, tok, PROMPTS, 30, temperature=1.0, seeds=list(range(len(PROMPTS))))
    stop = "1"
    stopped = decode(model, tok, PROMPTS, 30, temperature=1.0, seeds=list(range(len(PROMPTS))), stop=(stop,))
    for f, s in zip(free, stopped):
        assert s == (f[: f.index(stop) + 1] if stop in f else f)


def test_the_tiny_backend_seeds_each_sample_by_problem_and_index():
    model, tok = tiny()
    backend = TinyBackend(model, tok)
    sampling = Sampling(n=3, temperature=0.8, max_tokens=12, seed=5)
    first = backend.generate(PROMPTS[:4], sampling, keys=["a", "b", "c", "d"])
    again = backend.generate(PROMPTS[2:4], sampling, keys=["c", "d"])
    assert again == first[2:4]
    assert len({tuple(s) for s in first}) == 4 and all(len(set(s)) > 1 for s in first)
    other_seed = backend.generate(
        PROMPTS[:4], Sampling(n=3, temperature=0.8, max_tokens=12, seed=6), keys=["a", "b", "c", "d"]
    )
    assert other_seed != first


def test_devices_are_checked_before_any_work():
    from mathlens.errors import MathlensError
    from mathlens.models import resolve_device

    assert resolve_device("cpu").type == "cpu"
    assert resolve_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")
    with pytest.raises(MathlensError, match="choose auto, cpu, cuda"):
        resolve_device("tpu")
    if not torch.cuda.is_available():
        with pytest.raises(MathlensError, match="no GPU"):
            resolve_device("cuda")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no GPU here")
def test_the_engine_gives_the_same_greedy_answers_on_the_gpu():
    model, tok = tiny()
    on_cpu = decode(model, tok, PROMPTS, 12)
    assert decode(model.cuda(), tok, PROMPTS, 12) == on_cpu


@pytest.mark.parametrize("positions", ["learned", "rope"])
def test_prompts_of_mixed_lengths_decode_as_they_do_alone(positions):
    """A server's batch mixes lengths: left-padded rows, masked, give each prompt's own completion."""
    import random

    torch.manual_seed(0)
    tok = CharTokenizer.from_texts(["0123456789+= abc"])
    model = GPT(GPTConfig(tok.vocab_size, 48, ModelConfig(2, 2, 32, positions)))
    rng = random.Random(0)
    prompts = ["".join(rng.choice("0123456789+= abc") for _ in range(rng.randint(1, 30))) for _ in range(40)]
    seeds = [sample_seed(0, p, 0) for p in prompts]
    for temperature in (0.0, 0.9):
        run = dict(temperature=temperature, seeds=seeds if temperature else None)
        alone = decode(model.eval(), tok, prompts, 16, **run)
        assert decode(model, tok, prompts, 16, mix_lengths=True, **run) == alone
        assert decode(model, tok, prompts, 16, mix_lengths=True, batch_size=7, **run) == alone
