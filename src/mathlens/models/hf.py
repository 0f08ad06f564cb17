"""Hugging Face models: loading by hub id, folder, .gguf file or packaged name, with the
loading options lm-evaluation-harness users pass (transformers is an extra, imported lazily)."""

from __future__ import annotations

import os
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from ..errors import MathlensError
from .sources import HUB, is_hub_id, resolve_source


def require_transformers() -> Any:
    try:
        import transformers
    except ImportError:
        raise MathlensError("this needs transformers: pip install 'mathlens[finetune]'") from None
    return transformers


@dataclass(frozen=True)
class ModelArgs:
    """How a Hugging Face model is loaded (``--model-args``, lm-evaluation-harness's form:
    ``dtype=bfloat16,revision=main,device_map=auto,trust_remote_code=true``).

    ``dtype`` auto is bf16 on a GPU that has it, fp32 elsewhere (a CPU runs bf16 slowly and
    fp16 not at all); ``cache`` is where .gguf files are converted to (``models.sources``)."""

    dtype: str = "auto"  # auto, float32, bfloat16, float16 (fp32, bf16, fp16)
    revision: str | None = None
    device_map: str | None = None  # e.g. auto: accelerate spreads the layers over the GPUs
    trust_remote_code: bool = False
    attn_implementation: str | None = None  # eager, sdpa, flash_attention_2
    cache: str | None = None

    @classmethod
    def parse(cls, text: str | None) -> ModelArgs:
        """``key=value,key=value``; an unknown key or a bad value is one line naming it."""
        if isinstance(text, ModelArgs):
            return text
        known = {f.name for f in fields(cls)}
        values: dict[str, Any] = {}
        for item in filter(None, (part.strip() for part in (text or "").split(","))):
            key, eq, value = item.partition("=")
            key = key.strip()
            if not eq or key not in known:
                raise MathlensError(f"--model-args {item!r}: expected key=value with key one of {', '.join(sorted(known))}")
            if key == "trust_remote_code":
                if value.lower() not in ("true", "false", "1", "0"):
                    raise MathlensError(f"--model-args trust_remote_code={value!r}: true or false")
                values[key] = value.lower() in ("true", "1")
            else:
                values[key] = value.strip()
        args = cls(**values)
        if args.dtype not in DTYPES:
            raise MathlensError(f"--model-args dtype={args.dtype!r}: one of {', '.join(DTYPES)}")
        return args

    def torch_dtype(self, device: str | None = None) -> Any:
        """The weights' dtype; auto looks at where they go (``device``; None: the GPU if any)."""
        import torch

        if self.dtype == "auto":
            on_gpu = torch.cuda.is_available() and not str(device or "cuda").startswith("cpu")
            return torch.bfloat16 if on_gpu and torch.cuda.is_bf16_supported() else torch.float32
        return getattr(torch, DTYPES[self.dtype])

    def loading(self, device: str | None = None) -> dict[str, Any]:
        """Keyword arguments for ``from_pretrained`` (the model's; the tokenizer takes the first two)."""
        options: dict[str, Any] = {"revision": self.revision, "trust_remote_code": self.trust_remote_code}
        options["dtype"] = self.torch_dtype(device)
        if self.device_map:
            options["device_map"] = self.device_map
        if self.attn_implementation:
            options["attn_implementation"] = self.attn_implementation
        return {k: v for k, v in options.items() if v is not None}


DTYPES = {"auto": "auto", "float32": "float32", "fp32": "float32", "bfloat16": "bfloat16", "bf16": "bfloat16",
          "float16": "float16", "fp16": "float16"}  # fmt: skip


def from_pretrained(auto_class: Any, name: str, args: ModelArgs, device: str | None = None, **extra: Any) -> tuple[Any, Any]:
    """Model (of ``auto_class``) and tokenizer from whatever ``name`` is (``resolve_source``),
    with a hub id that cannot be had reported as such: offline, not cached, or not on the hub."""
    transformers = require_transformers()
    source = resolve_source(name, args.cache)
    options = args.loading(device)
    try:
        tokenizer = transformers.AutoTokenizer.from_pretrained(
            source, revision=args.revision, trust_remote_code=args.trust_remote_code
        )
        model = auto_class.from_pretrained(source, **options, **extra)
    except OSError as err:
        if source == name and is_hub_id(name):
            offline = os.environ.get("HF_HUB_OFFLINE", "") not in ("", "0", "false")
            why = "HF_HUB_OFFLINE is set" if offline else "the hub could not be reached or has no such model"
            raise MathlensError(
                f"{name}: a hub id that is not in the local Hugging Face cache, and {HUB} could not give it "
                f"({why}: {str(err).splitlines()[0][:200]}); download it where the hub is reachable "
                "(HF_HUB_OFFLINE=0) or pass a local folder or .gguf"
            ) from None
        raise MathlensError(f"{name}: cannot load it ({str(err).splitlines()[0]})") from None
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return model, tokenizer


def load_causal_lm(name_or_path: str, device: str | None = None, args: ModelArgs | str | None = None) -> tuple[Any, Any]:
    """Model and tokenizer by hub id, folder, .gguf file or packaged name; pad token set, left
    padding for generation, on ``device`` (default: the GPU if any) unless ``device_map`` places it."""
    transformers = require_transformers()
    import torch

    args = ModelArgs.parse(args)
    model, tokenizer = from_pretrained(transformers.AutoModelForCausalLM, name_or_path, args, device)
    tokenizer.padding_side = "left"
    if not args.device_map:
        model.to(device or ("cuda" if torch.cuda.is_available() else "cpu"))
    return model.eval(), tokenizer


def prompt_text(tokenizer: Any, user: str, chat_template: str = "auto") -> str:
    """The text a model is prompted with for one user turn (``backends.chat.render``)."""
    from ..backends.chat import render

    return render([{"role": "user", "content": user}], tokenizer, chat_template)


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
