"""Self-improvement (the Qwen2.5-Math recipe): rejection-sampled training data from a policy's
own samples, decontaminated against evaluation sets, mixed across difficulty, and the loop
that does it round after round (``run_loop``). The reward model is to come."""

from .decontam import EvalText, Index, decontaminate
from .difficulty import PassRatePredictor, balanced_mix, pass_rate
from .config import LoopConfig
from .loop import run_loop
from .rft import RFTConfig, rft_rows

__all__ = ["EvalText", "Index", "LoopConfig", "PassRatePredictor", "RFTConfig", "balanced_mix", "decontaminate", "pass_rate", "rft_rows", "run_loop"]
