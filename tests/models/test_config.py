"""One model config: the network's GPTConfig holds the experiment's ModelConfig; old checkpoints still load."""

import pytest
import torch

from mathlens.errors import MathlensError
from mathlens.models import GPTConfig, ModelConfig, build_model, load_model, save_checkpoint

TEXTS = ["12+345=357", "9+9=18"]


def flat(config: GPTConfig) -> dict:
    """The flat dict checkpoints held when GPTConfig repeated the shape's fields (random_positions: a span)."""
    s = config.shape
    return {"vocab_size": config.vocab_size, "block_size": config.block_size, "n_layer": s.n_layer,
            "n_head": s.n_head, "n_embd": s.n_embd, "positions": s.positions, "rope_base": config.rope_base,
            "random_positions": config.block_size if s.random_positions else 0, "abacus": s.abacus,
            "abacus_offset": s.abacus_offset, "digit_ids": config.digit_ids}  # fmt: skip


SHAPES = [
    ModelConfig(1, 2, 32, "learned", random_positions=True),
    ModelConfig(1, 2, 32, "rope", abacus=True, abacus_offset=3),
    ModelConfig(1, 2, 16, "none"),
]


@pytest.mark.parametrize("shape", SHAPES, ids=["random", "abacus", "nope"])
def test_checkpoints_in_the_old_flat_form_and_the_new_one_load_the_same_model(tmp_path, shape):
    model, tok = build_model(TEXTS, shape, 0)
    model.eval()
    x = torch.tensor([tok.encode(TEXTS[0])])
    for name, model_config in (("old", flat(model.config)), ("new", model.config.to_dict())):
        (tmp_path / name).mkdir()
        state = {"model": model.state_dict(), "model_config": model_config, "tokenizer": tok.to_dict()}
        save_checkpoint(tmp_path / name / "ckpt.pt", state)
        loaded, _, _ = load_model(tmp_path / name)
        assert loaded.config == model.config and loaded.config.shape == shape
        assert torch.equal(loaded(x)[0], model(x)[0])


def test_the_config_round_trips_with_its_shape_nested():
    model, _ = build_model(TEXTS, SHAPES[1], 0)
    d = model.config.to_dict()
    assert d["shape"]["abacus_offset"] == 3 and "n_embd" not in d
    assert GPTConfig.from_dict(d) == model.config and model.config.random_span == 0
    random, _ = build_model(TEXTS, SHAPES[0], 0)
    assert random.config.random_span == random.config.block_size


def test_the_shape_is_checked_in_one_place_and_a_wider_old_span_is_refused():
    with pytest.raises(MathlensError, match="multiple of n_head"):
        ModelConfig(1, 3, 32)
    with pytest.raises(MathlensError, match="positions must be one of"):
        GPTConfig.from_dict({"vocab_size": 5, "block_size": 8, "positions": "alibi"})
    with pytest.raises(MathlensError, match="digit tokens"):
        GPTConfig(5, 8, ModelConfig(abacus=True))
    with pytest.raises(MathlensError, match="spans more than block_size"):
        GPTConfig.from_dict({"vocab_size": 5, "block_size": 8, "random_positions": 32})
