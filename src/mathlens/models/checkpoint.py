"""Checkpoint files of the tiny GPT: written atomically, read with errors that name the file."""

from __future__ import annotations

import os
from pathlib import Path

import torch

from ..errors import MathlensError
from .device import resolve_device
from .gpt import GPT, GPTConfig
from .tokenizer import CharTokenizer

CHECKPOINT = "ckpt.pt"


def save_checkpoint(path: Path, state: dict) -> None:
    """Write then rename, so a kill mid-save never leaves a broken checkpoint."""
    tmp = path.with_suffix(".tmp")
    torch.save(state, tmp)
    os.replace(tmp, path)


def load_checkpoint(path: str | Path) -> dict:
    path = Path(path)
    if path.is_dir():
        path = path / CHECKPOINT
    try:
        return torch.load(path, map_location="cpu", weights_only=False)
    except FileNotFoundError:
        raise MathlensError(f"{path}: no checkpoint there") from None
    except Exception as err:  # a truncated or foreign file: say which
        raise MathlensError(f"{path}: not a readable checkpoint ({type(err).__name__}: {err})") from None


def load_model(path: str | Path, device: str = "cpu") -> tuple[GPT, CharTokenizer, dict]:
    """Model in eval mode on ``device`` (auto, cpu, cuda), its tokenizer, and the checkpoint's
    ``extra`` (task, split, …)."""
    state = load_checkpoint(path)
    try:
        config = GPTConfig.from_dict(state["model_config"])  # flat in older run folders: read too
    except (TypeError, MathlensError) as err:
        raise MathlensError(f"{path}: not a model config this version reads ({err})") from None
    model = GPT(config)
    model.load_state_dict(state["model"])
    model.to(resolve_device(device)).eval()
    return model, CharTokenizer.from_dict(state["tokenizer"]), state.get("extra", {})
