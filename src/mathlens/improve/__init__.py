"""Self-improvement (the Qwen2.5-Math recipe): rejection-sampled training data from a policy's
own samples, decontaminated against evaluation sets, mixed across difficulty, and the loop
that does it round after round (``run_loop``); a reward model on the policy's own samples
(``rm``, ``rm_hf``: the listwise loss of ``reward``) for best-of-N and data selection; GRPO with
the reward model in the reward (``grpo`` for the tiny policy, ``grpo_hf`` through TRL).
Easy-to-hard rounds on length, where a tiny model labels longer sums itself, train the lab's
models on the lab's sums: ``lab.climb``.

Names load on first use (``lazy.py``): reading a config imports no model stack.
"""

from __future__ import annotations

from ..lazy import lazy_exports

_WHERE = {
    "LoopConfig": "config",
    "EvalText": "..decontam",
    "Index": "..decontam",
    "decontaminate": "..decontam",
    "PassRatePredictor": "difficulty",
    "balanced_mix": "difficulty",
    "pass_rate": "difficulty",
    "run_loop": "loop",
    "RFTConfig": "rft",
    "rft_rows": "rft",
    "RMConfig": "rm",
    "load_reward_model": "rm",
    "score_rows": "rm",
    "train_reward_model": "rm",
}
__all__ = sorted(_WHERE)
__getattr__ = lazy_exports(__name__, _WHERE)
