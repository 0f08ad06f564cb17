"""Self-improvement (the Qwen2.5-Math recipe): rejection-sampled training data from a policy's
own samples, decontaminated against evaluation sets. The improvement loop, difficulty mixing
and the reward model are to come (issues 15, 16)."""

from .decontam import EvalText, Index, decontaminate
from .rft import RFTConfig, rft_rows

__all__ = ["EvalText", "Index", "RFTConfig", "decontaminate", "rft_rows"]
