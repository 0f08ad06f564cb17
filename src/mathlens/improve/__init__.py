"""Self-improvement (the Qwen2.5-Math recipe): rejection-sampled training data from a policy's
own samples, decontaminated against evaluation sets, mixed across difficulty. The improvement
loop and the reward model are to come."""

from .decontam import EvalText, Index, decontaminate
from .difficulty import PassRatePredictor, balanced_mix, pass_rate
from .rft import RFTConfig, rft_rows

__all__ = ["EvalText", "Index", "PassRatePredictor", "RFTConfig", "balanced_mix", "decontaminate", "pass_rate", "rft_rows"]
