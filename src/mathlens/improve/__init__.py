"""Self-improvement (the Qwen2.5-Math recipe): rejection-sampled training data from a policy's
own samples, decontaminated against evaluation sets, mixed across difficulty, and the loop
that does it round after round (``run_loop``); a reward model on the policy's own samples
(``rm``, ``rm_hf``: the listwise loss of ``reward``) for best-of-N and data selection; GRPO with
the reward model in the reward (``grpo`` for the tiny policy, ``grpo_hf`` through TRL)."""

from .config import LoopConfig
from ..decontam import EvalText, Index, decontaminate
from .difficulty import PassRatePredictor, balanced_mix, pass_rate
from .loop import run_loop
from .rft import RFTConfig, rft_rows
from .rm import RMConfig, load_reward_model, score_rows, train_reward_model

__all__ = ["EvalText", "Index", "LoopConfig", "PassRatePredictor", "RFTConfig", "RMConfig", "balanced_mix",
           "decontaminate", "load_reward_model", "pass_rate", "rft_rows", "run_loop", "score_rows",
           "train_reward_model"]  # fmt: skip
