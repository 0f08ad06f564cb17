"""Hugging Face causal LMs: loading and batched greedy generation (transformers is an extra).

Imported lazily by the verbs that need it, so the core installs and runs without transformers.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .errors import MathlensError


def require_transformers() -> Any:
    try:
        import transformers
    except ImportError:
        raise MathlensError("this needs transformers: pip install 'mathlens[finetune]'") from None
    return transformers


def load_causal_lm(name_or_path: str, device: str | None = None) -> tuple[Any, Any]:
    """Model and tokenizer by hub id or local folder; pad token set, left padding for generation."""
    transformers = require_transformers()
    import torch

    try:
        tokenizer = transformers.AutoTokenizer.from_pretrained(name_or_path)
        model = transformers.AutoModelForCausalLM.from_pretrained(name_or_path)
    except OSError as err:
        raise MathlensError(f"{name_or_path}: cannot load a causal LM ({err})") from None
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    tokenizer.padding_side = "left"
    model.to(device or ("cuda" if torch.cuda.is_available() else "cpu"))
    return model, tokenizer


def prompt_text(tokenizer: Any, user: str) -> str:
    """The text a model is prompted with: its chat template where it has one, else the text."""
    if getattr(tokenizer, "chat_template", None):
        return tokenizer.apply_chat_template(
            [{"role": "user", "content": user}], tokenize=False, add_generation_prompt=True
        )
    return user


def generate_batched(model: Any, tokenizer: Any, texts: list[str], sampling: Any, batch_size: int) -> list[list[str]]:
    """``sampling.n`` continuations per text (``backends.Sampling``), each cut after its first stop string."""
    import torch

    from .backends.base import cut_at_stop

    torch.manual_seed(sampling.seed)
    out: list[list[str]] = []
    for i in range(0, len(texts), batch_size):
        batch = tokenizer(texts[i : i + batch_size], return_tensors="pt", padding=True, add_special_tokens=False).to(
            model.device
        )
        options: dict[str, Any] = {"max_new_tokens": sampling.max_tokens, "pad_token_id": tokenizer.pad_token_id}
        if sampling.temperature > 0:
            options |= {"do_sample": True, "temperature": sampling.temperature, "top_p": sampling.top_p}
        else:
            options |= {"do_sample": False}
        with torch.inference_mode():
            ids = model.generate(**batch, num_return_sequences=sampling.n, **options)
        decoded = tokenizer.batch_decode(ids[:, batch["input_ids"].size(1) :], skip_special_tokens=True)
        # The stop is kept: TIR reads its output fence.
        decoded = [cut_at_stop(t, sampling.stop, keep=True) for t in decoded]
        out += [decoded[j : j + sampling.n] for j in range(0, len(decoded), sampling.n)]
    return out


def greedy_generator(
    model: Any, tokenizer: Any, max_new_tokens: int, batch_size: int = 16
) -> Callable[[list[str]], list[str]]:
    """A ``texts → continuations`` function (what TIR's tool loop and the evaluations call)."""
    from .backends.base import Sampling

    greedy = Sampling(max_tokens=max_new_tokens)
    return lambda texts: [c[0] for c in generate_batched(model, tokenizer, texts, greedy, batch_size)]
