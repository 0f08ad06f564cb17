"""Hugging Face causal LMs: loading by hub id or folder (transformers is an extra, imported lazily)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..errors import MathlensError


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

    looks_local = name_or_path.startswith((".", "/", "~")) or Path(name_or_path).suffix != ""
    if looks_local and not Path(name_or_path).expanduser().exists():
        raise MathlensError(f"{name_or_path}: no such folder")
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


def save_random_char_gpt2(
    path: str | Path,
    n_embd: int = 64,
    n_layer: int = 2,
    n_head: int = 2,
    n_positions: int = 256,
    init_range: float = 0.02,
) -> Path:
    """A randomly initialised GPT-2 over single characters, saved as any hub model is: lets the
    Hugging Face paths (finetune, the hf backend, lengthgen --model) run where no hub can be reached."""
    import string

    from tokenizers import Regex, Tokenizer, models, pre_tokenizers

    transformers = require_transformers()
    chars = string.ascii_letters + string.digits + string.punctuation + " \n"
    vocab = {"<pad>": 0, "<eos>": 1, "<unk>": 2, **{c: i + 3 for i, c in enumerate(chars)}}
    core = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    core.pre_tokenizer = pre_tokenizers.Split(Regex("."), behavior="isolated")
    tokenizer = transformers.PreTrainedTokenizerFast(
        tokenizer_object=core, pad_token="<pad>", eos_token="<eos>", unk_token="<unk>"
    )
    config = transformers.GPT2Config(
        vocab_size=len(vocab),
        n_positions=n_positions,
        n_embd=n_embd,
        n_layer=n_layer,
        n_head=n_head,
        bos_token_id=1,
        eos_token_id=1,
        pad_token_id=0,
        initializer_range=init_range,
    )
    transformers.GPT2LMHeadModel(config).save_pretrained(path)
    tokenizer.save_pretrained(path)
    return Path(path)
