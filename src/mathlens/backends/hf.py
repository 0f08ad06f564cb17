"""Hugging Face transformers: batched sampling from a local or hub causal LM (an extra)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..errors import MathlensError
from ..models.hf import ModelArgs, load_causal_lm
from .base import BackendBase, Completion, Sampling, cut_at_stop
from .scoring import Scorer


class HFBackend(BackendBase):
    name = "hf"

    def __init__(
        self, model: str, batch_size: int = 8, device: str | None = None, model_args: ModelArgs | str | None = None
    ) -> None:
        if batch_size < 1:
            raise MathlensError(f"batch size {batch_size}: at least 1")
        self.model, self.tokenizer = load_causal_lm(model, device, model_args)
        self.batch_size = batch_size

    def generate(self, prompts: list[str], sampling: Sampling, keys: Sequence[str] | None = None) -> list[list[str]]:
        """``keys`` are accepted for the common contract; transformers seeds per call, not per sample."""
        return generate_batched(self.model, self.tokenizer, prompts, sampling, self.batch_size)

    @property
    def scorer(self) -> Scorer:
        """Token access for ``serve``, from the model's own tokenizer and position limit."""
        tok, model, config = self.tokenizer, self.model, self.model.config
        limit = getattr(config, "max_position_embeddings", None) or getattr(config, "n_positions", None)
        return Scorer(
            encode=lambda text: tok(text, add_special_tokens=False)["input_ids"],
            decode=lambda ids: tok.decode(list(ids), skip_special_tokens=False),
            token_text=lambda i: tok.decode([i]),
            logits=lambda ids: model(input_ids=ids).logits,
            context_length=limit,
            device=model.device,
            specials={k: getattr(tok, k, None) for k in ("eos_token", "bos_token", "pad_token")},
        )


class StopAtStrings:
    """A stopping criterion: a row is done once its new text holds a stop string.

    transformers' own ``stop_strings`` builds a table from the whole vocabulary and fails on
    tokenizers whose tokens do not rejoin as text (a character-level WordLevel one does not);
    decoding each row's recent tokens works with any tokenizer, at a cost a step's forward
    pass dwarfs."""

    def __init__(self, tokenizer: Any, stop: Sequence[str], prompt_length: int) -> None:
        self.tokenizer, self.stop, self.prompt_length = tokenizer, tuple(stop), prompt_length
        self.window = 2 * max(len(s) for s in stop) + 8  # tokens: each holds at least half a character here

    def __call__(self, input_ids: Any, scores: Any, **_: Any) -> Any:
        import torch

        new = input_ids[:, self.prompt_length :][:, -self.window :]
        texts = self.tokenizer.batch_decode(new, skip_special_tokens=True)
        return torch.tensor([any(s in t for s in self.stop) for t in texts], device=input_ids.device)


def by_length(encoded: list[list[int]]) -> list[int]:
    """Indices of the encoded texts longest first: batches of like lengths pad little (a CPU
    spends its time on every padded position), and the longest batch runs first, so a prompt
    too long for the model's context fails at once."""
    return sorted(range(len(encoded)), key=lambda i: -len(encoded[i]))


def _end_ids(tokenizer: Any, model: Any) -> set[int]:
    """The ids that end a row: the generation config's end-of-text ids, the tokenizer's, padding."""
    ends = getattr(model.generation_config, "eos_token_id", None)
    ends = set(ends if isinstance(ends, list) else [ends]) | {tokenizer.eos_token_id, tokenizer.pad_token_id}
    return {e for e in ends if e is not None}


def _completion(text: str, new_ids: list[int], ends: set[int], tokenizer: Any, sampling: Sampling) -> Completion:
    """A row's text cut after its first stop string (kept: TIR reads its output fence), why it
    ended and the tokens it took: up to its end-of-text, or its stop string's re-encoded length."""
    cut = cut_at_stop(text, sampling.stop, keep=True)
    written = next((i for i, t in enumerate(new_ids) if t in ends), None)
    if len(cut) < len(text) or any(s in text for s in sampling.stop):
        return Completion(cut, "stop", len(tokenizer(cut, add_special_tokens=False)["input_ids"]))
    if written is not None:
        return Completion(cut, "stop", written + 1)
    return Completion(cut, "length" if len(new_ids) >= sampling.max_tokens else "stop", len(new_ids))


def generate_batched(
    model: Any, tokenizer: Any, texts: list[str], sampling: Sampling, batch_size: int
) -> list[list[str]]:
    """``sampling.n`` continuations per text, in order, each cut after its first stop string.
    Texts are batched by token length; greedy text is what ``model.generate`` gives each batch."""
    import torch

    torch.manual_seed(sampling.seed)
    encoded = tokenizer(texts, add_special_tokens=False)["input_ids"] if texts else []  # once, for order and batches
    order = by_length(encoded)
    results: dict[int, list[str]] = {}
    limit = getattr(model.config, "max_position_embeddings", None) or getattr(model.config, "n_positions", None)
    options: dict[str, Any] = {"max_new_tokens": sampling.max_tokens, "pad_token_id": tokenizer.pad_token_id}
    if sampling.temperature > 0:
        options |= {"do_sample": True, "temperature": sampling.temperature, "top_p": sampling.top_p}
    else:  # greedy, whatever sampling settings the model's generation config carries
        options |= {"do_sample": False, "temperature": None, "top_p": None, "top_k": None}
    ends = _end_ids(tokenizer, model)
    drawn = sampling.n if sampling.temperature > 0 else 1  # greedy: one text, the same n times (as tiny does)
    for i in range(0, len(order), batch_size):
        picked = order[i : i + batch_size]
        batch = tokenizer.pad({"input_ids": [encoded[j] for j in picked]}, padding=True, return_tensors="pt")
        batch = batch.to(model.device)
        asked = batch["input_ids"].size(1) + sampling.max_tokens
        if limit and asked > limit:  # past its positions a model fails deep inside with an index error
            raise MathlensError(
                f"the model's context is {limit} tokens; a prompt of {batch['input_ids'].size(1)} and "
                f"{sampling.max_tokens} new tokens need {asked} (fewer shots or --max-tokens)"
            )
        # A batch ends once every row has met a stop (each is cut below all the same).
        stops = [StopAtStrings(tokenizer, sampling.stop, batch["input_ids"].size(1))] if sampling.stop else None
        with torch.inference_mode():
            ids = model.generate(**batch, num_return_sequences=drawn, stopping_criteria=stops, **options)
        new = ids[:, batch["input_ids"].size(1) :]
        decoded = tokenizer.batch_decode(new, skip_special_tokens=True)
        decoded = [_completion(t, row, ends, tokenizer, sampling) for t, row in zip(decoded, new.tolist())]
        for k, j in enumerate(picked):
            results[j] = decoded[k * drawn : (k + 1) * drawn] * (sampling.n // drawn)
    return [results[j] for j in range(len(texts))]
