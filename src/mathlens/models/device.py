"""Where the tiny GPT runs: ``auto`` takes a GPU when there is one."""

from __future__ import annotations

import torch

from ..errors import MathlensError

DEVICES = ("auto", "cpu", "cuda")


def resolve_device(name: str = "auto") -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name not in DEVICES:
        raise MathlensError(f"device {name!r}: choose {', '.join(DEVICES)}")
    if name == "cuda" and not torch.cuda.is_available():
        raise MathlensError("device 'cuda' asked for, but torch sees no GPU here")
    return torch.device(name)
