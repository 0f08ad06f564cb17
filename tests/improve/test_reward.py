"""The reward model's listwise loss and GRPO's shaped reward and advantages, against hand computation."""

import math

import torch
from hypothesis import given
from hypothesis import strategies as st

from mathlens.improve.reward import group_advantages, listwise_loss, shaped_reward


def test_listwise_loss_equals_the_hand_computed_value_and_skips_groups_without_signal():
    scores = torch.tensor([2.0, 0.5, -1.0, 3.0, 1.0, 0.0, -2.0])
    correct = torch.tensor([1, 0, 0, 1, 1, 1, 0])
    # problem 1: one right (2.0) against two wrong (0.5, -1.0): k(n-k) = 2
    first = -(math.log(1 / (1 + math.exp(-1.5))) + math.log(1 / (1 + math.exp(-3.0)))) / 2
    # problem 2 (3.0, 1.0): all right, no signal; problem 3 (0.0 right, -2.0 wrong): k(n-k) = 1
    third = -math.log(1 / (1 + math.exp(-2.0)))
    loss = listwise_loss(scores, correct, [3, 2, 2])
    assert math.isclose(loss.item(), (first + third) / 2, rel_tol=1e-6)
    assert listwise_loss(scores[3:5], correct[3:5], [2]).item() == 0.0


def test_the_loss_pushes_correct_above_incorrect():
    scores = torch.zeros(4, requires_grad=True)
    listwise_loss(scores, torch.tensor([1, 0, 1, 0]), [4]).backward()
    assert (scores.grad[[0, 2]] < 0).all() and (scores.grad[[1, 3]] > 0).all()  # descent raises the right ones


@given(st.floats(-1000, 1000), st.floats(-1000, 1000))
def test_every_verified_response_outranks_every_unverified_one(good, bad):
    assert shaped_reward(good, True) > shaped_reward(bad, False)
    assert 0.0 < shaped_reward(good, True) <= 1.0 and -1.0 <= shaped_reward(bad, False) < 0.0
    assert math.isclose(shaped_reward(2.0, False), 1 / (1 + math.exp(-1.0)) - 1, rel_tol=1e-12)


def test_advantages_are_normalised_within_each_group():
    adv = group_advantages(torch.tensor([1.0, 0.0, 0.0, 1.0, 0.5, 0.5]), [4, 2])
    assert torch.allclose(adv[:4], torch.tensor([1.0, -1.0, -1.0, 1.0]), atol=1e-3)
    assert torch.equal(adv[4:], torch.zeros(2))  # all equal: no signal
